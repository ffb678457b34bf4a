package dev.odelt.storage.gcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.StorageException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.testing.TestModels;
import dev.odelt.pipelines.GenerateJob;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generation job on Cloud Storage (Google's in-memory {@code Storage} behind {@link
 * GcsObjectStore}, on the DirectRunner): with requests, model and outputs in buckets it writes what
 * the same job writes to local files; local and {@code gs://} locations mix; {@code --resume} works
 * on a bucket; missing buckets and permissions stop the job at start-up; a storage failure that
 * outlasts the client's retries fails the job with the object's name.
 */
class GenerateJobOnGcsTest {

  private static final String REQUESTS = "gs://odelt-in/requests/";
  private static final String MODEL = "gs://odelt-models/tiny";
  private static final String OUTPUT = "gs://odelt-out/runs/r1";

  @TempDir Path sandbox;

  private InMemoryGcs gcs;
  private GcsObjectStore store;
  private ObjectStore previous;
  private String localModel;
  private Path localRequests;

  @BeforeEach
  void fixtures() throws IOException {
    gcs = new InMemoryGcs();
    store = GcsObjectStore.using(gcs.storage()).withPageSize(3);
    previous = ObjectStores.register(store);

    Path modelDir = sandbox.resolve("model");
    localModel = TestModels.writeRandomPackage(modelDir, TestModels.TINY, 3);
    for (String file : List.of(ModelPackages.MANIFEST, ModelPackages.WEIGHTS)) {
      store.write(ObjectStore.resolve(MODEL, file), Files.readAllBytes(modelDir.resolve(file)));
    }

    localRequests = Files.createDirectories(sandbox.resolve("requests"));
    Map<String, String> manifests =
        Map.of(
            "a.jsonl",
            String.join(
                "\n",
                "{\"request_id\":\"sevens\",\"class_label\":\"7\",\"num_images\":2,\"seed\":42,"
                    + "\"tier\":{\"steps\":2,\"blocks\":4}}",
                "{\"request_id\":\"threes\",\"class_id\":3,\"num_images\":4,"
                    + "\"tier_name\":\"draft\"}",
                "{\"request_id\":\"bad-class\",\"class_id\":12}",
                ""),
            "b.csv",
            "class,count,steps,blocks\nfour,3,2,2\n");
    for (Map.Entry<String, String> m : manifests.entrySet()) {
      Files.writeString(localRequests.resolve(m.getKey()), m.getValue());
      store.write(REQUESTS + m.getKey(), m.getValue().getBytes(UTF_8), "text/plain", Map.of());
    }
  }

  @AfterEach
  void restore() {
    if (previous != null) {
      ObjectStores.register(previous);
    } else {
      ObjectStores.unregister("gs");
    }
  }

  private static int run(String requests, String model, String output, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--requests=" + requests,
                "--output=" + output,
                "--model=" + model,
                "--device=cpu",
                "--runner=DirectRunner",
                "--maxBatchSize=4",
                "--recordShards=2"));
    args.addAll(List.of(more));
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    int code =
        GenerateJob.runCli(args.toArray(new String[0]), new PrintStream(console, true, UTF_8));
    assertTrue(
        code == GenerateJob.EXIT_OK || code == GenerateJob.EXIT_REJECTS,
        "exit " + code + ": " + console.toString(UTF_8));
    return code;
  }

  /** Relative name → sha256 of every object under {@code root} on any store. */
  private static Map<String, String> tree(String root) throws IOException {
    String prefix = root.endsWith("/") ? root : root + "/";
    Map<String, String> out = new TreeMap<>();
    ObjectStore objects = ObjectStores.forLocation(root);
    try (Stream<String> all = objects.list(prefix + "**")) {
      for (String location : all.collect(Collectors.toList())) {
        out.put(location.substring(prefix.length()), sha256(objects.readAllBytes(location)));
      }
    }
    return out;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<ImageRecord> records(String output) throws IOException {
    List<ImageRecord> out = new ArrayList<>();
    ObjectStore objects = ObjectStores.forLocation(output);
    try (Stream<String> files = objects.list(ObjectStore.resolve(output, "records/*.jsonl"))) {
      for (String file : files.collect(Collectors.toList())) {
        for (String line : new String(objects.readAllBytes(file), UTF_8).split("\n")) {
          if (!line.isBlank()) {
            ImageRecord.Builder b = ImageRecord.newBuilder();
            JsonFormat.parser().merge(line, b);
            out.add(b.build().toBuilder().clearDeviceSeconds().build());
          }
        }
      }
    }
    return out;
  }

  /** The non-empty lines of every object matching {@code glob} under {@code output}, sorted. */
  private static List<String> sortedLines(String output, String glob) throws IOException {
    List<String> out = new ArrayList<>();
    ObjectStore objects = ObjectStores.forLocation(output);
    try (Stream<String> files = objects.list(ObjectStore.resolve(output, glob))) {
      for (String file : files.collect(Collectors.toList())) {
        for (String line : new String(objects.readAllBytes(file), UTF_8).split("\n")) {
          if (!line.isBlank()) {
            out.add(line);
          }
        }
      }
    }
    out.sort(null);
    return out;
  }

  /** The entries of a tree whose names start with {@code prefix}. */
  private static Map<String, String> under(Map<String, String> tree, String prefix) {
    Map<String, String> out = new TreeMap<>(tree);
    out.keySet().removeIf(k -> !k.startsWith(prefix));
    return out;
  }

  @Test
  void theJobOnCloudStorageWritesWhatTheLocalJobWrites() throws IOException {
    Path localOut = sandbox.resolve("out");
    int localCode = run(localRequests + "/*.{jsonl,csv}", localModel, localOut.toString());
    int gcsCode = run(REQUESTS + "*.{jsonl,csv}", MODEL, OUTPUT);
    assertEquals(localCode, gcsCode);

    Map<String, String> local = tree(localOut.toString());
    Map<String, String> remote = tree(OUTPUT);
    // Each run's history file is named by its start time; locally the lease's lock file stays.
    assertEquals(1, under(local, "runs/").size());
    assertEquals(1, under(remote, "runs/").size());
    local.keySet().removeIf(k -> k.startsWith("runs/") || k.equals(".lease.json.lock"));
    remote.keySet().removeIf(k -> k.startsWith("runs/"));
    assertEquals(local.keySet(), remote.keySet());
    Map<String, String> images = under(local, "images/");
    assertEquals(2 + 4 + 3, images.size(), images.keySet().toString());
    assertEquals(images, under(remote, "images/"), "byte-identical images");
    assertEquals(under(local, "previews/"), under(remote, "previews/"), "identical previews");
    assertEquals(records(localOut.toString()), records(OUTPUT));

    // Dead letters are sharded by (source, line): the two runs' sources differ, so compare the
    // sorted lines of all shards.
    assertEquals(
        sortedLines(localOut.toString(), "errors/dead-letters-*.jsonl").stream()
            .map(l -> l.replace(localRequests + "/", REQUESTS))
            .collect(Collectors.toList()),
        sortedLines(OUTPUT, "errors/dead-letters-*.jsonl"));

    RunSummary summary = GenerateJob.readSummary(OUTPUT);
    assertEquals(images.size(), summary.getImages());
    assertEquals(1, summary.getRejects());

    Blob png = gcs.storage().get(BlobId.of("odelt-out", "runs/r1/images/s2-b4/sevens/1.png"));
    assertEquals("image/png", png.getContentType());
    assertEquals("sevens", png.getMetadata().get("request_id"));
    assertEquals("1", png.getMetadata().get("index"));
  }

  @Test
  void datasetShardsOnCloudStorageAreTheLocalOnesAndResumeKeepsThem() throws IOException {
    Path localOut = sandbox.resolve("wds-out");
    String remoteOut = "gs://odelt-out/runs/wds";
    String[] format = {"--format=webdataset", "--shardImages=2"};
    run(localRequests + "/*.{jsonl,csv}", localModel, localOut.toString(), format);
    run(REQUESTS + "*.{jsonl,csv}", MODEL, remoteOut, format);
    Map<String, String> local = shards(under(tree(localOut.toString()), "dataset/"));
    Map<String, String> remote = shards(under(tree(remoteOut), "dataset/"));
    assertTrue(local.size() > 3, local.keySet().toString());
    assertEquals(local, remote, "byte-identical shards and indexes on gs://");
    Blob shard = gcs.storage().get(BlobId.of("odelt-out", "runs/wds/dataset/s2-b4/00000.tar"));
    assertEquals("application/x-tar", shard.getContentType());

    gcs.storage().delete(BlobId.of("odelt-out", "runs/wds/dataset/s2-b4/00000.tar"));
    run(
        REQUESTS + "*.{jsonl,csv}",
        MODEL,
        remoteOut,
        "--format=webdataset",
        "--shardImages=2",
        "--resume");
    assertEquals(remote, shards(under(tree(remoteOut), "dataset/")));
    RunSummary summary = GenerateJob.readSummary(remoteOut);
    assertTrue(
        summary.getImagesResumed() > 0 && summary.getImagesGenerated() > 0, summary.toString());
  }

  /**
   * Shards and indexes: not the shard manifests (they also record the run and its costs) nor the
   * card (it names the model's and the manifests' locations, which differ here).
   */
  private static Map<String, String> shards(Map<String, String> dataset) {
    Map<String, String> out = new TreeMap<>(dataset);
    out.keySet().removeIf(p -> p.endsWith(".tar.json") || p.endsWith("README.md"));
    return out;
  }

  @Test
  void mixesLocalAndCloudLocations() throws IOException {
    Path localOut = sandbox.resolve("mixed-out");
    run(REQUESTS + "*.jsonl", localModel, localOut.toString());
    run(localRequests + "/*.jsonl", MODEL, OUTPUT);
    Map<String, String> local = tree(localOut.toString());
    Map<String, String> remote = tree(OUTPUT);
    Map<String, String> localImages = under(local, "images/");
    assertEquals(2 + 4, localImages.size());
    assertEquals(localImages, under(remote, "images/"));
    assertTrue(local.containsKey("run.json"));
    assertFalse(remote.isEmpty());
  }

  /** One run's exit code and console. */
  private record JobRun(int code, String console) {}

  /**
   * The job on the cloud manifests and model into {@link #OUTPUT} (DirectRunner, CPU), plus {@code
   * more}.
   */
  private static JobRun job(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--requests=" + REQUESTS + "*.jsonl",
                "--output=" + OUTPUT,
                "--model=" + MODEL,
                "--device=cpu",
                "--runner=DirectRunner"));
    args.addAll(List.of(more));
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    int code =
        GenerateJob.runCli(args.toArray(new String[0]), new PrintStream(console, true, UTF_8));
    return new JobRun(code, console.toString(UTF_8));
  }

  private static String console(String... args) {
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    int code = GenerateJob.runCli(args, new PrintStream(console, true, UTF_8));
    assertEquals(GenerateJob.EXIT_USAGE, code, console.toString(UTF_8));
    return console.toString(UTF_8);
  }

  @Test
  void startUpChecksFailBeforeAnyWork() throws IOException {
    int uploads = gcs.calls("create");
    String[] args = {
      "--requests=" + REQUESTS + "*.jsonl",
      "--output=" + OUTPUT,
      "--model=" + MODEL,
      "--device=cpu",
      "--runner=DirectRunner"
    };
    ObjectStores.register(
        GcsObjectStore.using(
            InMemoryGcs.failingAtBoundary(
                gcs.storage(),
                "create",
                new StorageException(403, "caller lacks storage.objects.create"))));
    String denied = console(args);
    assertTrue(denied.contains("--output"), denied);
    assertTrue(denied.contains("storage.objects.create"), denied);

    ObjectStores.register(
        GcsObjectStore.using(
            InMemoryGcs.failingAtBoundary(
                gcs.storage(),
                "list",
                new StorageException(404, "The specified bucket does not exist."))));
    String missing = console(args);
    assertTrue(missing.contains("gs://odelt-in"), missing);
    assertTrue(missing.contains("does not exist"), missing);

    ObjectStores.register(store);
    String noModel =
        console(
            "--requests=" + REQUESTS + "*.jsonl",
            "--output=" + OUTPUT,
            "--model=gs://odelt-models/none/manifest.json",
            "--runner=DirectRunner");
    assertTrue(noModel.contains("--model"), noModel);
    assertTrue(noModel.contains("gs://odelt-models/none/manifest.json"), noModel);
    assertEquals(uploads, gcs.calls("create"), "nothing was written");
    assertEquals(Map.of(), tree(OUTPUT));
  }

  @Test
  void aPersistentStorageFailureFailsTheJobNamingTheObject() {
    gcs.failAlways(
        "create",
        name -> name.contains("/images/"),
        () -> new StorageException(503, "Service Unavailable"));
    JobRun run = job("--maxBatchSize=4");
    String text = run.console();
    assertEquals(GenerateJob.EXIT_FAILED, run.code(), text);
    assertTrue(text.contains(OUTPUT + "/images/"), text);
    assertTrue(text.contains("HTTP 503, after the client's retries ran out"), text);
  }

  @Test
  void resumeOnCloudStorageRegeneratesOnlyWhatIsMissing() throws IOException {
    run(REQUESTS + "*.jsonl", MODEL, OUTPUT);
    Map<String, String> images = under(tree(OUTPUT), "images/");
    gcs.storage().delete(BlobId.of("odelt-out", "runs/r1/images/s2-b4/sevens/0.png"));
    run(REQUESTS + "*.jsonl", MODEL, OUTPUT, "--resume");
    RunSummary summary = GenerateJob.readSummary(OUTPUT);
    assertEquals(1, summary.getImagesGenerated());
    assertEquals(images.size() - 1, summary.getImagesResumed());
    assertEquals(images, under(tree(OUTPUT), "images/"));
  }

  @Test
  void resumeOnCloudStorageRefusesAnotherPrecisionAndRepairsDamagedImages() throws Exception {
    run(REQUESTS + "*.jsonl", MODEL, OUTPUT);
    Map<String, String> before = tree(OUTPUT);
    Map<String, String> images = under(before, "images/");
    RunSummary first = GenerateJob.readSummary(OUTPUT);
    assertEquals(64, first.getModelDigest().length());

    JobRun refused = job("--precision=bf16", "--resume");
    assertEquals(GenerateJob.EXIT_USAGE, refused.code(), refused.console());
    assertTrue(refused.console().contains("precision bf16"), refused.console());
    assertEquals(before, tree(OUTPUT), "nothing was written");

    // One image garbled with its metadata (recorded sha256) kept, one truncated without metadata.
    String garbled = OUTPUT + "/images/s2-b4/sevens/0.png";
    Map<String, String> metadata = store.stat(garbled).orElseThrow().metadata();
    assertTrue(metadata.containsKey("sha256"), metadata.toString());
    byte[] png = store.readAllBytes(garbled);
    byte[] flipped = png.clone();
    flipped[flipped.length / 2] ^= 0x55;
    store.write(garbled, flipped, "image/png", metadata);
    String truncated = OUTPUT + "/images/s2-b4/sevens/1.png";
    byte[] other = store.readAllBytes(truncated);
    store.write(truncated, java.util.Arrays.copyOf(other, other.length / 2));
    run(REQUESTS + "*.jsonl", MODEL, OUTPUT, "--resume");
    RunSummary summary = GenerateJob.readSummary(OUTPUT);
    assertEquals(2, summary.getImagesRepaired());
    assertEquals(2, summary.getImagesGenerated());
    assertEquals(images, under(tree(OUTPUT), "images/"), "repaired with the same bytes");
    assertEquals(2, under(tree(OUTPUT), "runs/").size());
  }

  @Test
  void aLeaseOnCloudStorageStopsASecondJob() throws Exception {
    try (dev.odelt.transforms.io.OutputLease held =
        dev.odelt.transforms.io.OutputLease.acquire(
            OUTPUT,
            "other-run",
            "other-host",
            java.time.Duration.ofMinutes(10),
            java.time.Clock.systemUTC())) {
      assertTrue(held.tookOverFrom().isEmpty());
      JobRun second = job();
      assertEquals(GenerateJob.EXIT_USAGE, second.code(), second.console());
      assertTrue(
          second.console().contains("in use by run other-run on other-host"), second.console());
      assertEquals(Map.of("lease.json", tree(OUTPUT).get("lease.json")), tree(OUTPUT));
    }
    assertEquals(Map.of(), tree(OUTPUT));
  }
}
