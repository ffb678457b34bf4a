package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.transforms.io.OutputLease;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume and provenance on local files (DirectRunner): {@code --resume} with other weights under
 * the same name, another version or another precision stops before writing (exit 2); damaged and
 * missing images are made again with the same bytes and counted; a held lease stops a second job, a
 * stale one is taken over; every run is kept in {@code runs/} and listed in the report.
 */
class ResumeTrustTest {

  @TempDir static Path sandbox;
  static String model;
  static String sameNameOtherWeights;
  static String otherVersion;
  static Path requests;

  @BeforeAll
  static void fixtures() throws IOException {
    model = JobFixtures.model(sandbox.resolve("model"));
    ModelManifest manifest = TestModels.manifest(TestModels.TINY, 3);
    sameNameOtherWeights = writePackage(sandbox.resolve("other-weights"), manifest, 4);
    otherVersion =
        writePackage(
            sandbox.resolve("other-version"),
            manifest.toBuilder().setVersion("seed-3b").build(),
            3);
    requests = Files.createDirectories(sandbox.resolve("requests")).resolve("r.jsonl");
    Files.writeString(
        requests,
        "{\"request_id\":\"a\",\"class_id\":1,\"num_images\":5,\"tier_name\":\"draft\"}\n");
  }

  private static String writePackage(Path dir, ModelManifest manifest, long weightsSeed)
      throws IOException {
    try (NDManager manager = NDManager.newBaseManager()) {
      OdeltNetwork network = new OdeltNetwork(TestModels.TINY);
      network.initialize(manager, weightsSeed, OdeltNetwork.Init.RANDOM);
      ModelPackages.write(dir, manifest, network);
      return ModelPackages.manifestIn(dir);
    }
  }

