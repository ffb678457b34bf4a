package dev.odelt.model.imports;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.imports.ImportException.Problem;
import dev.odelt.model.imports.ImportOptions.Weights;
import dev.odelt.model.imports.PickleBuilder.DoubleArray;
import dev.odelt.model.imports.PickleBuilder.FloatArray;
import dev.odelt.model.io.ModelPackage;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.testing.TestVaes;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.PositionLayout;
import dev.odelt.proto.v1.TierPreset;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The importer on checkpoints pickled in Java (no Python needed): mapping, manifest, errors. */
class CheckpointImporterTest {

  static final int WIDTH = 8;
  static final int DEPTH = 2;
  static final int CLASSES = 3;
  static final int CHANNELS = 4;
  static final int PATCH = 2;
  static final Map<String, long[]> SHAPES =
      FlaxTrees.shapes(WIDTH, DEPTH, CLASSES, CHANNELS, PATCH);

  @TempDir Path dir;

  /** The checkpoint dict of the reference: params, params_ema, opt_state, step, _timestamp. */
  static byte[] checkpoint(Map<String, Object> params, Map<String, Object> ema, boolean wrap) {
    PickleBuilder b = PickleBuilder.protocol(4);
    if (wrap) {
      b.emptyDict().mark().str("train_state");
    }
    b.emptyDict().mark();
    b.str("params").value(params);
    if (ema != null) {
      b.str("params_ema").value(ema);
    }
    // opt_state = ((ScaleByAdamState(count, mu, nu), EmptyState(), ScaleByScheduleState(count)),)
    b.str("opt_state");
    b.stackGlobal("optax._src.transform", "ScaleByAdamState");
    b.mark().integer(7).value(params).value(params).tuple().op(0x81);
    b.stackGlobal("optax._src.base", "EmptyState").op(')').op(0x81);
    b.stackGlobal("optax._src.transform", "ScaleByScheduleState").mark().integer(7).tuple();
    b.op(0x81).op(0x87).op(0x85);
    b.str("step").integer(100);
    b.str("_timestamp").op('G').raw(new byte[] {0x41, (byte) 0xd9, 0, 0, 0, 0, 0, 0});
    b.setItems();
    if (wrap) {
      b.setItems();
    }
    return b.stop().toBytes();
  }

  Path write(byte[] pickle) throws IOException {
    return Files.write(dir.resolve("ckpt-" + System.nanoTime() + ".pkl"), pickle);
  }

  ImportOptions options(Path checkpoint) {
    return ImportOptions.of(checkpoint, dir.resolve("out")).withArchitecture(4, 2, 1, 1);
  }

  static Map<String, Object> params() {
    return FlaxTrees.tree(SHAPES, 1f);
  }

