package dev.odelt.model.imports;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.odelt.model.imports.ImportOptions.Weights;
import dev.odelt.model.imports.PickleValues.NdArray;
import dev.odelt.model.io.ModelPackage;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checkpoints in the exact official format, written by Python's own pickle through {@code
 * tools/make_checkpoint.py}: optax states of classes this machine does not have, FrozenDict trees,
 * the {@code train_state} wrapper, numpy 1.x and 2.x module names, protocols 2–5.
 *
 * <p>Two small files are committed under {@code src/test/resources/dev/odelt/model/imports/} so
 * these paths are tested even without numpy; they were written with
 *
 * <pre>
 * make_checkpoint.py tiny-p5-numpy2-frozen-wrapped.pkl --width 4 --depth 2 --classes 3 \
 *     --protocol 5 --numpy 2 --frozen reduce --wrap --values pattern
 * make_checkpoint.py tiny-p2-numpy1-frozen-state.pkl --width 4 --depth 2 --classes 3 \
 *     --protocol 2 --numpy 1 --frozen state --values pattern
 * </pre>
 *
 * The other tests run the script and skip when Debian's python3-numpy is absent.
 */
class SyntheticCheckpointsTest {

  static final Path PYTHON = Path.of("/usr/bin/python3");
  static final Path SCRIPT = Path.of("tools/make_checkpoint.py");

  @TempDir Path dir;

  static boolean hasNumpy() {
    if (!Files.isExecutable(PYTHON)) {
      return false;
    }
    try {
      Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import numpy").start();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs the script; returns its JSON summary line. */
  static JsonObject make(Path out, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of(PYTHON.toString(), SCRIPT.toString(), out.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output;
    try (InputStream in = p.getInputStream()) {
      output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "make_checkpoint.py did not finish");
    assertEquals(0, p.exitValue(), output);
    return JsonParser.parseString(output.strip()).getAsJsonObject();
  }

  static Stream<String> variants() {
    return Stream.of(
        "--protocol 5 --numpy 1",
        "--protocol 5 --numpy 2 --frozen reduce --wrap",
        "--protocol 4 --numpy 1 --frozen state",
        "--protocol 3 --numpy 2 --frozen reduce",
        "--protocol 2 --numpy 2 --frozen state --wrap",
        "--protocol 2 --numpy 1 --no-opt-state");
  }

  @ParameterizedTest
  @MethodSource("variants")
  void importsEveryOfficialVariant(String variant) throws Exception {
    assumeTrue(hasNumpy(), "needs /usr/bin/python3 with numpy (Debian python3-numpy)");
    Path file = dir.resolve("ckpt.pkl");
    List<String> args =
        new ArrayList<>(
            List.of("--width", "8", "--depth", "2", "--classes", "3", "--values", "pattern"));
    args.addAll(List.of(variant.split(" ")));
    make(file, args.toArray(String[]::new));
    for (Weights slot : Weights.values()) {
      Path out = dir.resolve("out-" + slot);
      ImportResult result =
          CheckpointImporter.importCheckpoint(
              ImportOptions.of(file, out).withArchitecture(4, 2, 1, 1).withWeights(slot));
      assertEquals(100000, result.step());
      CheckpointImporterTest.assertImported(
          ModelPackages.read(out.toString()).tensors(),
          FlaxTrees.shapes(8, 2, 3, 4, 2),
          2,
          slot == Weights.PARAMS ? 1f : -1f);
    }
  }

  @Test
  void importsTheCommittedOfficialFormatFiles() throws Exception {
    for (String name :
        List.of("tiny-p5-numpy2-frozen-wrapped.pkl", "tiny-p2-numpy1-frozen-state.pkl")) {
      Path file = dir.resolve(name);
      try (InputStream in = getClass().getResourceAsStream(name)) {
        Files.copy(in, file);
      }
      Path out = dir.resolve("out-" + name);
      CheckpointImporter.importCheckpoint(ImportOptions.of(file, out).withArchitecture(4, 2, 1, 1));
      CheckpointImporterTest.assertImported(
          ModelPackages.read(out.toString()).tensors(), FlaxTrees.shapes(4, 2, 3, 4, 2), 2, 1f);
    }
  }

  @Test
  void importsAnXlLikeModelWhoseDepthMinIsNotAMultipleOfG() throws Exception {
    assumeTrue(hasNumpy(), "needs /usr/bin/python3 with numpy (Debian python3-numpy)");
    Path file = dir.resolve("xl.pkl");
    JsonObject family = make(file, "--family", "xl-like", "--numpy", "2", "--frozen", "reduce");
    ModelPackage pkg = importFamily(file, family);
    assertEquals(List.of(3, 5, 7), pkg.config().allowedBlocks());
    assertEquals(7, pkg.config().depth());
    assertTransposesOf(file, pkg, 7);
  }

  @Test
  void importsAnUnconditionalModel() throws Exception {
    assumeTrue(hasNumpy(), "needs /usr/bin/python3 with numpy (Debian python3-numpy)");
    Path file = dir.resolve("uncond.pkl");
    JsonObject family = make(file, "--family", "uncond", "--wrap");
    ModelPackage pkg = importFamily(file, family);
    assertEquals(1, pkg.config().numClasses());
    assertTrue(pkg.manifest().getUnconditional());
    assertArrayEquals(
        new long[] {2, 32}, pkg.tensors().get("y_embedder.embedding_table.weight").shape());
    assertTransposesOf(file, pkg, 4);
  }

  private ModelPackage importFamily(Path file, JsonObject family) throws Exception {
    Path out = dir.resolve("out");
    CheckpointImporter.importCheckpoint(
        ImportOptions.of(file, out)
            .withArchitecture(
                family.get("image_size").getAsInt(),
                family.get("heads").getAsInt(),
                family.get("depth_min").getAsInt(),
                family.get("group_size").getAsInt()));
    return ModelPackages.read(out.toString());
  }

  /** Every Dense weight of the package is the transpose of its kernel in the pickle. */
  private static void assertTransposesOf(Path file, ModelPackage pkg, int depth) throws Exception {
    try (PickleReader pickle = PickleReader.open(file)) {
      Map<?, ?> root = (Map<?, ?>) pickle.root();
      if (root.containsKey("train_state")) {
        root = (Map<?, ?>) root.get("train_state");
      }
      Map<?, ?> params = (Map<?, ?>) root.get("params");
      for (Map.Entry<String, String> e : CheckpointImporterTest.denseTable(depth).entrySet()) {
        Object node = params;
        for (String part : (e.getValue() + "/kernel").split("/")) {
          node = ((Map<?, ?>) node).get(part);
        }
        NdArray kernel = (NdArray) node;
        long[] k = kernel.shape();
        float[] flax = kernel.toFloatArray();
        Tensor w = pkg.tensors().get(e.getKey() + ".weight");
        float[] ours = w.data();
        for (int i = 0; i < k[0]; i++) {
          for (int o = 0; o < k[1]; o++) {
            assertEquals(flax[(int) (i * k[1] + o)], ours[(int) (o * k[0] + i)], e.getKey());
          }
        }
      }
    }
  }
}
