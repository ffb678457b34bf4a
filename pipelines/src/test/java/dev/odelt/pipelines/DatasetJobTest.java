package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.odelt.proto.v1.Example;
import dev.odelt.proto.v1.Feature;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.transforms.io.Hashes;
import dev.odelt.transforms.io.PngImages;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.TFRecordIO;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shard formats end to end ({@code --format=webdataset|parquet|tfrecord}), read back by tools
 * nobody here wrote: Python's tarfile + PIL, DuckDB, Beam's TFRecordIO (which checks both CRCs).
 * Every sample must match the PNG tree of the same manifests pixel for pixel, with the right label,
 * and nothing may be missing or doubled.
 */
class DatasetJobTest {

  @TempDir static Path sandbox;
  static String model;
  static Path manifests;

  /** "tier/request/index" → what the PNG tree holds for that image. */
  static Map<String, Expected> expected;

  /** One image of the PNG run: its decoded pixels' sha256, class and caption. */
  record Expected(String pixels, Integer classId, String text, int width, int height) {}

  @BeforeAll
  static void pngReference() throws IOException {
    model = JobFixtures.model(sandbox.resolve("model"));
    manifests = JobFixtures.manifests(sandbox.resolve("in"));
    Path png = sandbox.resolve("png");
    JobFixtures.Run run = direct(png, "--format=png");
    assertEquals(GenerateJob.EXIT_REJECTS, run.exitCode(), run.console());
    expected = new TreeMap<>();
    for (ImageRecord r : GenerateJobFlinkTest.records(png)) {
      BufferedImage image = PngImages.read(Files.readAllBytes(png.resolve(r.getImagePath())));
      expected.put(
          id(r.getTierLabel(), r.getRequestId(), r.getIndex()),
          new Expected(
              pixels(image),
              r.hasClassId() ? r.getClassId() : null,
              r.getPrompt().isEmpty() ? r.getClassLabel() : r.getPrompt(),
              image.getWidth(),
              image.getHeight()));
    }
    assertEquals(16, expected.size());
  }

  private static JobFixtures.Run direct(Path output, String... more) {
    return run("DirectRunner", output, more);
  }

