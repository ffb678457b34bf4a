package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The application-mode entry point reports outcomes by returning or throwing, never exiting. */
class ApplicationMainTest {

  @TempDir Path sandbox;

  @Test
  void badOptionsThrowInsteadOfExiting() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> ApplicationMain.main(new String[] {"--requests=" + sandbox + "/none/*.jsonl"}));
    assertEquals(true, e.getMessage().contains("exit code " + GenerateJob.EXIT_USAGE), e.getMessage());
  }

  @Test
  void aRunWithRejectedInputReturnsNormally() throws IOException {
    String model = JobFixtures.model(sandbox.resolve("model"));
    Path in = Files.createDirectories(sandbox.resolve("in"));
    Files.writeString(
        in.resolve("r.jsonl"),
        "{\"request_id\":\"a\",\"class_id\":1,\"num_images\":2}\n{\"request_id\":\"b\",\"class_id\":99}\n");
    Path out = sandbox.resolve("out");
    assertDoesNotThrow(
        () ->
            ApplicationMain.main(
                new String[] {
                  "--requests=" + in + "/*.jsonl",
                  "--output=" + out,
                  "--model=" + model,
                  "--device=cpu",
                  "--runner=DirectRunner",
                  "--maxBatchSize=4"
                }));
    assertEquals(2, JobFixtures.tree(out, "images").size());
  }
}
