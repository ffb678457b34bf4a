package dev.odelt.model.imports;

import ai.djl.ndarray.types.Shape;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.model.imports.ImportException.Problem;
import dev.odelt.model.imports.PickleValues.NdArray;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.DecoderRef;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Normalization;
import dev.odelt.proto.v1.PositionLayout;
import dev.odelt.proto.v1.Provenance;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.proto.v1.VaeManifest;
import dev.odelt.storage.ObjectStores;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import dev.odelt.model.io.InputLimits;
import dev.odelt.model.io.InvalidModelPackageException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Imports a checkpoint of the paper's reference implementation (github.com/gudovskiy/odelt; a
 * pickled dict, DESIGN.md §5) into a model package.
 *
 * <p>The file is a dict with {@code params}, {@code params_ema} (the same Flax parameter tree),
 * {@code opt_state} (optax objects), {@code step} and {@code _timestamp}, possibly wrapped as
 * {@code {'train_state': …}}; trees may be plain dicts or {@code FrozenDict}s and arrays come from
 * numpy 1.x or 2.x. The file is read by {@link PickleReader}: never executed, optimizer state kept
 * as inert placeholders and its arrays never read, so memory stays at one tensor plus the pickle's
 * structure whatever the file size.
 *
 * <p>Flax names map onto the project's (model-artifacts/README.md): {@code PatchEmbed_0/Conv_0}
 * (kernel (kh, kw, in, out) → weight (out, in, kh, kw)) is {@code x_embedder.proj}; {@code
 * TimestepEmbedder_0} is time t ({@code t_embedder}), {@code TimestepEmbedder_1} the step level d
 * ({@code d_embedder}), their {@code Dense_0/1} are {@code mlp.0/2}; {@code
 * LabelEmbedder_0/Embed_0} and {@code BlockEmbedder_0/Embed_0} are the y and b tables; in {@code
 * DiTBlock_i}, {@code Dense_0} is adaLN, {@code Dense_1/2/3} are k/q/v, {@code Dense_4} the
 * attention output, {@code MlpBlock_0/Dense_0/1} the MLP; {@code FinalLayer_0/Dense_0/1} are the
 * final adaLN and linear. Dense kernels (in, out) are transposed to (out, in). {@code
 * Embed_0/embedding}, a log-variance table no sampler reads, is skipped.
 *
 * <p>Channels, patch, width, depth, MLP width and classes come from the tensor shapes; heads,
 * depth_min, G and the latent size from the options or a {@link CheckpointPreset}. Every tensor
 * name and shape is checked. The package is written to a temporary sibling directory and moved into
 * place, so on any failure nothing is left at the output. Bad input is an {@link ImportException}
 * naming the file, tensor or option.
 */
public final class CheckpointImporter {

  /** The finest step level of the paper's models (S = 128). */
  static final int MAX_STEP_LEVEL = 7;

  private static final int MAX_TREE_DEPTH = 16;
  private static final String LOG_VARIANCE_TABLE = "Embed_0/embedding";

  private CheckpointImporter() {}

  /** How a Flax array becomes one of ours. */
  private enum Layout {
    /** Same layout (biases, embedding tables). */
    COPY,
    /** Dense kernel (in, out) → Linear weight (out, in). */
    TRANSPOSE,
    /** Conv kernel (kh, kw, in, out) → (out, in, kh, kw). */
    CONV
  }

  private record Source(String flaxPath, Layout layout) {}

