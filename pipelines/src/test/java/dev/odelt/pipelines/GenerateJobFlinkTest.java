package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end on embedded Flink with a tiny random model. */
class GenerateJobFlinkTest {

  @TempDir static Path sandbox;
  static String model;
  static Path requests;

  @BeforeAll
  static void fixtures() throws IOException {
    model = JobFixtures.model(sandbox.resolve("model"));
    requests = JobFixtures.manifests(sandbox.resolve("requests"));
  }

  private static JobFixtures.Run run(String output, int parallelism, int batch) {
    return JobFixtures.cli(
        "--requests=" + requests + "/*.jsonl," + requests + "/*.{csv,txt}",
        "--output=" + output,
        "--model=" + model,
        "--device=cpu",
        "--runner=FlinkRunner",
        "--parallelism=" + parallelism,
        "--maxBatchSize=" + batch,
        "--chunkSize=2",
        "--previewImages=4",
        "--recordShards=2");
  }

  @Test
  void endToEndOnEmbeddedFlinkIsDeterministicAcrossBatchSizeAndParallelism() throws IOException {
    Set<String> before = everything(sandbox);
    Path one = sandbox.resolve("out-p1-b1");
    Path two = sandbox.resolve("out-p2-b16");
    JobFixtures.Run first = run(one.toString(), 1, 1);
    assertEquals(GenerateJob.EXIT_REJECTS, first.exitCode(), first.console());
    JobFixtures.Run second = run(two.toString(), 2, 16);
    assertEquals(GenerateJob.EXIT_REJECTS, second.exitCode(), second.console());
    assertTrue(second.console().contains("s2-b4"), second.console());
    assertTrue(second.console().contains("3 input(s) rejected"), second.console());

    Map<String, String> images = JobFixtures.tree(one, "images");
    assertEquals(2 + 6 + 3 + 4 + 1, images.size(), images.keySet().toString());
    assertEquals(images, JobFixtures.tree(two, "images"));
    assertTrue(images.containsKey("images/s2-b4/sevens/1.png"));
    assertTrue(images.containsKey("images/s1-b2-g2/guided/2.png"));
    assertTrue(images.containsKey("images/s2-b2/b-2/3.png"));
    assertTrue(images.containsKey("images/s4-b4/c-1/0.png"));
    assertEquals(withoutTimes(records(one)), withoutTimes(records(two)));
    assertEquals(JobFixtures.tree(one, "previews"), JobFixtures.tree(two, "previews"));
    assertEquals(JobFixtures.tree(one, "errors"), JobFixtures.tree(two, "errors"));

    // Accounting totals equal the images written; records list every image once.
    RunSummary summary = GenerateJob.readSummary(two.toString());
    assertEquals(images.size(), summary.getImages());
    assertEquals(images.size(), summary.getImagesGenerated());
    assertEquals(
        images.size(), summary.getTiersList().stream().mapToLong(TierAccount::getImages).sum());
    assertEquals(5, summary.getRequestsAccepted());
    assertEquals(3, summary.getRejects());
    assertEquals(
        Map.of("CLASS_OUT_OF_RANGE", 1L, "UNSAFE_TAG", 1L, "UNRESOLVED_PROMPT", 1L),
        summary.getRejectsByReasonMap());
    assertTrue(summary.getDeviceSeconds() > 0);
    // Parallelism 2 leaves a partial batch per shard; they are repacked to the fewest batches.
    for (TierAccount t : summary.getTiersList()) {
      assertEquals((t.getImagesGenerated() + 15) / 16, t.getBatches(), t.getTierLabel());
    }
    List<ImageRecord> records = records(two);
    assertEquals(images.size(), records.size());
    for (ImageRecord r : records) {
      assertEquals(images.get(r.getImagePath()), r.getSha256());
      assertEquals(8, r.getWidth());
      assertEquals("test-random", r.getModelName());
    }
    assertEquals(
        summary.getTiersList().stream().map(TierAccount::getTierLabel).collect(Collectors.toSet()),
        JobFixtures.tree(two, "previews").keySet().stream()
            .map(p -> p.substring("previews/".length(), p.length() - ".png".length()))
            .collect(Collectors.toSet()));
    assertEquals(3, JobFixtures.shardLines(two, "errors/dead-letters-*.jsonl").size());
    assertEquals(5, JobFixtures.shardLines(two, "accounting/requests-*.jsonl").size());
    assertEquals(
        summary.getTiersCount() + 1,
        Files.readAllLines(two.resolve("accounting/tiers.csv")).size());

    // Nothing was written outside the two output roots.
    Set<String> after = everything(sandbox);
    after.removeAll(before);
    after.removeIf(
        p ->
            p.equals(one.toString())
                || p.equals(two.toString())
                || p.startsWith(one + "/")
                || p.startsWith(two + "/"));
    assertEquals(Set.of(), after);
  }

  static List<ImageRecord> records(Path output) throws IOException {
    List<ImageRecord> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(output.resolve("records"))) {
      for (Path f : files.sorted().collect(Collectors.toList())) {
        for (String line : Files.readAllLines(f)) {
          ImageRecord.Builder b = ImageRecord.newBuilder();
          JsonFormat.parser().merge(line, b);
          out.add(b.build());
        }
      }
    }
    return out;
  }

  /** Records without the measured device seconds (the only field that may differ). */
  static List<ImageRecord> withoutTimes(List<ImageRecord> records) {
    return records.stream()
        .map(r -> r.toBuilder().clearDeviceSeconds().build())
        .collect(Collectors.toList());
  }

  static Set<String> everything(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.map(Path::toString).collect(Collectors.toCollection(java.util.HashSet::new));
    }
  }
}
