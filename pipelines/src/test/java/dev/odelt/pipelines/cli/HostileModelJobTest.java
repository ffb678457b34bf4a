package dev.odelt.pipelines.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.testing.TestModels;
import dev.odelt.pipelines.GenerateJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bad model package is a usage error: the job checks it before its pipeline starts and exits 2
 * with one line naming the file and the reason, writing nothing (issue 30).
 */
class HostileModelJobTest {

  @TempDir Path dir;

  private CliTest.Run job(UnaryOperator<String> manifestEdit, String weightsEdit) throws Exception {
    Path pkg = dir.resolve("pkg");
    TestModels.writeRandomPackage(pkg, TestModels.TINY, 5);
    Path manifest = pkg.resolve(ModelPackages.MANIFEST);
    Files.writeString(manifest, manifestEdit.apply(Files.readString(manifest)));
    if (weightsEdit != null) {
      Path weights = pkg.resolve(ModelPackages.WEIGHTS);
      byte[] bytes = Files.readAllBytes(weights);
      bytes[bytes.length - 1] ^= 1;
      Files.write(weights, bytes);
    }
    Path requests = Files.writeString(dir.resolve("r.jsonl"), "{\"request_id\": \"a\"}\n");
    return CliTest.cli(
        "--requests=" + requests, "--output=" + dir.resolve("out"), "--model=" + manifest);
  }

  private void assertRefused(CliTest.Run run, String expected) {
    assertEquals(GenerateJob.EXIT_USAGE, run.exitCode(), run.console());
    assertTrue(run.console().contains(expected), run.console());
    assertFalse(run.console().contains("\tat "), run.console());
    assertFalse(Files.exists(dir.resolve("out")));
  }

  @Test
  void corruptWeightsAreRefusedBeforeThePipelineStarts() throws Exception {
    assertRefused(job(m -> m, "flip"), "sha256 is");
  }

  @Test
  void aPresetBeyondTheStepLimitIsRefused() throws Exception {
    assertRefused(
        job(m -> m.replaceFirst("\"steps\": \\d+", "\"steps\": 1073741824"), null),
        "steps is 1073741824, the limit is 1 to 1024");
  }

  @Test
  void weightsOutsideThePackageAreRefused() throws Exception {
    assertRefused(
        job(
            m -> m.replace("\"file\": \"weights.safetensors\"", "\"file\": \"../w.safetensors\""),
            null),
        "weights.file must name a file inside the package");
  }
}
