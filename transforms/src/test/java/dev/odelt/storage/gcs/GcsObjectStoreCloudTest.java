package dev.odelt.storage.gcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.cloud.storage.Blob;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.Storage.BlobListOption;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The store against real Cloud Storage. Runs only when {@code ODELT_GCS_TEST_BUCKET} names a bucket
 * ({@code my-bucket} or {@code gs://my-bucket/some/prefix}) and Application Default Credentials are
 * available; skips itself otherwise. {@code GOOGLE_CLOUD_PROJECT} optionally sets the project.
 * Everything is written under a fresh {@code odelt-cloud-test/<uuid>/} prefix and deleted
 * afterwards.
 */
class GcsObjectStoreCloudTest {

  static final String BUCKET_ENV = "ODELT_GCS_TEST_BUCKET";

  private static Storage storage;
  private static GcsObjectStore store;
  private static GcsLocation base;

  @BeforeAll
  static void connect() throws IOException {
    String configured = System.getenv(BUCKET_ENV);
    if (configured == null || configured.isBlank()) {
      return;
    }
    GcsLocation root =
        GcsLocation.parse(configured.startsWith("gs://") ? configured : "gs://" + configured);
    base = root.withName(root.directoryPrefix() + "odelt-cloud-test/" + UUID.randomUUID() + "/");
    storage = GcsClients.defaultStorage(System.getenv("GOOGLE_CLOUD_PROJECT"));
    store = GcsObjectStore.using(storage);
  }

  @BeforeEach
  void requireBucket() {
    assumeTrue(store != null, BUCKET_ENV + " is not set: skipping the real Cloud Storage test");
  }

  @AfterAll
  static void cleanUp() {
    if (storage == null) {
      return;
    }
    for (Blob blob : storage.list(base.bucket(), BlobListOption.prefix(base.name())).iterateAll()) {
      storage.delete(blob.getBlobId());
    }
  }

  private static String at(String relative) {
    return base + relative;
  }

  @Test
  void checksAccessWritesReadsAndLists() throws IOException {
    store.checkAccess(base.toString(), true);
    store.checkAccess(at("*.png"), false);

    byte[] png = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
    store.write(at("images/a.png"), png, "image/png", Map.of("requestId", "r1"));
    store.write(at("images/a.png"), png, "image/png", Map.of("requestId", "r1"));
    store.write(at("images/b.png"), png, "image/png", Map.of("requestId", "r2"));
    store.write(at("records/part-0.jsonl"), "{}\n".getBytes(UTF_8));
    assertArrayEquals(png, store.readAllBytes(at("images/a.png")));
    try (InputStream in = store.open(at("images/b.png"))) {
      assertArrayEquals(png, in.readAllBytes());
    }
    Blob blob = storage.get(GcsLocation.parse(at("images/a.png")).blobId());
    assertEquals("image/png", blob.getContentType());
    assertEquals(Map.of("requestId", "r1"), blob.getMetadata());
    assertTrue(store.exists(at("images/a.png")));
    assertFalse(store.exists(at("images/c.png")));

    try (Stream<String> names = store.withPageSize(1).list(at("**.{png,jsonl}"))) {
      assertEquals(
          List.of(at("images/a.png"), at("images/b.png"), at("records/part-0.jsonl")),
          names.collect(Collectors.toList()));
    }
    assertThrows(FileNotFoundException.class, () -> store.readAllBytes(at("images/c.png")));
  }

  @Test
  void largeObjectsUseAResumableUpload() throws IOException {
    byte[] big = new byte[3 * 1024 * 1024 + 17];
    new Random(11).nextBytes(big);
    GcsObjectStore resumable = store.withResumableThresholdBytes(1024 * 1024);
    resumable.write(at("model/weights.safetensors"), big, "application/octet-stream", Map.of());
    assertArrayEquals(big, resumable.readAllBytes(at("model/weights.safetensors")));
  }

  @Test
  void missingBucketIsReportedAtStartUp() {
    String bucket = "odelt-missing-" + UUID.randomUUID().toString().substring(0, 18);
    FileNotFoundException e =
        assertThrows(
            FileNotFoundException.class,
            () -> store.checkAccess("gs://" + bucket + "/requests/*.jsonl", false));
    assertTrue(e.getMessage().contains("gs://" + bucket), e.getMessage());
  }
}
