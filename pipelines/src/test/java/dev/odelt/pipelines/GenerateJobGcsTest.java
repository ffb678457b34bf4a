package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.cloud.storage.contrib.nio.testing.LocalStorageHelper;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import dev.odelt.storage.gcs.GcsObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job with manifests and output on gs://, through the real GCS client on Google's in-memory
 * {@code LocalStorageHelper} service: the pipeline reaches storage only through ObjectStore.
 */
class GenerateJobGcsTest {

  @TempDir static Path sandbox;
  static String model;
  static ObjectStore previous;

  @BeforeAll
  static void fixtures() {
    model = JobFixtures.model(sandbox.resolve("model"));
    previous =
        ObjectStores.register(GcsObjectStore.using(LocalStorageHelper.getOptions().getService()));
  }

  @AfterAll
  static void restore() {
    if (previous != null) {
      ObjectStores.register(previous);
    } else {
      ObjectStores.unregister("gs");
    }
  }

  @Test
  void manifestsAndOutputOnGcs() throws IOException {
    ObjectStore gcs = ObjectStores.forScheme("gs");
    gcs.write(
        "gs://odelt-test/in/day1.jsonl",
        ("{\"request_id\":\"a\",\"class_id\":2,\"num_images\":3,\"tier_name\":\"draft\"}\n"
                + "{\"request_id\":\"b\",\"prompt\":\"eight\",\"num_images\":2}\n"
                + "{\"request_id\":\"c\",\"class_id\":99}\n")
            .getBytes(StandardCharsets.UTF_8));
    JobFixtures.Run run =
        JobFixtures.cli(
            "--requests=gs://odelt-test/in/*.jsonl",
            "--output=gs://odelt-test/out",
            "--model=" + model,
            "--device=cpu",
            "--runner=DirectRunner",
            "--maxBatchSize=4");
    assertEquals(GenerateJob.EXIT_REJECTS, run.exitCode(), run.console());
    RunSummary summary = GenerateJob.readSummary("gs://odelt-test/out");
    assertEquals(5, summary.getImages());
    assertEquals(1, summary.getRejects());
    List<String> images;
    try (Stream<String> listed = gcs.list("gs://odelt-test/out/images/**.png")) {
      images = listed.sorted().collect(Collectors.toList());
    }
    assertEquals(
        List.of(
            "gs://odelt-test/out/images/s2-b2/a/0.png",
            "gs://odelt-test/out/images/s2-b2/a/1.png",
            "gs://odelt-test/out/images/s2-b2/a/2.png",
            "gs://odelt-test/out/images/s4-b4/b/0.png",
            "gs://odelt-test/out/images/s4-b4/b/1.png"),
        images);
    assertTrue(gcs.exists("gs://odelt-test/out/errors/dead-letters.jsonl"));
    assertTrue(gcs.exists("gs://odelt-test/out/accounting/tiers.csv"));
    assertTrue(gcs.exists("gs://odelt-test/out/previews/s2-b2.png"));
  }
}