  /** Our name → the Flax path it comes from: the mapping of DESIGN.md §5, stated independently. */
  static Map<String, String> denseTable(int depth) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("t_embedder.mlp.0", "TimestepEmbedder_0/Dense_0");
    m.put("t_embedder.mlp.2", "TimestepEmbedder_0/Dense_1");
    m.put("d_embedder.mlp.0", "TimestepEmbedder_1/Dense_0");
    m.put("d_embedder.mlp.2", "TimestepEmbedder_1/Dense_1");
    for (int i = 0; i < depth; i++) {
      m.put("blocks." + i + ".adaLN_modulation.1", "DiTBlock_" + i + "/Dense_0");
      m.put("blocks." + i + ".attn.k", "DiTBlock_" + i + "/Dense_1");
      m.put("blocks." + i + ".attn.q", "DiTBlock_" + i + "/Dense_2");
      m.put("blocks." + i + ".attn.v", "DiTBlock_" + i + "/Dense_3");
      m.put("blocks." + i + ".attn.proj", "DiTBlock_" + i + "/Dense_4");
      m.put("blocks." + i + ".mlp.fc1", "DiTBlock_" + i + "/MlpBlock_0/Dense_0");
      m.put("blocks." + i + ".mlp.fc2", "DiTBlock_" + i + "/MlpBlock_0/Dense_1");
    }
    m.put("final_layer.adaLN_modulation.1", "FinalLayer_0/Dense_0");
    m.put("final_layer.linear", "FinalLayer_0/Dense_1");
    return m;
  }

  /** Checks every element of every tensor of a package against the numbered Flax tree. */
  static void assertImported(
      Map<String, Tensor> tensors, Map<String, long[]> shapes, int depth, float sign) {
    int checked = 0;
    for (Map.Entry<String, String> e : denseTable(depth).entrySet()) {
      Tensor w = tensors.get(e.getKey() + ".weight");
      long[] k = shapes.get(e.getValue() + "/kernel"); // (in, out)
      assertArrayEquals(new long[] {k[1], k[0]}, w.shape(), e.getKey());
      float[] data = w.data();
      for (long o = 0; o < k[1]; o++) {
        for (long i = 0; i < k[0]; i++) {
          float want = FlaxTrees.valueAt(shapes, e.getValue() + "/kernel", sign, i, o);
          assertEquals(want, data[(int) (o * k[0] + i)], e.getKey() + " [" + o + ", " + i + "]");
        }
      }
      float[] bias = tensors.get(e.getKey() + ".bias").data();
      for (int o = 0; o < bias.length; o++) {
        assertEquals(FlaxTrees.valueAt(shapes, e.getValue() + "/bias", sign, o), bias[o]);
      }
      checked += 2;
    }
    long[] conv = shapes.get("PatchEmbed_0/Conv_0/kernel"); // (kh, kw, in, out)
    Tensor proj = tensors.get("x_embedder.proj.weight"); // (out, in, kh, kw)
    assertArrayEquals(new long[] {conv[3], conv[2], conv[0], conv[1]}, proj.shape());
    float[] p = proj.data();
    for (long o = 0; o < conv[3]; o++) {
      for (long i = 0; i < conv[2]; i++) {
        for (long a = 0; a < conv[0]; a++) {
          for (long c = 0; c < conv[1]; c++) {
            long at = ((o * conv[2] + i) * conv[0] + a) * conv[1] + c;
            assertEquals(
                FlaxTrees.valueAt(shapes, "PatchEmbed_0/Conv_0/kernel", sign, a, c, i, o),
                p[(int) at]);
          }
        }
      }
    }
    float[] projBias = tensors.get("x_embedder.proj.bias").data();
    assertEquals(FlaxTrees.valueAt(shapes, "PatchEmbed_0/Conv_0/bias", sign, 0), projBias[0]);
    String[][] tables = {
      {"y_embedder.embedding_table.weight", "LabelEmbedder_0/Embed_0/embedding"},
      {"b_embedder.embedding_table.weight", "BlockEmbedder_0/Embed_0/embedding"}
    };
    for (String[] t : tables) {
      float[] table = tensors.get(t[0]).data();
      for (int j = 0; j < table.length; j++) {
        assertEquals(sign * (FlaxTrees.starts(shapes).get(t[1]) + j), table[j], t[0]);
      }
    }
    checked += 4;
    assertEquals(tensors.size(), checked, "every tensor checked");
  }

  private void assertNothingWritten() throws IOException {
    assertFalse(Files.exists(dir.resolve("out")), "output written despite the error");
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(
          files.noneMatch(f -> f.getFileName().toString().contains(".importing-")),
          "a temporary directory was left behind");
    }
  }

  @Test
  void importsEveryTensorUnderOurNamesAndLayouts() throws Exception {
    byte[] pickle = checkpoint(params(), FlaxTrees.tree(SHAPES, -1f), false);
    Path file = write(pickle);
    ImportResult result = CheckpointImporter.importCheckpoint(options(file));

    ModelPackage pkg = ModelPackages.read(result.output().toString());
    assertImported(pkg.tensors(), SHAPES, DEPTH, 1f);
    assertEquals(pkg.tensors().size(), result.tensors());
    assertEquals(100, result.step());
    assertEquals(ModelPackages.sha256(pickle), result.sourceSha256());

    ModelManifest m = pkg.manifest();
    assertEquals(WIDTH, m.getArchitecture().getHiddenSize());
    assertEquals(DEPTH, m.getArchitecture().getDepth());
    assertEquals(CLASSES, m.getArchitecture().getNumClasses());
    assertEquals(2, m.getArchitecture().getNumHeads());
    assertEquals(4, m.getArchitecture().getImageSize());
    assertEquals(CHANNELS, m.getArchitecture().getChannels());
    assertEquals(PATCH, m.getArchitecture().getPatchSize());
    assertEquals(4f, m.getArchitecture().getMlpRatio());
    assertEquals(PositionLayout.COLUMN_FIRST, m.getArchitecture().getPositionLayout());
    assertEquals("latent", m.getNormalization().getSpace());
    assertFalse(m.getUnconditional());
    assertFalse(m.hasDecoder());
    assertEquals(0, m.getClassesCount());
    String recipe = m.getProvenance().getRecipe();
    assertTrue(recipe.contains(file.getFileName().toString()), recipe);
    assertTrue(recipe.contains(result.sourceSha256()), recipe);
    assertTrue(recipe.contains("'params'"), recipe);
    assertEquals(100, m.getProvenance().getTrainingSteps());
    assertEquals("standard", m.getDefaultTier());
    List<String> names = m.getTiersList().stream().map(TierPreset::getName).toList();
    assertEquals(List.of("draft", "standard", "premium", "s1-b1", "s1-b2"), names.subList(0, 5));
    assertTrue(names.contains("s128-b2"), names.toString());
  }

  @Test
  void importsParamsEmaOnRequestAndUnwrapsTrainState() throws Exception {
    Path file = write(checkpoint(params(), FlaxTrees.tree(SHAPES, -1f), true));
    ImportResult result =
        CheckpointImporter.importCheckpoint(options(file).withWeights(Weights.PARAMS_EMA));
    assertImported(ModelPackages.read(result.output().toString()).tensors(), SHAPES, DEPTH, -1f);
    assertTrue(result.manifest().getProvenance().getRecipe().contains("'params_ema'"));
  }

  @Test
  void takesLabelsNameVersionAndDecoder() throws Exception {
    Path labels =
        Files.writeString(dir.resolve("labels.txt"), "\"cat, tabby\"\n\"dog\"\n\"crane\",\n");
    Path vae = Files.createDirectories(dir.resolve("vae"));
    byte[] vaeManifest =
        "{\"name\": \"sd-vae\", \"architecture\": {\"latentChannels\": 4}}"
            .getBytes(StandardCharsets.UTF_8);
    Files.write(vae.resolve("manifest.json"), vaeManifest);
    Files.createDirectories(dir.resolve("out")); // an existing empty directory is fine
    Path file = write(checkpoint(params(), null, false));
    ImportResult result =
        CheckpointImporter.importCheckpoint(
            options(file)
                .withLabels(labels)
                .withNameAndVersion("tiny", "2.0.0")
                .withVae(vae.toString()));
    ModelManifest m = ModelPackages.read(result.output().toString()).manifest();
    assertEquals("tiny", m.getName());
    assertEquals("2.0.0", m.getVersion());
    assertEquals(3, m.getClassesCount());
    assertEquals("tabby", m.getClasses(0).getSynonyms(0));
    assertEquals("crane", m.getClasses(2).getLabel());
    assertEquals(vae.toAbsolutePath().toString(), m.getDecoder().getLocation());
    assertEquals(ModelPackages.sha256(vaeManifest), m.getDecoder().getSha256());
  }

  @Test
  void anImportedLatentModelWithADecoderGeneratesRgbImages() throws Exception {
    Path vae = dir.resolve("vae");
    TestVaes.writeRandomPackage(vae, TestVaes.TINY, 3);
    Map<String, Object> tree = FlaxTrees.tree(SHAPES, 1e-4f); // small weights: finite images
    Path file = write(checkpoint(tree, null, false));
    ImportResult result =
        CheckpointImporter.importCheckpoint(options(file).withVae(vae.toString()));
    try (LoadedModel model = Models.load(result.manifestFile().toString(), "cpu")) {
      GeneratedImage image =
          model.sampler().sample(List.of(new SampleItem(1, 42L)), Tier.of(1, 2)).images().get(0);
      assertEquals(3, image.channels());
      assertEquals(4 * TestVaes.TINY.upsampling(), image.width());
    }
  }

  private ImportException failure(ImportOptions options) {
    return assertThrows(ImportException.class, () -> CheckpointImporter.importCheckpoint(options));
  }

  private void assertFails(ImportOptions options, Problem problem, String... named)
      throws IOException {
    ImportException e = failure(options);
    assertEquals(problem, e.problem(), e.getMessage());
    for (String n : named) {
      assertTrue(e.getMessage().contains(n), "'" + n + "' not in: " + e.getMessage());
    }
    assertNothingWritten();
  }

  @Test
  void rejectsCheckpointsWithoutParams() throws Exception {
    Path file = write(PickleBuilder.protocol(2).value(Map.of("step", 1L)).stop().toBytes());
    assertFails(options(file), Problem.NO_PARAMS, file.toString(), "'params'", "[step]");
    Path onlyParams = write(checkpoint(params(), null, false));
    assertFails(
        options(onlyParams).withWeights(Weights.PARAMS_EMA), Problem.NO_PARAMS, "'params_ema'");
    Path list = write(PickleBuilder.protocol(2).op(']').stop().toBytes());
    assertFails(options(list), Problem.NO_PARAMS, "a list");
  }

  @Test
  void rejectsMissingExtraAndMisshapenTensors() throws Exception {
    Map<String, Object> missing = params();
    FlaxTrees.remove(missing, "DiTBlock_1/Dense_2/kernel");
    assertFails(
        options(write(checkpoint(missing, null, false))),
        Problem.MISSING_TENSOR,
        "params/DiTBlock_1/Dense_2/kernel",
        "blocks.1.attn.q.weight");

    Map<String, Object> extra = params();
    FlaxTrees.put(extra, "DiTBlock_0/Dense_9/kernel", new FloatArray(new long[] {1}, new float[1]));
    assertFails(
        options(write(checkpoint(extra, null, false))),
        Problem.UNKNOWN_TENSOR,
        "params/DiTBlock_0/Dense_9/kernel");

    Map<String, Object> misshapen = params();
    FlaxTrees.put(
        misshapen,
        "DiTBlock_1/Dense_3/kernel",
        new FloatArray(new long[] {WIDTH, WIDTH - 1}, new float[WIDTH * (WIDTH - 1)]));
    assertFails(
        options(write(checkpoint(misshapen, null, false))),
        Problem.WRONG_SHAPE,
        "params/DiTBlock_1/Dense_3/kernel",
        "[8, 7]",
        "[8, 8]");

    Map<String, Object> float64 = params();
    FlaxTrees.put(
        float64, "FinalLayer_0/Dense_1/bias", new DoubleArray(new long[] {16}, new double[16]));
    assertFails(
        options(write(checkpoint(float64, null, false))),
        Problem.WRONG_SHAPE,
        "FinalLayer_0/Dense_1/bias",
        "f8");
  }

  @Test
  void rejectsAHostileObjectInPlaceOfATensorWithoutRunningIt() throws Exception {
    Path marker = dir.resolve("pwned");
    Map<String, Object> tree = params();
    FlaxTrees.put(
        tree,
        "FinalLayer_0/Dense_0/bias",
        new PickleBuilder.Call("os", "system", List.of("touch " + marker)));
    assertFails(
        options(write(checkpoint(tree, null, false))),
        Problem.WRONG_SHAPE,
        "params/FinalLayer_0/Dense_0/bias",
        "os.system");
    assertFalse(Files.exists(marker));
  }

  @Test
  void rejectsBadOptions() throws Exception {
    Path file = write(checkpoint(params(), null, false));
    assertFails(options(file).withArchitecture(4, 3, 1, 1), Problem.BAD_OPTION, "--heads=3", "8");
    assertFails(
        options(file).withPreset("imagenet-dit-z"),
        Problem.BAD_OPTION,
        "imagenet-dit-z",
        "celeba-dit-b");
    assertFails(
        options(file).withPreset("imagenet-dit-b").withArchitecture(null, null, null, null),
        Problem.BAD_OPTION,
        "--preset",
        "width 768");
    assertFails(
        options(file).withArchitecture(4, null, 1, 1), Problem.BAD_OPTION, "--heads is required");
    assertFails(options(file).withArchitecture(5, 2, 1, 1), Problem.BAD_OPTION, "--imageSize=5");
    assertFails(options(file).withArchitecture(4, 2, 3, 1), Problem.BAD_OPTION, "--depthMin=3");
    Path labels = Files.writeString(dir.resolve("two.txt"), "\"a\"\n\"b\"\n");
    assertFails(options(file).withLabels(labels), Problem.BAD_LABELS, "two.txt", "2 classes");
    Path badLabels = Files.writeString(dir.resolve("bad.txt"), "\"a\"\nb\n\"c\"\n");
    assertFails(options(file).withLabels(badLabels), Problem.BAD_LABELS, "bad.txt", "line 2");
    assertFails(options(file).withVae(dir.resolve("novae").toString()), Problem.MISSING, "--vae");
    Path rgbVae = Files.createDirectories(dir.resolve("vae3"));
    Files.writeString(
        rgbVae.resolve("manifest.json"), "{\"architecture\": {\"latentChannels\": 3}}");
    assertFails(
        options(file).withVae(rgbVae.toString()), Problem.BAD_OPTION, "--vae", "3 latent channels");
    Files.writeString(rgbVae.resolve("manifest.json"), "{\"weights\": 12}");
    assertFails(options(file).withVae(rgbVae.toString()), Problem.BAD_OPTION, "not a VAE package");
  }

  @Test
  void rejectsFilesThatAreNotCheckpoints() throws Exception {
    Path text = Files.writeString(dir.resolve("notes.pkl"), "not a pickle");
    assertFails(options(text), Problem.NOT_A_PICKLE, "notes.pkl");
    byte[] whole = checkpoint(params(), null, false);
    Path cut = write(Arrays.copyOf(whole, whole.length / 2));
    assertFails(options(cut), Problem.TRUNCATED, cut.toString());
    assertFails(options(dir.resolve("absent.pkl")), Problem.MISSING, "absent.pkl");
  }

  @Test
  void neverOverwritesANonEmptyOutput() throws Exception {
    Path out = Files.createDirectories(dir.resolve("out"));
    Files.writeString(out.resolve("keep.txt"), "mine");
    ImportException e = failure(options(write(checkpoint(params(), null, false))));
    assertEquals(Problem.OUTPUT_EXISTS, e.problem());
    assertEquals("mine", Files.readString(out.resolve("keep.txt")));
  }
}
