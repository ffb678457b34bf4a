package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.RunSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI on the DirectRunner: resume, clean runs, and usage errors. */
class GenerateJobTest {

  @TempDir static Path sandbox;
  static String model;

  @BeforeAll
  static void fixtures() {
    model = JobFixtures.model(sandbox.resolve("model"));
  }

  private static JobFixtures.Run direct(String requests, Path output, String... more) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "--requests=" + requests,
                "--output=" + output,
                "--model=" + model,
                "--device=cpu",
                "--runner=DirectRunner",
                "--maxBatchSize=4"));
    args.addAll(List.of(more));
    return JobFixtures.cli(args.toArray(new String[0]));
  }

  @Test
  void cleanRunExitsZeroAndResumeRegeneratesOnlyWhatIsMissing() throws IOException {
    Path in = sandbox.resolve("clean");
    Files.createDirectories(in);
    Files.writeString(
        in.resolve("r.jsonl"),
        "{\"request_id\":\"a\",\"class_id\":1,\"num_images\":5,\"tier_name\":\"draft\"}\n"
            + "{\"request_id\":\"b\",\"prompt\":\"seven\",\"num_images\":3}\n");
    Path out = sandbox.resolve("clean-out");
    JobFixtures.Run first = direct(in + "/*.jsonl", out);
    assertEquals(GenerateJob.EXIT_OK, first.exitCode(), first.console());
    assertEquals(List.of(), JobFixtures.shardLines(out, "errors/dead-letters-*.jsonl"));
    Map<String, String> images = JobFixtures.tree(out, "images");
    Map<String, String> records = JobFixtures.tree(out, "records");
    assertEquals(8, images.size());

    Path kept = out.resolve("images/s2-b2/a/0.png");
    FileTime keptTime = FileTime.fromMillis(1_000_000L);
    Files.setLastModifiedTime(kept, keptTime);
    Files.delete(out.resolve("images/s2-b2/a/3.png"));
    Files.delete(out.resolve("images/s4-b4/b/1.png"));
    JobFixtures.Run again = direct(in + "/*.jsonl", out, "--resume");
    assertEquals(GenerateJob.EXIT_OK, again.exitCode(), again.console());
    RunSummary summary = GenerateJob.readSummary(out.toString());
    assertEquals(2, summary.getImagesGenerated());
    assertEquals(6, summary.getImagesResumed());
    assertEquals(8, summary.getImages());
    assertEquals(images, JobFixtures.tree(out, "images"));
    assertEquals(keptTime, Files.getLastModifiedTime(kept), "resumed images are not rewritten");
    Map<String, String> recordsAgain = JobFixtures.tree(out, "records");
    assertEquals(records.keySet(), recordsAgain.keySet());
    assertNotEquals(records, recordsAgain, "resumed records carry resumed=true and no cost");
    long resumed = GenerateJobFlinkTest.records(out).stream().filter(r -> r.getResumed()).count();
    assertEquals(6, resumed);
  }

  @Test
  void bf16RunWritesTheSameImagesByNameAndRecordsItsPrecision() throws IOException {
    Path in = sandbox.resolve("bf16");
    Files.createDirectories(in);
    Files.writeString(
        in.resolve("r.jsonl"),
        "{\"request_id\":\"p\",\"class_id\":2,\"num_images\":3,\"tier_name\":\"draft\"}\n");
    Path fp32 = sandbox.resolve("fp32-out");
    Path bf16 = sandbox.resolve("bf16-out");
    JobFixtures.Run a = direct(in + "/r.jsonl", fp32);
    JobFixtures.Run b = direct(in + "/r.jsonl", bf16, "--precision=bf16");
    assertEquals(GenerateJob.EXIT_OK, a.exitCode(), a.console());
    assertEquals(GenerateJob.EXIT_OK, b.exitCode(), b.console());
    assertEquals(
        JobFixtures.tree(fp32, "images").keySet(), JobFixtures.tree(bf16, "images").keySet());
    assertEquals("fp32", GenerateJob.readSummary(fp32.toString()).getOptionsMap().get("precision"));
    assertEquals("bf16", GenerateJob.readSummary(bf16.toString()).getOptionsMap().get("precision"));
  }

  @Test
  void usageErrorsExitTwo() throws IOException {
    Path out = sandbox.resolve("usage-out");
    assertEquals(GenerateJob.EXIT_USAGE, JobFixtures.cli("--output=" + out).exitCode());
    JobFixtures.Run none = direct(sandbox + "/nothing/*.jsonl", out);
    assertEquals(GenerateJob.EXIT_USAGE, none.exitCode());
    assertTrue(none.console().contains("nothing matches"), none.console());
    Path in = sandbox.resolve("usage");
    Files.createDirectories(in);
    Files.writeString(in.resolve("r.jsonl"), "{\"class_id\":1}\n");
    JobFixtures.Run badModel =
        JobFixtures.cli(
            "--requests=" + in + "/r.jsonl",
            "--output=" + out,
            "--model=" + sandbox + "/no-model/manifest.json",
            "--runner=DirectRunner");
    assertEquals(GenerateJob.EXIT_USAGE, badModel.exitCode(), badModel.console());
    assertEquals(GenerateJob.EXIT_USAGE, direct(in + "/r.jsonl", out, "--chunkSize=0").exitCode());
    assertEquals(GenerateJob.EXIT_USAGE, direct(in + "/r.jsonl", out, "--device=tpu").exitCode());
    JobFixtures.Run badPrecision = direct(in + "/r.jsonl", out, "--precision=fp16");
    assertEquals(GenerateJob.EXIT_USAGE, badPrecision.exitCode(), badPrecision.console());
    assertTrue(badPrecision.console().contains("--precision"), badPrecision.console());
    Path file = Files.writeString(sandbox.resolve("a-file"), "x");
    JobFixtures.Run unwritable = direct(in + "/r.jsonl", file.resolve("out"));
    assertEquals(GenerateJob.EXIT_USAGE, unwritable.exitCode(), unwritable.console());
    assertTrue(unwritable.console().contains("--output"), unwritable.console());
    assertTrue(!Files.exists(out), "nothing is written for a usage error");
  }

  @Test
  void defaultsToEmbeddedFlink() {
    String[] args = GenerateJob.withDefaults(new String[] {"--requests=x"});
    assertTrue(List.of(args).contains("--runner=FlinkRunner"));
    assertTrue(List.of(args).contains("--useDataStreamForBatch=true"));
    assertEquals(
        List.of("--useDataStreamForBatch=false"),
        List.of(GenerateJob.withDefaults(new String[] {"--useDataStreamForBatch=false"})).stream()
            .filter(a -> a.startsWith("--useDataStreamForBatch"))
            .toList());
    assertEquals(
        List.of("--runner=DirectRunner"),
        List.of(
                GenerateJob.withDefaults(
                    new String[] {"--runner=DirectRunner", "--fasterCopy=false"}))
            .subList(0, 1));
  }
}
