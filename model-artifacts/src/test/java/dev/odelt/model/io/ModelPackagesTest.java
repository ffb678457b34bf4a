package dev.odelt.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.ModelManifest;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelPackagesTest {

  private static final ModelConfig CONFIG = TestModels.TINY;

  @TempDir Path dir;

  private static NDArray velocity(NDManager m, OdeltNetwork net) {
    NDArray x = m.create(new float[3 * 8 * 8 * 2], new Shape(2, 3, 8, 8)).add(0.3f);
    NDArray t = m.create(new float[] {0.2f, 0.9f});
    NDArray d = m.create(new float[] {2f, 7f});
    NDArray y = m.create(new int[] {1, 10});
    return net.velocity(new ParameterStore(m, false), x, t, d, y, 4, false);
  }

  @Test
  void saveThenLoadGivesIdenticalTensorsAndOutputs() throws Exception {
    try (NDManager m = NDManager.newBaseManager()) {
      OdeltNetwork original = new OdeltNetwork(CONFIG);
      original.initialize(m, 11, OdeltNetwork.Init.RANDOM);
      ModelManifest written = ModelPackages.write(dir, TestModels.manifest(CONFIG, 11), original);
      assertEquals(64, written.getWeights().getSha256().length());
      assertEquals(
          Files.size(dir.resolve("weights.safetensors")), written.getWeights().getSizeBytes());

      ModelPackage pkg = ModelPackages.read(dir.toString());
      assertEquals(written, pkg.manifest());
      assertEquals(CONFIG, pkg.config());
      OdeltNetwork loaded = new OdeltNetwork(CONFIG);
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      pkg.tensors().forEach((k, v) -> arrays.put(k, m.create(v.data(), new Shape(v.shape()))));
      loaded.setParameters(arrays);
      for (String name : original.namedParameters().keySet()) {
        assertArrayEquals(
            original.namedParameters().get(name).getArray().toFloatArray(),
            pkg.tensors().get(name).data(),
            name);
      }
      assertArrayEquals(velocity(m, original).toFloatArray(), velocity(m, loaded).toFloatArray());
    }
  }

  @Test
  void readsThroughFileUrisAndTheClassPath() throws Exception {
    Path pkgDir = dir.resolve("dev/odelt/models/tiny");
    TestModels.writeRandomPackage(pkgDir, CONFIG, 3);
    assertEquals(CONFIG, ModelPackages.read(pkgDir.toUri().toString() + "manifest.json").config());

    ClassLoader previous = Thread.currentThread().getContextClassLoader();
    try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, previous)) {
      Thread.currentThread().setContextClassLoader(loader);
      ModelPackage pkg = ModelPackages.read("classpath:/dev/odelt/models/tiny/manifest.json");
      assertEquals(CONFIG, pkg.config());
    } finally {
      Thread.currentThread().setContextClassLoader(previous);
    }
  }

  private Problem problemOf(String location) {
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(location));
    assertTrue(e.getMessage().contains(e.file()), e.getMessage());
    return e.problem();
  }

  private String freshPackage(String name) {
    return TestModels.writeRandomPackage(dir.resolve(name), CONFIG, 5);
  }

  /** Rewrites weights.safetensors with the given tensors and fixes the manifest's checksum. */
  private static void replaceWeights(Path pkgDir, Map<String, Tensor> tensors) throws Exception {
    replaceWeights(pkgDir, SafeTensors.write(tensors, Map.of()));
  }

  /** Rewrites weights.safetensors with the given bytes and fixes the manifest's checksum. */
  private static void replaceWeights(Path pkgDir, byte[] bytes) throws Exception {
    Files.write(pkgDir.resolve("weights.safetensors"), bytes);
    ModelManifest manifest = ModelPackages.readManifest(pkgDir.toString());
    ModelManifest fixed =
        manifest.toBuilder()
            .setWeights(
                manifest.getWeights().toBuilder()
                    .setSha256(ModelPackages.sha256(bytes))
                    .setSizeBytes(bytes.length))
            .build();
    Files.writeString(pkgDir.resolve("manifest.json"), JsonFormat.printer().print(fixed));
  }

  private static Map<String, Tensor> tensorsOf(Path pkgDir) throws Exception {
    return new LinkedHashMap<>(
        SafeTensors.read(Files.readAllBytes(pkgDir.resolve("weights.safetensors")), "w").tensors());
  }

  @Test
  void missingFilesAreReportedAsMissing() throws Exception {
    assertEquals(Problem.MISSING, problemOf(dir.resolve("nowhere").toString()));
    String manifest = freshPackage("p");
    Files.delete(dir.resolve("p/weights.safetensors"));
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(manifest));
    assertEquals(Problem.MISSING, e.problem());
    assertTrue(e.getMessage().contains("weights.safetensors"), e.getMessage());
  }

  @Test
  void truncatedWeightsAreReportedAsTruncated() throws Exception {
    String manifest = freshPackage("p");
    Path weights = dir.resolve("p/weights.safetensors");
    byte[] bytes = Files.readAllBytes(weights);
    Files.write(weights, Arrays.copyOf(bytes, bytes.length - 100));
    assertEquals(Problem.TRUNCATED, problemOf(manifest));
  }

  @Test
  void alteredWeightsFailTheChecksum() throws Exception {
    String manifest = freshPackage("p");
    Path weights = dir.resolve("p/weights.safetensors");
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 1] ^= 1;
    Files.write(weights, bytes);
    assertEquals(Problem.CHECKSUM_MISMATCH, problemOf(manifest));
  }

  @Test
  void bytesBetweenTensorsCountForTheChecksum() throws Exception {
    String manifest = freshPackage("p");
    Path weights = dir.resolve("p/weights.safetensors");
    // The same tensors behind an 8-byte gap at the start of the data section: still valid.
    byte[] packed = Files.readAllBytes(weights);
    ByteBuffer in = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength = (int) in.getLong(0);
    String header = new String(packed, 8, headerLength, StandardCharsets.UTF_8).trim();
    Matcher m = Pattern.compile("\"data_offsets\":\\[(\\d+),(\\d+)\\]").matcher(header);
    StringBuilder shifted = new StringBuilder();
    while (m.find()) {
      long begin = Long.parseLong(m.group(1)) + 8;
      long end = Long.parseLong(m.group(2)) + 8;
      m.appendReplacement(shifted, "\"data_offsets\":[" + begin + "," + end + "]");
    }
    m.appendTail(shifted);
    byte[] json = shifted.toString().getBytes(StandardCharsets.UTF_8);
    int data = packed.length - 8 - headerLength;
    ByteBuffer out =
        ByteBuffer.allocate(8 + json.length + 8 + data).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(json.length).put(json).put(new byte[8]).put(packed, 8 + headerLength, data);
    byte[] gapped = out.array();
    Map<String, Tensor> good = tensorsOf(dir.resolve("p"));
    Files.write(weights, gapped);
    ModelManifest original = ModelPackages.readManifest(manifest);
    Files.writeString(
        Path.of(manifest),
        JsonFormat.printer()
            .print(
                original.toBuilder()
                    .setWeights(
                        original.getWeights().toBuilder()
                            .setSha256(ModelPackages.sha256(gapped))
                            .setSizeBytes(gapped.length))
                    .build()));
    assertEquals(good, ModelPackages.read(manifest).tensors());
    gapped[8 + json.length + 3] ^= 1; // inside the gap, read by no tensor
    Files.write(weights, gapped);
    assertEquals(Problem.CHECKSUM_MISMATCH, problemOf(manifest));
  }

  @Test
  void wrongShapeUnknownAndMissingTensorsAreNamed() throws Exception {
    String manifest = freshPackage("p");
    Path pkgDir = dir.resolve("p");
    Map<String, Tensor> good = tensorsOf(pkgDir);

    Map<String, Tensor> wrongShape = new LinkedHashMap<>(good);
    wrongShape.put("blocks.1.attn.q.weight", new Tensor(new long[] {32, 16}, new float[512]));
    replaceWeights(pkgDir, wrongShape);
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(manifest));
    assertEquals(Problem.WRONG_SHAPE, e.problem());
    assertTrue(e.getMessage().contains("blocks.1.attn.q.weight"), e.getMessage());

    Map<String, Tensor> unknown = new LinkedHashMap<>(good);
    unknown.put("blocks.9.attn.q.weight", new Tensor(new long[] {1}, new float[1]));
    replaceWeights(pkgDir, unknown);
    e = assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(manifest));
    assertEquals(Problem.UNKNOWN_TENSOR, e.problem());
    assertTrue(e.getMessage().contains("blocks.9.attn.q.weight"), e.getMessage());

    Map<String, Tensor> missing = new LinkedHashMap<>(good);
    missing.remove("final_layer.linear.bias");
    replaceWeights(pkgDir, missing);
    e = assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(manifest));
    assertEquals(Problem.MISSING_TENSOR, e.problem());
    assertTrue(e.getMessage().contains("final_layer.linear.bias"), e.getMessage());

    byte[] withInt64 =
        SafeTensors.write(
            good, Map.of("step", new Int64Tensor(new long[] {1}, new long[] {5})), Map.of());
    replaceWeights(pkgDir, good);
    Files.write(pkgDir.resolve("weights.safetensors"), withInt64);
    ModelManifest m = ModelPackages.readManifest(pkgDir.toString());
    Files.writeString(
        pkgDir.resolve("manifest.json"),
        JsonFormat.printer()
            .print(
                m.toBuilder()
                    .setWeights(
                        m.getWeights().toBuilder()
                            .setSha256(ModelPackages.sha256(withInt64))
                            .setSizeBytes(withInt64.length))
                    .build()));
    e = assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(manifest));
    assertEquals(Problem.MALFORMED, e.problem());
    assertTrue(e.getMessage().contains("'step'"), e.getMessage());

    replaceWeights(pkgDir, good);
    assertEquals(CONFIG, ModelPackages.read(manifest).config());
  }

  @Test
  void badManifestsAreMalformed() throws Exception {
    String manifest = freshPackage("p");
    Path file = dir.resolve("p/manifest.json");
    String json = Files.readString(file);
    Files.writeString(file, json.replace("\"depthMin\": 2", "\"depthMin\": 3"));
    assertEquals(Problem.MALFORMED, problemOf(manifest));
    Files.writeString(file, "{\"name\": ", StandardCharsets.UTF_8);
    assertEquals(Problem.MALFORMED, problemOf(manifest));
  }

  @Test
  void aDamagedFileIsAChecksumProblemWhateverItsStructure() throws Exception {
    String manifest = freshPackage("p");
    Path weights = dir.resolve("p/weights.safetensors");
    byte[] bytes = Files.readAllBytes(weights);
    byte[] badHeader = bytes.clone();
    badHeader[8] = 'x'; // the JSON no longer parses, but the manifest's sha256 decides first
    Files.write(weights, badHeader);
    assertEquals(Problem.CHECKSUM_MISMATCH, problemOf(manifest));
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 4);
    Files.write(weights, longer);
    assertEquals(Problem.CHECKSUM_MISMATCH, problemOf(manifest));
    // Without a size in the manifest, a cut file still fails its sha256.
    Path file = dir.resolve("p/manifest.json");
    ModelManifest parsed = ModelPackages.readManifest(manifest);
    Files.writeString(
        file,
        JsonFormat.printer()
            .print(
                parsed.toBuilder()
                    .setWeights(parsed.getWeights().toBuilder().clearSizeBytes())
                    .build()));
    Files.write(weights, Arrays.copyOf(bytes, bytes.length - 100));
    assertEquals(Problem.CHECKSUM_MISMATCH, problemOf(manifest));
    Files.write(weights, bytes);
    assertEquals(CONFIG, ModelPackages.read(manifest).config());
  }

  @Test
  void aPackagesOwnLyingHeaderIsReportedAfterItsChecksum() throws Exception {
    String manifest = freshPackage("p");
    Path pkgDir = dir.resolve("p");
    byte[] bytes = Files.readAllBytes(pkgDir.resolve("weights.safetensors"));
    int headerLength = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    String header = new String(bytes, 8, headerLength, StandardCharsets.UTF_8).strip();
    assertTrue(header.endsWith("]}}"), header);
    // The last tensor's end offset gains a digit: its span no longer matches its shape.
    byte[] lying =
        (header.substring(0, header.length() - 3) + "4]}}").getBytes(StandardCharsets.UTF_8);
    byte[] lied =
        ByteBuffer.allocate(8 + lying.length + bytes.length - 8 - headerLength)
            .order(ByteOrder.LITTLE_ENDIAN)
            .putLong(lying.length)
            .put(lying)
            .put(bytes, 8 + headerLength, bytes.length - 8 - headerLength)
            .array();
    replaceWeights(pkgDir, lied);
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(manifest));
    assertEquals(Problem.MALFORMED, e.problem(), e.getMessage());
    assertTrue(e.getMessage().contains("data_offsets"), e.getMessage());
  }
}