  private static JobFixtures.Run run(String runner, Path output, String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--requests=" + manifests + "/*",
                "--output=" + output,
                "--model=" + model,
                "--device=cpu",
                "--runner=" + runner,
                "--maxBatchSize=4",
                "--progressSeconds=0"));
    args.addAll(List.of(more));
    return JobFixtures.cli(args.toArray(new String[0]));
  }

  static String id(String tier, String request, long index) {
    return tier + "/" + request + "/" + index;
  }

  /** sha256 of the pixels, row-major, grey or RGB interleaved (PIL's tobytes order). */
  static String pixels(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    boolean grey = image.getType() == BufferedImage.TYPE_BYTE_GRAY;
    byte[] bytes = new byte[w * h * (grey ? 1 : 3)];
    int o = 0;
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        if (grey) {
          bytes[o++] = (byte) image.getRaster().getSample(x, y, 0);
        } else {
          int rgb = image.getRGB(x, y);
          bytes[o++] = (byte) (rgb >> 16);
          bytes[o++] = (byte) (rgb >> 8);
          bytes[o++] = (byte) rgb;
        }
      }
    }
    return Hashes.sha256(bytes);
  }

  /** Checks index.json of every tier against the shard files and returns all shard paths. */
  static List<Path> shardsListedInIndexes(Path output, String extension) throws IOException {
    List<Path> shards = new ArrayList<>();
    Set<String> tiers = new HashSet<>();
    expected.keySet().forEach(k -> tiers.add(k.substring(0, k.indexOf('/'))));
    long samples = 0;
    for (String tier : tiers) {
      Path dir = output.resolve("dataset").resolve(tier);
      JsonObject index =
          JsonParser.parseString(Files.readString(dir.resolve("index.json"))).getAsJsonObject();
      JsonArray listed = index.getAsJsonArray("shards");
      for (int i = 0; i < listed.size(); i++) {
        JsonObject s = listed.get(i).getAsJsonObject();
        assertEquals(String.format("%05d.%s", i, extension), s.get("name").getAsString());
        Path shard = dir.resolve(s.get("name").getAsString());
        byte[] bytes = Files.readAllBytes(shard);
        assertEquals(s.get("bytes").getAsLong(), bytes.length);
        assertEquals(s.get("sha256").getAsString(), Hashes.sha256(bytes));
        samples += s.get("samples").getAsLong();
        shards.add(shard);
      }
      try (var files = Files.list(dir)) {
        assertEquals(
            listed.size(),
            files.filter(p -> p.getFileName().toString().endsWith("." + extension)).count(),
            "every shard file is listed in " + tier + "/index.json");
      }
    }
    assertEquals(expected.size(), samples);
    assertTrue(Files.readString(output.resolve("dataset/README.md")).startsWith("---\n"));
    assertFalse(Files.exists(output.resolve("images")), "no PNG tree with a shard format");
    return shards;
  }

  /** Checks the job's own records name their shard and key, and there is one per image. */
  static void recordsNameShardAndKey(Path output) throws IOException {
    Set<String> seen = new HashSet<>();
    for (ImageRecord r : GenerateJobFlinkTest.records(output)) {
      assertTrue(seen.add(id(r.getTierLabel(), r.getRequestId(), r.getIndex())));
      assertTrue(r.getShard().startsWith("dataset/" + r.getTierLabel() + "/"), r.getShard());
      assertFalse(r.getKey().contains("."), r.getKey());
      assertEquals("", r.getImagePath());
    }
    assertEquals(expected.keySet(), seen);
  }

  @Test
  void webDatasetShardsReadByTarfileAndPilMatchThePngTree() throws Exception {
    assumeTrue(python("import PIL"), "needs Debian's python3-pil");
    Path out = sandbox.resolve("wds");
    JobFixtures.Run run = direct(out, "--format=webdataset", "--shardImages=3");
    assertEquals(GenerateJob.EXIT_REJECTS, run.exitCode(), run.console());
    List<Path> shards = shardsListedInIndexes(out, "tar");
    assertTrue(shards.size() > 6, "several shards per tier at --shardImages=3: " + shards);
    recordsNameShardAndKey(out);

    List<String> command = new ArrayList<>(List.of("/usr/bin/python3", script()));
    shards.forEach(s -> command.add(s.toString()));
    List<String> lines = runPython(command);
    Map<String, JsonObject> read = new HashMap<>();
    for (String line : lines) {
      JsonObject s = JsonParser.parseString(line).getAsJsonObject();
      String tier = Path.of(s.get("shard").getAsString()).getParent().getFileName().toString();
      String id = id(tier, s.get("request_id").getAsString(), s.get("index").getAsLong());
      assertEquals(null, read.put(id, s), "sample " + id + " appears once");
    }
    assertEquals(expected.keySet(), read.keySet());
    for (Map.Entry<String, Expected> e : expected.entrySet()) {
      JsonObject s = read.get(e.getKey());
      Expected x = e.getValue();
      assertEquals(x.pixels(), s.get("pixels_sha256").getAsString(), e.getKey());
      assertEquals(List.of(x.width(), x.height()), List.of(size(s, 0), size(s, 1)));
      assertEquals(x.text(), s.get("txt").getAsString());
      if (x.classId() == null) {
        assertTrue(s.get("cls").isJsonNull());
      } else {
        assertEquals(x.classId().intValue(), s.get("cls").getAsInt(), e.getKey());
        assertEquals("[\"cls\",\"json\",\"png\",\"txt\"]", s.get("fields").toString());
      }
    }
  }

  private static int size(JsonObject sample, int i) {
    return sample.getAsJsonArray("size").get(i).getAsInt();
  }

  @Test
  void parquetShardsReadByDuckDbMatchThePngTreeAndCarryTheHuggingFaceFeatures() throws Exception {
    Path out = sandbox.resolve("parquet");
    JobFixtures.Run run = direct(out, "--format=parquet", "--shardImages=4");
    assertEquals(GenerateJob.EXIT_REJECTS, run.exitCode(), run.console());
    shardsListedInIndexes(out, "parquet");
    recordsNameShardAndKey(out);
    String files = out + "/dataset/*/*.parquet";
    Set<String> seen = new HashSet<>();
    try (Connection db = DriverManager.getConnection("jdbc:duckdb:");
        Statement sql = db.createStatement()) {
      try (ResultSet rows =
          sql.executeQuery(
              "SELECT key, image.bytes, image.path, label, label_name, prompt, request_id, index,"
                  + " seed, tier FROM read_parquet('"
                  + files
                  + "')")) {
        while (rows.next()) {
          String id = id(rows.getString("tier"), rows.getString("request_id"), rows.getLong(8));
          assertTrue(seen.add(id), "row " + id + " appears once");
          Expected x = expected.get(id);
          assertEquals(x.pixels(), pixels(PngImages.read(rows.getBytes(2))), id);
          assertEquals(rows.getString("key") + ".png", rows.getString(3));
          Object label = rows.getObject("label");
          assertEquals(x.classId() == null ? null : x.classId().longValue(), label, id);
          String prompt = rows.getString("prompt");
          assertEquals(x.text(), prompt != null ? prompt : rows.getString("label_name"), id);
        }
      }
      try (ResultSet meta =
          sql.executeQuery(
              "SELECT DISTINCT decode(value) FROM parquet_kv_metadata('"
                  + files
                  + "') WHERE decode(key) = 'huggingface'")) {
        assertTrue(meta.next());
        JsonObject features =
            JsonParser.parseString(meta.getString(1))
                .getAsJsonObject()
                .getAsJsonObject("info")
                .getAsJsonObject("features");
        assertFalse(meta.next(), "every shard carries the same features");
        assertEquals("Image", features.getAsJsonObject("image").get("_type").getAsString());
        JsonObject label = features.getAsJsonObject("label");
        assertEquals("ClassLabel", label.get("_type").getAsString());
        assertEquals(10, label.getAsJsonArray("names").size());
      }
      try (ResultSet groups =
          sql.executeQuery(
              "SELECT max(row_group_num_rows) FROM parquet_metadata('" + files + "')")) {
        assertTrue(groups.next());
        assertTrue(groups.getLong(1) <= 256);
      }
    }
    assertEquals(expected.keySet(), seen);
  }

  @Test
  void tfRecordShardsReadByBeamTfRecordIoMatchThePngTree() throws Exception {
    Path out = sandbox.resolve("tfrecord");
    JobFixtures.Run run = direct(out, "--format=tfrecord", "--shardImages=5");
    assertEquals(GenerateJob.EXIT_REJECTS, run.exitCode(), run.console());
    shardsListedInIndexes(out, "tfrecord");
    recordsNameShardAndKey(out);
    Pipeline pipeline =
        Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create());
    PCollection<String> samples =
        pipeline
            .apply(
                TFRecordIO.read()
                    .from(out + "/dataset/*/*.tfrecord")
                    .withCompression(org.apache.beam.sdk.io.Compression.UNCOMPRESSED))
            .apply(MapElements.into(TypeDescriptors.strings()).via(DatasetJobTest::describe));
    PAssert.that(samples).satisfies(new MatchesPngTree(expected));
    pipeline.run().waitUntilFinish();
  }

  /** "id|pixels|label|text|w|h|channels|format" of one serialized Example. */
  static String describe(byte[] record) {
    try {
      Map<String, Feature> f = Example.parseFrom(record).getFeatures().getFeatureMap();
      BufferedImage image =
          PngImages.read(f.get("image/encoded").getBytesList().getValue(0).toByteArray());
      String label =
          f.containsKey("image/class/label")
              ? Long.toString(f.get("image/class/label").getInt64List().getValue(0))
              : "null";
      return String.join(
          "|",
          id(
              f.get("tier").getBytesList().getValue(0).toStringUtf8(),
              f.get("request_id").getBytesList().getValue(0).toStringUtf8(),
              f.get("index").getInt64List().getValue(0)),
          pixels(image),
          label,
          f.get("image/class/text").getBytesList().getValue(0).toStringUtf8(),
          Long.toString(f.get("image/width").getInt64List().getValue(0)),
          Long.toString(f.get("image/height").getInt64List().getValue(0)),
          f.get("image/format").getBytesList().getValue(0).toStringUtf8());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Every image of the PNG tree once, with its pixels and label. */
  static final class MatchesPngTree
      implements org.apache.beam.sdk.transforms.SerializableFunction<Iterable<String>, Void>,
          Serializable {
    private static final long serialVersionUID = 1L;
    private final Map<String, String> want = new TreeMap<>();

    MatchesPngTree(Map<String, Expected> expected) {
      expected.forEach(
          (id, x) ->
              want.put(
                  id,
                  String.join(
                      "|",
                      id,
                      x.pixels(),
                      x.classId() == null ? "null" : Integer.toString(x.classId()),
                      x.text(),
                      Integer.toString(x.width()),
                      Integer.toString(x.height()),
                      "png")));
    }

    @Override
    public Void apply(Iterable<String> samples) {
      Map<String, String> got = new TreeMap<>();
      for (String s : samples) {
        assertEquals(null, got.put(s.substring(0, s.indexOf('|')), s), "once: " + s);
      }
      assertEquals(want, got);
      return null;
    }
  }

  @Test
  void resumeKeepsCompleteShardsAndRewritesDamagedOnesByteForByte() throws IOException {
    Path out = sandbox.resolve("resume");
    assertEquals(
        GenerateJob.EXIT_REJECTS, direct(out, "--format=webdataset", "--shardImages=3").exitCode());
    Map<String, String> first = shardsAndIndexes(out);
    // A lost shard, a truncated one (a partial copy), a lost manifest, a manifest of garbage.
    List<String> tars = first.keySet().stream().filter(p -> p.endsWith(".tar")).toList();
    assertTrue(tars.size() >= 4, tars.toString());
    long repaired =
        samples(out, tars.get(0)) + samples(out, tars.get(1)) + samples(out, tars.get(3));
    Files.delete(out.resolve(tars.get(0)));
    Path truncated = out.resolve(tars.get(1));
    byte[] bytes = Files.readAllBytes(truncated);
    Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    Files.delete(out.resolve(tars.get(2) + ".json"));
    Files.writeString(out.resolve(tars.get(3) + ".json"), "{not json");

    JobFixtures.Run again = direct(out, "--format=webdataset", "--shardImages=3", "--resume");
    assertEquals(GenerateJob.EXIT_REJECTS, again.exitCode(), again.console());
    assertEquals(first, shardsAndIndexes(out), "the same bytes as the first run");
    RunSummary summary = GenerateJob.readSummary(out.toString());
    assertEquals(expected.size(), summary.getImages());
    assertTrue(summary.getImagesResumed() > 0, summary.toString());
    assertTrue(summary.getImagesGenerated() > 0, summary.toString());
    assertEquals(expected.size(), summary.getImagesResumed() + summary.getImagesGenerated());
    // A missing or damaged shard, or a manifest of garbage, is a repair; a lost manifest is not
    // (nothing says what was there).
    assertEquals(repaired, summary.getImagesRepaired(), summary.toString());
    recordsNameShardAndKey(out);
  }

  /** The samples of a shard, from its tier's index.json. */
  private static long samples(Path output, String shard) throws IOException {
    Path path = output.resolve(shard);
    JsonObject index =
        JsonParser.parseString(Files.readString(path.resolveSibling("index.json")))
            .getAsJsonObject();
    for (var s : index.getAsJsonArray("shards")) {
      if (s.getAsJsonObject().get("name").getAsString().equals(path.getFileName().toString())) {
        return s.getAsJsonObject().get("samples").getAsLong();
      }
    }
    throw new IllegalStateException(shard + " is not in its index");
  }

  @Test
  void embeddedFlinkWritesTheSameShardsAsTheDirectRunner() throws IOException {
    Path direct = sandbox.resolve("same-direct");
    Path flink = sandbox.resolve("same-flink");
    assertEquals(
        GenerateJob.EXIT_REJECTS,
        direct(direct, "--format=webdataset", "--shardImages=4").exitCode());
    JobFixtures.Run run = run("FlinkRunner", flink, "--format=webdataset", "--shardImages=4");
    assertEquals(GenerateJob.EXIT_REJECTS, run.exitCode(), run.console());
    assertEquals(shardsAndIndexes(direct), shardsAndIndexes(flink));
    assertTrue(Files.exists(flink.resolve("previews/s2-b2.png")));
    assertTrue(Files.readString(flink.resolve("report.html")).contains("s2-b2"));
  }

  @Test
  void badFormatOptionsExitTwoAndWriteNothing() throws IOException {
    Path out = sandbox.resolve("bad");
    JobFixtures.Run zip = direct(out, "--format=zip");
    assertEquals(GenerateJob.EXIT_USAGE, zip.exitCode());
    assertTrue(zip.console().contains("png, webdataset, parquet, tfrecord"), zip.console());
    for (String n : List.of("0", "1000001", "-3")) {
      JobFixtures.Run bad = direct(out, "--format=parquet", "--shardImages=" + n);
      assertEquals(GenerateJob.EXIT_USAGE, bad.exitCode(), n);
      assertTrue(bad.console().contains("--shardImages must be in [1, 1000000]"), bad.console());
    }
    assertFalse(Files.exists(out), "nothing written");

    // A shard format over a PNG tree, and the reverse, and another shard size.
    Path png = sandbox.resolve("png");
    Map<String, String> before = JobFixtures.tree(png, "");
    JobFixtures.Run over = direct(png, "--format=webdataset", "--resume");
    assertEquals(GenerateJob.EXIT_USAGE, over.exitCode());
    assertTrue(over.console().contains("already holds a PNG tree"), over.console());
    assertEquals(before, JobFixtures.tree(png, ""));

    Path wds = sandbox.resolve("wds-then-png");
    assertEquals(GenerateJob.EXIT_REJECTS, direct(wds, "--format=webdataset").exitCode());
    Map<String, String> shards = JobFixtures.tree(wds, "");
    JobFixtures.Run back = direct(wds, "--format=png");
    assertEquals(GenerateJob.EXIT_USAGE, back.exitCode());
    assertTrue(back.console().contains("already holds webdataset shards"), back.console());
    JobFixtures.Run resized = direct(wds, "--format=webdataset", "--shardImages=7", "--resume");
    assertEquals(GenerateJob.EXIT_USAGE, resized.exitCode());
    assertTrue(resized.console().contains("--shardImages=10000"), resized.console());
    assertEquals(shards, JobFixtures.tree(wds, ""));
  }

  @Test
  void planShowsTheShardsEachTierWillWrite() throws IOException {
    Path out = sandbox.resolve("plan");
    JobFixtures.Run plan = direct(out, "--format=tfrecord", "--shardImages=2", "--plan");
    assertEquals(GenerateJob.EXIT_REJECTS, plan.exitCode(), plan.console());
    assertTrue(plan.console().contains("shards"), plan.console());
    long images = expected.keySet().stream().filter(k -> k.startsWith("s2-b2/")).count();
    assertEquals(
        (images + 1) / 2,
        GenerateJob.readPlan(out.toString()).getSummary().getTiersList().stream()
            .filter(t -> t.getTierLabel().equals("s2-b2"))
            .findFirst()
            .orElseThrow()
            .getShards(),
        "ceil(images / 2) shards");
    assertFalse(Files.exists(out.resolve("dataset")));
    assertNotEquals(0, plan.console().length());
  }

  /**
   * The sha256 of every shard, index and the card: what must be identical from run to run (each
   * shard's manifest also records the run and its measured device seconds, which differ).
   */
  static Map<String, String> shardsAndIndexes(Path output) throws IOException {
    Map<String, String> files = JobFixtures.tree(output, "dataset");
    files.keySet().removeIf(p -> p.matches(".*\\.(tar|parquet|tfrecord)\\.json"));
    return files;
  }

  private static String script() throws IOException {
    Path script = sandbox.resolve("read_webdataset.py");
    if (!Files.exists(script)) {
      try (var in = DatasetJobTest.class.getResourceAsStream("read_webdataset.py")) {
        Files.write(script, in.readAllBytes());
      }
    }
    return script.toString();
  }

  private static boolean python(String code) {
    try {
      Process p = new ProcessBuilder("/usr/bin/python3", "-c", code).start();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static List<String> runPython(List<String> command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(false).start();
    String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), stderr);
    return stdout.lines().filter(l -> !l.isBlank()).toList();
  }
}