  private static JobFixtures.Run job(Path output, String... more) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "--requests=" + requests,
                "--output=" + output,
                "--device=cpu",
                "--runner=DirectRunner",
                "--maxBatchSize=4"));
    args.addAll(List.of(more));
    if (args.stream().noneMatch(a -> a.startsWith("--model="))) {
      args.add("--model=" + model);
    }
    return JobFixtures.cli(args.toArray(new String[0]));
  }

  @Test
  void recordsAndRunJsonSayWhatMadeTheImages() throws IOException {
    Path out = sandbox.resolve("provenance-out");
    JobFixtures.Run run = job(out);
    assertEquals(GenerateJob.EXIT_OK, run.exitCode(), run.console());
    RunSummary summary = GenerateJob.readSummary(out.toString());
    String digest = dev.odelt.transforms.io.Hashes.sha256(Files.readAllBytes(Path.of(model)));
    assertEquals(digest, summary.getModelDigest());
    assertEquals("fp32", summary.getPrecision());
    assertEquals("cpu", summary.getDeviceKind());
    assertFalse(summary.getJobVersion().isEmpty());
    assertFalse(summary.getJobVersion().contains("${"), summary.getJobVersion());
    for (ImageRecord r : GenerateJobFlinkTest.records(out)) {
      assertEquals(digest, r.getModelDigest());
      assertEquals("fp32", r.getPrecision());
      assertEquals(summary.getJobVersion(), r.getJobVersion());
    }
    assertFalse(Files.exists(out.resolve(OutputLease.LEASE_JSON)), "the lease is removed");
  }

  @Test
  void resumeWithAnotherModelOrPrecisionStopsBeforeWriting() throws IOException {
    Path out = sandbox.resolve("conflict-out");
    assertEquals(GenerateJob.EXIT_OK, job(out).exitCode());
    Map<String, String> before = JobFixtures.tree(out, "");
    List<List<String>> others =
        List.of(
            List.of("--model=" + sameNameOtherWeights),
            List.of("--model=" + otherVersion),
            List.of("--precision=bf16"));
    List<String> named = List.of("model digest", "model digest", "precision bf16");
    for (int i = 0; i < others.size(); i++) {
      List<String> args = new java.util.ArrayList<>(others.get(i));
      args.add("--resume");
      JobFixtures.Run refused = job(out, args.toArray(new String[0]));
      assertEquals(GenerateJob.EXIT_USAGE, refused.exitCode(), refused.console());
      assertTrue(refused.console().contains(named.get(i)), refused.console());
      assertTrue(refused.console().contains("new --output"), refused.console());
      assertEquals(before, JobFixtures.tree(out, ""), "nothing was written");
    }
    JobFixtures.Run same = job(out, "--resume");
    assertEquals(GenerateJob.EXIT_OK, same.exitCode(), same.console());
    assertEquals(5, GenerateJob.readSummary(out.toString()).getImagesResumed());
  }

  @Test
  void resumeRepairsDamagedImagesAndKeepsTheHistory() throws IOException {
    Path out = sandbox.resolve("repair-out");
    assertEquals(GenerateJob.EXIT_OK, job(out).exitCode());
    Map<String, String> images = JobFixtures.tree(out, "images");
    Path dir = out.resolve("images/s2-b2/a");
    byte[] whole = Files.readAllBytes(dir.resolve("0.png"));
    // Written in place (same file, its metadata kept), as a partial copy or a disk fault would.
    Files.write(dir.resolve("0.png"), Arrays.copyOf(whole, whole.length / 2));
    Files.write(dir.resolve("1.png"), "garbage".getBytes(StandardCharsets.UTF_8));
    Files.delete(dir.resolve("2.png"));

    JobFixtures.Run again = job(out, "--resume");
    assertEquals(GenerateJob.EXIT_OK, again.exitCode(), again.console());
    assertTrue(again.console().contains("images/s2-b2/a/0.png"), again.console());
    RunSummary summary = GenerateJob.readSummary(out.toString());
    assertEquals(2, summary.getImagesRepaired());
    assertEquals(3, summary.getImagesGenerated(), "two repaired and one missing");
    assertEquals(2, summary.getImagesResumed());
    assertEquals(
        List.of("images/s2-b2/a/0.png", "images/s2-b2/a/1.png"), summary.getRepairedPathsList());
    assertEquals(images, JobFixtures.tree(out, "images"), "the same bytes as the originals");
    assertEquals(
        2, GenerateJobFlinkTest.records(out).stream().filter(ImageRecord::getRepaired).count());
    String tiers = Files.readString(out.resolve("accounting/tiers.json"));
    assertTrue(tiers.contains("\"images_repaired\": \"2\""), tiers);

    try (var runs = Files.list(out.resolve("runs"))) {
      assertEquals(2, runs.count(), "one runs/<started>.json per run");
    }
    String report = Files.readString(out.resolve("report.html"));
    assertTrue(report.contains("id=\"runs\""), report);
  }

  @Test
  void aHeldOutputStopsASecondJobAndAStaleLeaseIsTakenOver() throws Exception {
    Path out = sandbox.resolve("lease-out");
    Duration stale = Duration.ofSeconds(600);
    try (OutputLease held =
        OutputLease.acquire(out.toString(), "other-run", "other-host", stale, Clock.systemUTC())) {
      assertTrue(held.tookOverFrom().isEmpty());
      JobFixtures.Run second = job(out);
      assertEquals(GenerateJob.EXIT_USAGE, second.exitCode(), second.console());
      assertTrue(
          second.console().contains("is in use by run other-run on other-host"), second.console());
      assertFalse(Files.exists(out.resolve("images")), "the second job wrote nothing");
    }
    Clock anHourAgo = Clock.fixed(Instant.now().minus(Duration.ofHours(1)), ZoneOffset.UTC);
    OutputLease.acquire(out.toString(), "dead-run", "dead-host", stale, anHourAgo);
    JobFixtures.Run next = job(out);
    assertEquals(GenerateJob.EXIT_OK, next.exitCode(), next.console());
    assertFalse(Files.exists(out.resolve(OutputLease.LEASE_JSON)));
  }
}