  /**
   * Imports a checkpoint.
   *
   * @return what was written
   * @throws ImportException for bad input (the file, a tensor, an option), with nothing written
   * @throws IOException when reading or writing fails
   */
  public static ImportResult importCheckpoint(ImportOptions options)
      throws ImportException, IOException {
    String file = options.checkpoint().toString();
    CheckpointPreset preset = null;
    if (options.preset() != null) {
      preset =
          CheckpointPreset.byName(options.preset())
              .orElseThrow(
                  () ->
                      new ImportException(
                          Problem.BAD_OPTION,
                          "--preset",
                          "unknown preset '"
                              + options.preset()
                              + "'; known: "
                              + String.join(", ", CheckpointPreset.names())));
    }
    Path output = options.output().toAbsolutePath().normalize();
    checkOutput(output);
    // Cheap inputs first, so a typo fails before a 10 GB read.
    List<ClassLabel> labels =
        options.labels() == null ? null : ImageNetLabels.read(options.labels());
    Decoder decoder = options.vae() == null ? null : decoder(options.vae());
    if (!Files.isRegularFile(options.checkpoint())) {
      throw new ImportException(
          Problem.MISSING,
          file,
          Files.exists(options.checkpoint())
              ? "the checkpoint is not a regular file (a directory, device, pipe or socket)"
              : "no such checkpoint file");
    }

    try (PickleReader pickle = PickleReader.open(options.checkpoint())) {
      Map<?, ?> state = trainState(pickle.root(), file);
      String slot = options.weights().key();
      Object tree = state.get(slot);
      if (!(tree instanceof Map<?, ?>)) {
        throw new ImportException(
            Problem.NO_PARAMS,
            file,
            (tree == null
                    ? "has no '" + slot + "'"
                    : "'" + slot + "' is " + PickleValues.describe(tree))
                + "; its keys are "
                + keysOf(state));
      }
      Map<String, NdArray> leaves = new LinkedHashMap<>();
      flatten(
          tree, "", 0, leaves, Collections.newSetFromMap(new IdentityHashMap<>()), file, slot);

      ModelConfig config = inferConfig(leaves, options, preset, file, slot);
      Map<String, Source> sources = sources(config.depth());
      Map<String, long[]> shapes = checkTensors(leaves, sources, config, file, slot);
      if (labels != null && labels.size() != config.numClasses()) {
        throw new ImportException(
            Problem.BAD_LABELS,
            options.labels().toString(),
            "has "
                + labels.size()
                + " classes, the checkpoint has "
                + config.numClasses()
                + " (label table rows − 1)");
      }
      if (decoder != null && decoder.latentChannels() != config.channels()) {
        throw new ImportException(
            Problem.BAD_OPTION,
            "--vae",
            "the decoder "
                + options.vae()
                + " decodes "
                + decoder.latentChannels()
                + " latent channels; "
                + file
                + " makes "
                + config.channels());
      }
      long step = step(state.get("step"));
      ModelManifest manifest =
          manifest(
              options,
              preset,
              config,
              labels,
              decoder == null ? null : decoder.ref(),
              pickle.sha256(),
              step);

      ModelManifest written;
      try {
        written =
          writeAtomically(
              output,
              manifest,
              shapes,
              (name, shape) -> {
                Source s = sources.get(name);
                NdArray array = leaves.get(s.flaxPath());
                float[] values = array.toFloatArray();
                for (int i = 0; i < values.length; i++) {
                  if (!Float.isFinite(values[i])) {
                    throw new InvalidModelPackageException(
                        InvalidModelPackageException.Problem.MALFORMED,
                        file,
                        "tensor '"
                            + slot
                            + "/"
                            + s.flaxPath()
                            + "' holds "
                            + values[i]
                            + " at element "
                            + i
                            + "; only finite weights are accepted");
                  }
                }
                return convert(values, array.shape(), s.layout());
              });
      } catch (InvalidModelPackageException e) {
        throw new ImportException(Problem.WRONG_SHAPE, file, e.detail(), e);
      }
      long parameters = shapes.values().stream().mapToLong(s -> new Shape(s).size()).sum();
      return new ImportResult(
          output,
          output.resolve(ModelPackages.MANIFEST),
          written,
          config,
          pickle.sha256(),
          options.weights(),
          step,
          shapes.size(),
          parameters);
    }
  }

  // ---- the checkpoint's structure ----------------------------------------------------------

