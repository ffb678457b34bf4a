package dev.odelt.storage.gcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageException;
import com.google.cloud.storage.contrib.nio.testing.LocalStorageHelper;
import dev.odelt.storage.LocalObjectStore;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStoreProvider;
import dev.odelt.storage.ObjectStores;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.SocketException;
import java.nio.file.AccessDeniedException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GcsObjectStoreTest {

  private static final String BUCKET = "gs://odelt-test-bucket/";

  private InMemoryGcs gcs;
  private GcsObjectStore store;

  @BeforeEach
  void setUp() {
    gcs = new InMemoryGcs();
    store = GcsObjectStore.using(gcs.storage());
  }

  private static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }

  private static List<String> list(ObjectStore store, String glob) throws IOException {
    try (Stream<String> names = store.list(glob)) {
      return names.collect(Collectors.toList());
    }
  }

  @Test
  void streamedUploadAppearsWholeOnlyWhenCommitted() throws IOException {
    String location = BUCKET + "out/dataset/s1-b2/00000.tar";
    byte[] chunk = new byte[300_000];
    java.util.Arrays.fill(chunk, (byte) 7);
    try (ObjectStore.Upload upload = store.upload(location, "application/x-tar", Map.of("a", "b"))) {
      for (int i = 0; i < 40; i++) {
        upload.stream().write(chunk);
      }
      // Not checked here: that nothing is visible before the commit. Real GCS shows a resumable
      // upload's object only when it is finalised; LocalStorageHelper's in-memory writer
      // publishes as it writes.
      upload.commit();
    }
    assertEquals(40 * chunk.length, store.readAllBytes(location).length);
    assertEquals("b", store.stat(location).orElseThrow().metadata().get("a"));

  }

  @Test
  void writesAndReadsBackWithContentTypeAndMetadata() throws IOException {
    String location = BUCKET + "out/images/r1-0.png";
    byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0, 1, 2, 3};
    store.write(location, png, "image/png", Map.of("requestId", "r1", "tier", "s4-b6"));

    assertArrayEquals(png, store.readAllBytes(location));
    try (InputStream in = store.open(location)) {
      assertArrayEquals(png, in.readAllBytes());
    }
    assertTrue(store.exists(location));
    Blob blob = gcs.storage().get(BlobId.of("odelt-test-bucket", "out/images/r1-0.png"));
    assertEquals("image/png", blob.getContentType());
    assertEquals(Map.of("requestId", "r1", "tier", "s4-b6"), blob.getMetadata());
    assertEquals(1, gcs.calls("create"), "a small object is one single-request upload");
    assertEquals(0, gcs.calls("open"), "no resumable session for a small object");
  }

  @Test
  void writeWithoutContentTypeOrMetadata() throws IOException {
    store.write(BUCKET + "a.txt", bytes("hello"));
    assertEquals("hello", new String(store.readAllBytes(BUCKET + "a.txt"), UTF_8));
    Blob blob = gcs.storage().get(BlobId.of("odelt-test-bucket", "a.txt"));
    assertNull(blob.getMetadata());
  }

  @Test
  void largeObjectGoesThroughOneResumableUpload() throws IOException {
    GcsObjectStore small = store.withResumableThresholdBytes(64 * 1024);
    byte[] big = new byte[600_000];
    new Random(7).nextBytes(big);
    String location = BUCKET + "model/weights.safetensors";
    small.write(location, big, "application/octet-stream", Map.of("sha256", "abc"));

    assertEquals(1, gcs.calls("open"), "one resumable session");
    assertEquals(0, gcs.calls("create"), "no single-request upload");
    assertArrayEquals(big, small.readAllBytes(location));
    try (InputStream in = small.open(location)) {
      assertArrayEquals(big, in.readAllBytes());
    }
    Blob blob = gcs.storage().get(BlobId.of("odelt-test-bucket", "model/weights.safetensors"));
    assertEquals("application/octet-stream", blob.getContentType());
    assertEquals(Map.of("sha256", "abc"), blob.getMetadata());
  }

  @Test
  void rewritingTheSameBytesLeavesOneIdenticalObject() throws IOException {
    String location = BUCKET + "out/records/part-0.jsonl";
    store.write(location, bytes("{\"a\":1}\n"), "application/x-ndjson", Map.of());
    store.write(location, bytes("{\"a\":1}\n"), "application/x-ndjson", Map.of());
    assertEquals("{\"a\":1}\n", new String(store.readAllBytes(location), UTF_8));
    assertEquals(List.of(location), list(store, BUCKET + "out/records/*"));

    store.write(location, bytes("{\"a\":2}\n"), "application/x-ndjson", Map.of());
    assertEquals("{\"a\":2}\n", new String(store.readAllBytes(location), UTF_8));
  }

  @Test
  void existsIsFalseForMissingObjectsAndPrefixes() throws IOException {
    store.write(BUCKET + "dir/x.json", bytes("{}"));
    assertFalse(store.exists(BUCKET + "dir/y.json"));
    assertFalse(store.exists(BUCKET + "di"));
    assertFalse(store.exists("gs://another-bucket/dir/x.json"));
    assertThrows(IllegalArgumentException.class, () -> store.exists(BUCKET + "dir/"));
  }

  @Test
  void readingAMissingObjectNamesIt() {
    String location = BUCKET + "nope/manifest.json";
    FileNotFoundException read =
        assertThrows(FileNotFoundException.class, () -> store.readAllBytes(location));
    assertTrue(read.getMessage().contains(location), read.getMessage());
    FileNotFoundException open =
        assertThrows(FileNotFoundException.class, () -> store.open(location));
    assertTrue(open.getMessage().contains(location), open.getMessage());
  }

  @Test
  void listsByGlob() throws IOException {
    for (String name :
        List.of(
            "req/a.jsonl",
            "req/b.jsonl",
            "req/b.csv",
            "req/c.jsonl.bak",
            "req/sub/d.jsonl",
            "req/sub/deeper/e.jsonl",
            "reqs/f.jsonl",
            "other/g.jsonl")) {
      store.write(BUCKET + name, bytes(name));
    }
    assertEquals(
        List.of(BUCKET + "req/a.jsonl", BUCKET + "req/b.jsonl"),
        list(store, BUCKET + "req/*.jsonl"));
    assertEquals(
        List.of(
            BUCKET + "req/a.jsonl",
            BUCKET + "req/b.jsonl",
            BUCKET + "req/sub/d.jsonl",
            BUCKET + "req/sub/deeper/e.jsonl"),
        list(store, BUCKET + "req/**.jsonl"));
    assertEquals(
        List.of(
            BUCKET + "req/a.jsonl",
            BUCKET + "req/b.jsonl",
            BUCKET + "req/sub/d.jsonl",
            BUCKET + "req/sub/deeper/e.jsonl"),
        list(store, BUCKET + "req/**/*.jsonl"));
    assertEquals(List.of(BUCKET + "req/sub/d.jsonl"), list(store, BUCKET + "req/*/?.jsonl"));
    assertEquals(
        List.of(BUCKET + "req/a.jsonl", BUCKET + "req/b.csv"),
        list(store, BUCKET + "req/{a.jsonl,b.csv}"));
    assertEquals(
        List.of(BUCKET + "req/a.jsonl", BUCKET + "req/b.jsonl", BUCKET + "reqs/f.jsonl"),
        list(store, BUCKET + "req*/*.jsonl"));
    assertEquals(List.of(BUCKET + "req/b.csv"), list(store, BUCKET + "req/b.csv"));
    assertEquals(List.of(), list(store, BUCKET + "req/missing.csv"));
    assertEquals(List.of(), list(store, BUCKET + "req/"));
    assertEquals(List.of(), list(store, BUCKET + "nothing-here/*.jsonl"));
    assertEquals(List.of(), list(store, "gs://another-bucket/req/*.jsonl"));
  }

  @Test
  void listingPagesLazilyThroughManyPages() throws IOException {
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      String location = String.format("%sout/images/img-%03d.png", BUCKET, i);
      store.write(location, new byte[] {(byte) i}, "image/png", Map.of());
      expected.add(location);
    }
    store.write(BUCKET + "out/images/notes.txt", bytes("not a png"));
    GcsObjectStore paged = store.withPageSize(4);
    int before = gcs.calls("list");

    try (Stream<String> names = paged.list(BUCKET + "out/images/*.png")) {
      Iterator<String> it = names.iterator();
      assertEquals(expected.get(0), it.next());
      assertEquals(expected.get(1), it.next());
      assertEquals(1, gcs.calls("list") - before, "only the first page is fetched up front");
      List<String> all = new ArrayList<>(expected.subList(0, 2));
      it.forEachRemaining(all::add);
      assertEquals(expected, all);
    }
    assertEquals(7, gcs.calls("list") - before, "26 names in pages of 4");
  }

  @Test
  void transientFailuresAreRetriedByTheClient() throws IOException {
    String location = BUCKET + "out/x.png";
    gcs.failNext("create", new StorageException(503, "Service Unavailable"));
    store.write(location, bytes("png"), "image/png", Map.of());
    assertEquals(2, gcs.calls("create"), "one failed attempt, one retry");

    gcs.failNext("load", new StorageException(429, "Too Many Requests"));
    assertEquals("png", new String(store.readAllBytes(location), UTF_8));
    assertEquals(2, gcs.calls("load"));

    gcs.failNext("get", new StorageException(500, "Internal Error"));
    assertTrue(store.exists(location));

    gcs.failNext("list", new StorageException(502, "Bad Gateway"));
    assertEquals(List.of(location), list(store, BUCKET + "out/*.png"));
  }

  @Test
  void droppedDownloadIsRetriedByTheReader() throws IOException {
    String location = BUCKET + "models/m/manifest.json";
    store.write(location, bytes("{\"name\":\"m\"}"), "application/json", Map.of());
    gcs.failNextDownload(new SocketException("Connection reset"));
    try (InputStream in = store.open(location)) {
      assertEquals("{\"name\":\"m\"}", new String(in.readAllBytes(), UTF_8));
    }
    assertEquals(2, gcs.downloads(), "one dropped download, one retry");
  }

  @Test
  void connectionResetIsRetried() throws IOException {
    gcs.failNext("create", new StorageException(new SocketException("Connection reset")));
    store.write(BUCKET + "out/y.png", bytes("png"), "image/png", Map.of());
    assertEquals(2, gcs.calls("create"));
    assertTrue(store.exists(BUCKET + "out/y.png"));
  }

  @Test
  void persistentFailureSurfacesAfterTheRetriesWithTheObjectName() {
    String location = BUCKET + "out/z.png";
    gcs.failAlways("create", () -> new StorageException(503, "Service Unavailable"));
    IOException e =
        assertThrows(
            IOException.class, () -> store.write(location, bytes("png"), "image/png", Map.of()));
    assertEquals(InMemoryGcs.MAX_ATTEMPTS, gcs.calls("create"));
    assertTrue(e.getMessage().contains(location), e.getMessage());
    assertTrue(e.getMessage().contains("HTTP 503"), e.getMessage());
    assertTrue(e.getMessage().contains("retries ran out"), e.getMessage());
    assertInstanceOf(StorageException.class, e.getCause());
  }

  @Test
  void nonRetryableFailureIsNotRetried() {
    gcs.failAlways("load", () -> new StorageException(400, "Bad Request"));
    IOException e = assertThrows(IOException.class, () -> store.readAllBytes(BUCKET + "q.json"));
    assertEquals(1, gcs.calls("load"));
    assertTrue(e.getMessage().contains("HTTP 400"), e.getMessage());
    assertFalse(e.getMessage().contains("retries"), e.getMessage());
  }

  @Test
  void failureWhileListingLaterPagesIsAnUncheckedIoException() throws IOException {
    for (int i = 0; i < 6; i++) {
      store.write(BUCKET + "p/" + i + ".txt", bytes("x"));
    }
    GcsObjectStore paged = store.withPageSize(2);
    try (Stream<String> names = paged.list(BUCKET + "p/*.txt")) {
      gcs.failAlways("list", () -> new StorageException(503, "Service Unavailable"));
      UncheckedIOException e = assertThrows(UncheckedIOException.class, names::count);
      assertTrue(e.getCause().getMessage().contains(BUCKET + "p/*.txt"), e.getMessage());
    }
  }

  @Test
  void permissionDeniedNamesTheLocation() {
    Storage denying =
        InMemoryGcs.failingAtBoundary(
            gcs.storage(),
            "create",
            new StorageException(403, "caller does not have storage.objects.create access"));
    GcsObjectStore denied = GcsObjectStore.using(denying);
    String location = BUCKET + "out/x.png";
    AccessDeniedException e =
        assertThrows(
            AccessDeniedException.class,
            () -> denied.write(location, bytes("png"), "image/png", Map.of()));
    assertEquals(location, e.getFile());
    assertTrue(e.getMessage().contains("storage.objects.create"), e.getMessage());

    AccessDeniedException check =
        assertThrows(AccessDeniedException.class, () -> denied.checkAccess(BUCKET + "out", true));
    assertTrue(check.getMessage().contains(BUCKET + "out/"), check.getMessage());
  }

  @Test
  void checkAccessForWriteLeavesNoProbeBehind() throws IOException {
    store.checkAccess(BUCKET + "out", true);
    assertEquals(1, gcs.calls("create"), "one probe object written");
    assertEquals(1, gcs.calls("delete"), "and deleted");
    assertEquals(List.of(), list(store, BUCKET + "**"));
  }

  @Test
  void checkAccessForWriteRequiresDelete() {
    Storage noDelete =
        InMemoryGcs.failingAtBoundary(
            gcs.storage(),
            "delete",
            new StorageException(403, "caller does not have storage.objects.delete access"));
    AccessDeniedException e =
        assertThrows(
            AccessDeniedException.class,
            () -> GcsObjectStore.using(noDelete).checkAccess(BUCKET + "out/", true));
    assertTrue(e.getMessage().contains("storage.objects.delete"), e.getMessage());
    assertTrue(e.getFile().startsWith(BUCKET + "out/" + GcsObjectStore.PROBE_STEM), e.getFile());
  }

  @Test
  void checkAccessForRead() throws IOException {
    store.write(BUCKET + "models/m/manifest.json", bytes("{}"));
    store.checkAccess(BUCKET + "models/m/manifest.json", false);
    store.checkAccess(BUCKET + "requests/*.jsonl", false);
    FileNotFoundException missing =
        assertThrows(
            FileNotFoundException.class,
            () -> store.checkAccess(BUCKET + "models/m/nope.json", false));
    assertTrue(missing.getMessage().contains("No object " + BUCKET + "models/m/nope.json"));
  }

  @Test
  void checkAccessReportsAMissingBucket() {
    // Google's in-memory service has implicit buckets; the real service answers 404 for any
    // request to a bucket that does not exist, which is what this client does.
    StorageException noBucket = new StorageException(404, "The specified bucket does not exist.");
    Storage noLists = InMemoryGcs.failingAtBoundary(gcs.storage(), "list", noBucket);
    Storage noCreates = InMemoryGcs.failingAtBoundary(gcs.storage(), "create", noBucket);
    String glob = "gs://no-such-bucket/requests/*.jsonl";

    FileNotFoundException forGlob =
        assertThrows(
            FileNotFoundException.class,
            () -> GcsObjectStore.using(noLists).checkAccess(glob, false));
    assertTrue(forGlob.getMessage().contains("Bucket gs://no-such-bucket does not exist"));
    FileNotFoundException forObject =
        assertThrows(
            FileNotFoundException.class,
            () ->
                GcsObjectStore.using(noLists)
                    .checkAccess("gs://no-such-bucket/m/manifest.json", false));
    assertTrue(forObject.getMessage().contains("Bucket gs://no-such-bucket does not exist"));
    FileNotFoundException forWrite =
        assertThrows(
            FileNotFoundException.class,
            () -> GcsObjectStore.using(noCreates).checkAccess("gs://no-such-bucket/out", true));
    assertTrue(forWrite.getMessage().contains("Bucket gs://no-such-bucket does not exist"));
  }

  @Test
  void unauthenticatedRequestsExplainCredentials() {
    Storage anonymous =
        InMemoryGcs.failingAtBoundary(
            gcs.storage(), "get", new StorageException(401, "Anonymous caller"));
    IOException e =
        assertThrows(
            IOException.class,
            () -> GcsObjectStore.using(anonymous).checkAccess(BUCKET + "m/manifest.json", false));
    assertTrue(e.getMessage().contains("HTTP 401"), e.getMessage());
    assertTrue(e.getMessage().contains("Application Default Credentials"), e.getMessage());
  }

  @Test
  void missingCredentialsFailTheFirstUseWithInstructions() {
    GcsObjectStore noCredentials =
        GcsObjectStore.lazy(
            () ->
                GcsClients.build(
                    null,
                    () -> {
                      throw new IOException("Your default credentials were not found.");
                    }));
    IOException e =
        assertThrows(IOException.class, () -> noCredentials.checkAccess(BUCKET + "out", true));
    assertTrue(e.getMessage().contains("No Google Cloud credentials"), e.getMessage());
    assertTrue(e.getMessage().contains("GOOGLE_APPLICATION_CREDENTIALS"), e.getMessage());
    assertTrue(e.getMessage().contains("were not found"), e.getMessage());
  }

  @Test
  void worksOnLocalStorageHelperDefaultService() throws IOException {
    GcsObjectStore plain = GcsObjectStore.using(LocalStorageHelper.getOptions().getService());
    String location = BUCKET + "plain/x.png";
    plain.write(location, bytes("png"), "image/png", Map.of("k", "v"));
    assertArrayEquals(bytes("png"), plain.readAllBytes(location));
    try (InputStream in = plain.open(location)) {
      assertArrayEquals(bytes("png"), in.readAllBytes());
    }
    byte[] big = new byte[200_000];
    new Random(3).nextBytes(big);
    plain.withResumableThresholdBytes(1024).write(BUCKET + "plain/big.bin", big);
    assertArrayEquals(big, plain.readAllBytes(BUCKET + "plain/big.bin"));
    assertTrue(plain.exists(location));
    assertEquals(List.of(location), list(plain, BUCKET + "plain/*.png"));
    plain.checkAccess(BUCKET + "plain", true);
    plain.checkAccess(location, false);
  }

  @Test
  void providerIsFoundByServiceLoaderAndNeedsNoCredentialsUntilUsed() {
    List<ObjectStoreProvider> gs =
        ServiceLoader.load(ObjectStoreProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.scheme().equals("gs"))
            .collect(Collectors.toList());
    assertEquals(1, gs.size());
    ObjectStore created = gs.get(0).create();
    assertInstanceOf(GcsObjectStore.class, created);
    assertEquals("gs", created.scheme());
  }

  @Test
  void storesAreChosenPerLocation() {
    assertInstanceOf(GcsObjectStore.class, ObjectStores.forLocation(BUCKET + "x"));
    assertInstanceOf(LocalObjectStore.class, ObjectStores.forLocation("/tmp/odelt/x"));
  }

  @Test
  void rejectsLocationsThatAreNotObjects() {
    assertThrows(IllegalArgumentException.class, () -> store.readAllBytes("gs://"));
    assertThrows(IllegalArgumentException.class, () -> store.readAllBytes("gs://b*/x"));
    assertThrows(IllegalArgumentException.class, () -> store.write(BUCKET, bytes("x")));
    assertThrows(IllegalArgumentException.class, () -> store.withPageSize(0));
    assertThrows(IllegalArgumentException.class, () -> store.withResumableThresholdBytes(-1));
  }

  @Test
  void concurrentWritersAndReaders() {
    List<String> locations =
        IntStream.range(0, 40)
            .mapToObj(i -> BUCKET + "par/" + i + ".bin")
            .collect(Collectors.toList());
    locations.parallelStream()
        .forEach(
            location -> {
              try {
                store.write(location, bytes(location), "application/octet-stream", Map.of());
                assertEquals(location, new String(store.readAllBytes(location), UTF_8));
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
  }
}