  private static Map<?, ?> trainState(Object root, String file) throws ImportException {
    if (!(root instanceof Map<?, ?> map)) {
      throw new ImportException(
          Problem.NO_PARAMS,
          file,
          "the pickled object is " + PickleValues.describe(root) + ", not a dict with 'params'");
    }
    if (map.get("train_state") instanceof Map<?, ?> inner) {
      return inner;
    }
    return map;
  }

  private static String keysOf(Map<?, ?> map) {
    List<String> keys = new ArrayList<>();
    for (Object k : map.keySet()) {
      keys.add(String.valueOf(k));
    }
    return keys.toString();
  }

  /** Collects the arrays of a tree under their slash-separated paths. */
  private static void flatten(
      Object node,
      String path,
      int depth,
      Map<String, NdArray> out,
      Set<Object> visited,
      String file,
      String slot)
      throws ImportException {
    if (depth > MAX_TREE_DEPTH) {
      throw new ImportException(
          Problem.WRONG_SHAPE, file, "'" + slot + "' is nested deeper than " + MAX_TREE_DEPTH);
    }
    if (node instanceof Map<?, ?> && !visited.add(node)) {
      throw new ImportException(
          Problem.WRONG_SHAPE,
          file,
          "'" + slot + "/" + path + "' is reached twice in the tree (shared structure)");
    }
    if (out.size() >= InputLimits.MAX_PICKLE_LEAVES) {
      throw new ImportException(
          Problem.WRONG_SHAPE,
          file,
          "'"
              + slot
              + "' holds more than "
              + InputLimits.MAX_PICKLE_LEAVES
              + " arrays (the limit)");
    }
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new ImportException(
              Problem.WRONG_SHAPE,
              file,
              "'"
                  + slot
                  + "/"
                  + path
                  + "' has a key that is not a string: "
                  + PickleValues.describe(e.getKey()));
        }
        flatten(
            e.getValue(),
            path.isEmpty() ? key : path + "/" + key,
            depth + 1,
            out,
            visited,
            file,
            slot);
      }
    } else if (node instanceof NdArray array && array.isComplete()) {
      out.put(path, array);
    } else {
      throw new ImportException(
          Problem.WRONG_SHAPE,
          file,
          "'" + slot + "/" + path + "' is " + PickleValues.describe(node) + ", not a numpy array");
    }
  }

  private static NdArray needed(
      Map<String, NdArray> leaves, String path, int rank, String file, String slot)
      throws ImportException {
    NdArray array = leaves.get(path);
    if (array == null) {
      throw new ImportException(
          Problem.MISSING_TENSOR, file, "has no tensor '" + slot + "/" + path + "'");
    }
    if (array.shape().length != rank) {
      throw new ImportException(
          Problem.WRONG_SHAPE,
          file,
          "tensor '"
              + slot
              + "/"
              + path
              + "' has shape "
              + Arrays.toString(array.shape())
              + ", need "
              + rank
              + " dimensions");
    }
    return array;
  }

  /** Reads the architecture off the shapes, completing it from the options and the preset. */
  private static ModelConfig inferConfig(
      Map<String, NdArray> leaves,
      ImportOptions options,
      CheckpointPreset preset,
      String file,
      String slot)
      throws ImportException {
    long[] conv = needed(leaves, "PatchEmbed_0/Conv_0/kernel", 4, file, slot).shape();
    if (conv[0] != conv[1]) {
      throw new ImportException(
          Problem.WRONG_SHAPE,
          file,
          "patch embedding kernel " + Arrays.toString(conv) + " is not square");
    }
    String kernel = "tensor '" + slot + "/PatchEmbed_0/Conv_0/kernel'";
    int patch = limit(file, kernel + " patch side", conv[0], 1, InputLimits.MAX_PATCH);
    int channels = limit(file, kernel + " channels", conv[2], 1, InputLimits.MAX_CHANNELS);
    int width = limit(file, kernel + " width", conv[3], 1, InputLimits.MAX_WIDTH);
    int classes =
        limit(
                file,
                "tensor '" + slot + "/LabelEmbedder_0/Embed_0/embedding' rows",
                needed(leaves, "LabelEmbedder_0/Embed_0/embedding", 2, file, slot).shape()[0],
                1,
                InputLimits.MAX_CLASSES + 1L)
            - 1;
    int mlp =
        limit(
            file,
            "tensor '" + slot + "/DiTBlock_0/MlpBlock_0/Dense_0/kernel' width",
            needed(leaves, "DiTBlock_0/MlpBlock_0/Dense_0/kernel", 2, file, slot).shape()[1],
            1,
            16L * InputLimits.MAX_WIDTH);
    int depth = 0;
    for (String path : leaves.keySet()) {
      if (path.startsWith("DiTBlock_")) {
        int slash = path.indexOf('/');
        String index = path.substring("DiTBlock_".length(), slash < 0 ? path.length() : slash);
        try {
          int block = Integer.parseInt(index);
          limit(
              file,
              "tensor '" + slot + "/" + path + "' block index",
              block,
              0,
              InputLimits.MAX_DEPTH - 1L);
          depth = Math.max(depth, block + 1);
        } catch (NumberFormatException e) {
          throw new ImportException(
              Problem.UNKNOWN_TENSOR, file, "holds an unknown tensor '" + slot + "/" + path + "'");
        }
      }
    }
    if (classes < 1) {
      throw new ImportException(
          Problem.WRONG_SHAPE, file, "the label table has no class rows besides the null label");
    }
    if (preset != null
        && (preset.hiddenSize() != width
            || preset.depth() != depth
            || preset.numClasses() != classes)) {
      throw new ImportException(
          Problem.BAD_OPTION,
          "--preset",
          preset.name()
              + " expects width "
              + preset.hiddenSize()
              + ", depth "
              + preset.depth()
              + " and "
              + preset.numClasses()
              + " classes; "
              + file
              + " has width "
              + width
              + ", depth "
              + depth
              + " and "
              + classes
              + " classes");
    }
    int imageSize =
        option(options.imageSize(), preset == null ? null : preset.imageSize(), "--imageSize");
    int heads = option(options.heads(), preset == null ? null : preset.heads(), "--heads");
    int depthMin =
        option(options.depthMin(), preset == null ? null : preset.depthMin(), "--depthMin");
    int groupSize =
        option(options.groupSize(), preset == null ? null : preset.groupSize(), "--groupSize");
    try {
      InputLimits.checkArchitecture(
          file, imageSize, channels, patch, width, heads, depth, Math.max(classes, 1));
    } catch (InvalidModelPackageException e) {
      throw new ImportException(Problem.BAD_OPTION, file, e.detail(), e);
    }
    if (width % heads != 0) {
      throw new ImportException(
          Problem.BAD_OPTION,
          "--heads",
          "--heads=" + heads + " does not divide the width " + width + " of " + file);
    }
    if (imageSize % patch != 0) {
      throw new ImportException(
          Problem.BAD_OPTION,
          "--imageSize",
          "--imageSize=" + imageSize + " is not a multiple of the patch size " + patch);
    }
    if (depthMin > depth) {
      throw new ImportException(
          Problem.BAD_OPTION,
          "--depthMin",
          "--depthMin=" + depthMin + " exceeds the depth " + depth + " of " + file);
    }
    if ((depth - depthMin) % groupSize != 0) {
      throw new ImportException(
          Problem.BAD_OPTION,
          "--groupSize",
          "depth "
              + depth
              + " − depthMin "
              + depthMin
              + " is not a multiple of --groupSize="
              + groupSize);
    }
    float mlpRatio = mlp / (float) width;
    if (Math.round(width * mlpRatio) != mlp) {
      throw new ImportException(
          Problem.WRONG_SHAPE, file, "MLP width " + mlp + " is not a ratio of the width " + width);
    }
    try {
      return new ModelConfig(
          imageSize,
          channels,
          patch,
          width,
          heads,
          mlpRatio,
          depth,
          depthMin,
          groupSize,
          classes,
          MAX_STEP_LEVEL);
    } catch (IllegalArgumentException e) {
      throw new ImportException(Problem.BAD_OPTION, file, e.getMessage(), e);
    }
  }

  /** {@code value} of {@code what} within {@code [min, max]}, else WRONG_SHAPE naming the limit. */
  private static int limit(String file, String what, long value, long min, long max)
      throws ImportException {
    if (value < min || value > max) {
      throw new ImportException(
          Problem.WRONG_SHAPE,
          file,
          what + " is " + value + ", the limit is " + min + " to " + max);
    }
    return (int) value;
  }

  private static int option(Integer given, Integer fromPreset, String flag) throws ImportException {
    Integer value = given != null ? given : fromPreset;
    if (value == null) {
      throw new ImportException(
          Problem.BAD_OPTION,
          flag,
          flag
              + " is required: the checkpoint does not record it (or give --preset="
              + String.join("|", CheckpointPreset.names())
              + ")");
    }
    if (value <= 0) {
      throw new ImportException(Problem.BAD_OPTION, flag, flag + " must be positive, got " + value);
    }
    return value;
  }

  /** Our tensor name → the Flax path and layout it comes from, for a network of this depth. */
  private static Map<String, Source> sources(int depth) {
    Map<String, Source> m = new LinkedHashMap<>();
    m.put("x_embedder.proj.weight", new Source("PatchEmbed_0/Conv_0/kernel", Layout.CONV));
    m.put("x_embedder.proj.bias", new Source("PatchEmbed_0/Conv_0/bias", Layout.COPY));
    String[][] embedders = {
      {"t_embedder", "TimestepEmbedder_0"}, {"d_embedder", "TimestepEmbedder_1"}
    };
    for (String[] e : embedders) {
      dense(m, e[0] + ".mlp.0", e[1] + "/Dense_0");
      dense(m, e[0] + ".mlp.2", e[1] + "/Dense_1");
    }
    m.put(
        "y_embedder.embedding_table.weight",
        new Source("LabelEmbedder_0/Embed_0/embedding", Layout.COPY));
    m.put(
        "b_embedder.embedding_table.weight",
        new Source("BlockEmbedder_0/Embed_0/embedding", Layout.COPY));
    for (int i = 0; i < depth; i++) {
      String ours = "blocks." + i + ".";
      String flax = "DiTBlock_" + i + "/";
      dense(m, ours + "adaLN_modulation.1", flax + "Dense_0");
      dense(m, ours + "attn.k", flax + "Dense_1");
      dense(m, ours + "attn.q", flax + "Dense_2");
      dense(m, ours + "attn.v", flax + "Dense_3");
      dense(m, ours + "attn.proj", flax + "Dense_4");
      dense(m, ours + "mlp.fc1", flax + "MlpBlock_0/Dense_0");
      dense(m, ours + "mlp.fc2", flax + "MlpBlock_0/Dense_1");
    }
    dense(m, "final_layer.adaLN_modulation.1", "FinalLayer_0/Dense_0");
    dense(m, "final_layer.linear", "FinalLayer_0/Dense_1");
    return m;
  }

  private static void dense(Map<String, Source> m, String ours, String flax) {
    m.put(ours + ".weight", new Source(flax + "/kernel", Layout.TRANSPOSE));
    m.put(ours + ".bias", new Source(flax + "/bias", Layout.COPY));
  }

  /**
   * Checks that the tree holds exactly the tensors the architecture needs (plus the log-variance
   * table), each float32 with the right shape after conversion.
   *
   * @return our tensor names → shapes, in the network's parameter order
   */
  private static Map<String, long[]> checkTensors(
      Map<String, NdArray> leaves,
      Map<String, Source> sources,
      ModelConfig config,
      String file,
      String slot)
      throws ImportException {
    Map<String, Shape> expected = new OdeltNetwork(config).parameterShapes();
    if (!expected.keySet().equals(sources.keySet())) {
      throw new IllegalStateException(
          "the Flax name table and the network's parameters differ: " + expected.keySet());
    }
    TreeSet<String> used = new TreeSet<>();
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> e : expected.entrySet()) {
      Source s = sources.get(e.getKey());
      String where = "tensor '" + slot + "/" + s.flaxPath() + "' (" + e.getKey() + ")";
      NdArray array = leaves.get(s.flaxPath());
      if (array == null) {
        throw new ImportException(
            Problem.MISSING_TENSOR,
            file,
            "has no tensor '" + slot + "/" + s.flaxPath() + "', needed for " + e.getKey());
      }
      if (!array.dtype().isFloat32()) {
        throw new ImportException(
            Problem.WRONG_SHAPE, file, where + " has dtype " + array.dtype() + ", need float32");
      }
      if (!(array.data() instanceof PickleValues.Bytes bytes)
          || bytes.length() != 4 * array.size()) {
        throw new ImportException(
            Problem.WRONG_SHAPE,
            file,
            where
                + " of shape "
                + Arrays.toString(array.shape())
                + " does not hold 4 bytes per value");
      }
      long[] converted = convertShape(array.shape(), s.layout());
      long[] needed = e.getValue().getShape();
      if (converted == null || !Arrays.equals(flaxShape(needed, s.layout()), array.shape())) {
        throw new ImportException(
            Problem.WRONG_SHAPE,
            file,
            where
                + " has shape "
                + Arrays.toString(array.shape())
                + ", the architecture (width "
                + config.hiddenSize()
                + ", "
                + config.numClasses()
                + " classes, depth "
                + config.depth()
                + ") needs "
                + Arrays.toString(flaxShape(needed, s.layout())));
      }
      shapes.put(e.getKey(), needed);
      used.add(s.flaxPath());
    }
    for (String path : leaves.keySet()) {
      if (!used.contains(path) && !path.equals(LOG_VARIANCE_TABLE)) {
        throw new ImportException(
            Problem.UNKNOWN_TENSOR,
            file,
            "holds tensor '" + slot + "/" + path + "' that the architecture does not have");
      }
    }
    return shapes;
  }

  /** Our shape for a Flax shape, or null when the rank does not fit the layout. */
  private static long[] convertShape(long[] flax, Layout layout) {
    return switch (layout) {
      case COPY -> flax.clone();
      case TRANSPOSE -> flax.length == 2 ? new long[] {flax[1], flax[0]} : null;
      case CONV -> flax.length == 4 ? new long[] {flax[3], flax[2], flax[0], flax[1]} : null;
    };
  }

  /** The Flax shape that becomes {@code ours}. */
  private static long[] flaxShape(long[] ours, Layout layout) {
    return switch (layout) {
      case COPY -> ours.clone();
      case TRANSPOSE -> new long[] {ours[1], ours[0]};
      case CONV -> new long[] {ours[2], ours[3], ours[1], ours[0]};
    };
  }

  /** Converts row-major values of a Flax array into our layout. */
  private static float[] convert(float[] v, long[] shape, Layout layout) {
    switch (layout) {
      case COPY:
        return v;
      case TRANSPOSE:
        {
          int rows = (int) shape[0]; // in
          int cols = (int) shape[1]; // out
          float[] out = new float[v.length]; // (out, in)
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
              out[j * rows + i] = v[i * cols + j];
            }
          }
          return out;
        }
      case CONV:
        {
          int kh = (int) shape[0];
          int kw = (int) shape[1];
          int in = (int) shape[2];
          int outC = (int) shape[3];
          float[] out = new float[v.length]; // (out, in, kh, kw)
          for (int a = 0; a < kh; a++) {
            for (int b = 0; b < kw; b++) {
              for (int i = 0; i < in; i++) {
                for (int o = 0; o < outC; o++) {
                  out[((o * in + i) * kh + a) * kw + b] = v[((a * kw + b) * in + i) * outC + o];
                }
              }
            }
          }
          return out;
        }
      default:
        throw new IllegalStateException(layout.name());
    }
  }

  private static long step(Object value) throws IOException {
    if (value instanceof Long l) {
      return l;
    }
    if (value instanceof NdArray a && a.isComplete() && a.dtype().isInteger() && a.size() == 1) {
      return a.longValue();
    }
    return -1;
  }

  // ---- the package ---------------------------------------------------------------------------

  private static ModelManifest manifest(
      ImportOptions options,
      CheckpointPreset preset,
      ModelConfig config,
      List<ClassLabel> labels,
      DecoderRef decoder,
      String sha256,
      long step) {
    String fileName = options.checkpoint().getFileName().toString();
    String stem =
        fileName.endsWith(".pkl") ? fileName.substring(0, fileName.length() - 4) : fileName;
    String name =
        options.name() != null ? options.name() : preset != null ? preset.modelName() : stem;
    ModelManifest.Builder b =
        ModelManifest.newBuilder()
            .setName(name)
            .setVersion(options.version() != null ? options.version() : "1.0.0")
            .setDescription(
                preset != null
                    ? preset.description()
                    : "Imported from " + fileName + " (" + options.weights().key() + ")")
            .setArchitecture(
                config.toProto().toBuilder().setPositionLayout(PositionLayout.COLUMN_FIRST))
            .setNormalization(
                // The SD VAE decodes to about [-1, 1]; pixels = clip(0.5 x + 0.5).
                Normalization.newBuilder().setSpace("latent").setScale(0.5f).setShift(0.5f))
            .setUnconditional(preset != null ? preset.unconditional() : config.numClasses() == 1)
            .setDefaultTier("standard");
    if (labels != null) {
      b.addAllClasses(labels);
    }
    if (decoder != null) {
      b.setDecoder(decoder);
    }
    List<Integer> steps =
        preset != null ? preset.steps() : List.of(1, 4, 1 << config.maxStepLevel());
    List<Float> guidance = preset != null ? preset.guidance() : List.of(1f);
    b.addAllTiers(tierPresets(config, steps, guidance));
    Provenance.Builder p =
        Provenance.newBuilder()
            .setRecipe(
                "import-checkpoint of "
                    + fileName
                    + " (sha256 "
                    + sha256
                    + "), weights '"
                    + options.weights().key()
                    + "'"
                    + (step >= 0 ? ", step " + step : "")
                    + (preset != null ? ", preset " + preset.name() : ""))
            .setCreated(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    if (preset != null) {
      p.setDataset(preset.dataset())
          .setTrainedBy("Gudovskiy et al., arXiv 2506.21714 (github.com/gudovskiy/odelt)");
    }
    if (step >= 0) {
      p.setTrainingSteps(step);
    }
    return b.setProvenance(p).build();
  }

  /**
   * {@code draft} (fewest steps and blocks, one pass), {@code standard} (S = 4 or the middle step
   * count, every block, the strongest guidance) and {@code premium} (most steps, every block, the
   * strongest guidance), then the evaluation grid S × L × w under tier labels ({@code s4-b8-g1.5}).
   */
  static List<TierPreset> tierPresets(
      ModelConfig config, List<Integer> steps, List<Float> guidance) {
    List<TierPreset> out = new ArrayList<>();
    float strongest = Collections.max(guidance);
    int fewest = steps.get(0);
    int middle = steps.contains(4) ? 4 : steps.get(steps.size() / 2);
    int most = steps.get(steps.size() - 1);
    out.add(preset("draft", Tier.of(fewest, config.depthMin()), "fewest steps and blocks"));
    out.add(
        preset(
            "standard",
            Tier.of(middle, config.depth()).withGuidance(strongest),
            middle + " steps, every block"));
    out.add(
        preset(
            "premium",
            Tier.of(most, config.depth()).withGuidance(strongest),
            most + " steps, every block"));
    for (int s : steps) {
      for (int blocks : config.allowedBlocks()) {
        for (float w : guidance) {
          Tier tier = Tier.of(s, blocks).withGuidance(w);
          out.add(preset(tier.label(), tier, "the paper's evaluation setting"));
        }
      }
    }
    return out;
  }

  private static TierPreset preset(String name, Tier tier, String description) {
    return TierPreset.newBuilder()
        .setName(name)
        .setTier(tier.toProto())
        .setDescription(description)
        .build();
  }

  /** A decoder the package will name, and the latent channels it decodes. */
  private record Decoder(DecoderRef ref, int latentChannels) {}

  /**
   * The reference a model manifest gives to the VAE package at {@code vae} (a local path, made
   * absolute, or a store location): its location and its manifest's sha256.
   *
   * @throws ImportException naming {@code --vae} when there is no VAE package manifest there
   */
  public static DecoderRef decoderReference(String vae) throws ImportException, IOException {
    return decoder(vae).ref();
  }

  /** Reads the VAE package's manifest: it must parse; its sha256 goes into the model's. */
  private static Decoder decoder(String vae) throws ImportException, IOException {
    boolean local = !vae.contains("://") && !vae.startsWith("classpath:");
    String location = local ? Path.of(vae).toAbsolutePath().normalize().toString() : vae;
    String manifestAt = ModelPackages.manifestLocation(location);
    byte[] bytes;
    try {
      bytes = ObjectStores.forLocation(manifestAt).readAllBytes(manifestAt);
    } catch (FileNotFoundException | NoSuchFileException e) {
      throw new ImportException(Problem.MISSING, "--vae", "no VAE manifest at " + manifestAt, e);
    }
    VaeManifest.Builder manifest = VaeManifest.newBuilder();
    try {
      JsonFormat.parser().merge(new String(bytes, StandardCharsets.UTF_8), manifest);
    } catch (InvalidProtocolBufferException e) {
      throw new ImportException(
          Problem.BAD_OPTION,
          "--vae",
          manifestAt + " is not a VAE package manifest (import one with import-vae): "
              + e.getMessage(),
          e);
    }
    DecoderRef ref =
        DecoderRef.newBuilder().setLocation(location).setSha256(ModelPackages.sha256(bytes)).build();
    return new Decoder(ref, manifest.getArchitecture().getLatentChannels());
  }

  // ---- writing -------------------------------------------------------------------------------

  private static void checkOutput(Path output) throws ImportException, IOException {
    if (!Files.exists(output)) {
      return;
    }
    if (!Files.isDirectory(output)) {
      throw new ImportException(
          Problem.OUTPUT_EXISTS, output.toString(), "--output exists and is not a directory");
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(output)) {
      if (entries.iterator().hasNext()) {
        throw new ImportException(
            Problem.OUTPUT_EXISTS, output.toString(), "--output exists and is not empty");
      }
    }
  }

  /** Writes into a temporary sibling directory, then moves it to {@code output}. */
  private static ModelManifest writeAtomically(
      Path output,
      ModelManifest manifest,
      Map<String, long[]> shapes,
      SafeTensors.TensorValues values)
      throws IOException {
    Path parent = output.getParent();
    Files.createDirectories(parent);
    // Not Files.createTempDirectory: its owner-only permissions would stay on the package.
    Path temporary =
        Files.createDirectory(
            parent.resolve("." + output.getFileName() + ".importing-" + UUID.randomUUID()));
    try {
      ModelManifest written = ModelPackages.write(temporary, manifest, shapes, values);
      if (Files.isDirectory(output)) {
        Files.delete(output); // empty, checked before reading the checkpoint
      }
      Files.move(temporary, output, StandardCopyOption.ATOMIC_MOVE);
      return written;
    } catch (IOException | RuntimeException | Error e) {
      deleteTree(temporary);
      throw e;
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
            Files.delete(f);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            Files.delete(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
