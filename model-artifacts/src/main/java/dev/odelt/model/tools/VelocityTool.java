package dev.odelt.model.tools;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.io.InputLimits;
import dev.odelt.model.io.Int64Tensor;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.proto.v1.ModelManifest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One velocity evaluation v(x, t | d, y, L) of a model package on inputs from a safetensors file,
 * in the reference implementation's layout, so that anyone can check the network against their own
 * reference. Float32 on the CPU, gradients off.
 *
 * <p>Input file: {@code x} F32 (B, H, W, C) in NHWC, the reference's layout; {@code t} F32 (B), the
 * time in [0, 1]; {@code level} I64 (B), the step level d = log2(S) in [0, max_step_level]; {@code
 * label} I64 (B), a class id in [0, num_classes], num_classes being the null label. Other tensors
 * are ignored. Output file: {@code v} F32 (B, H, W, C), metadata naming the model, L and layout.
 * The network itself works in NCHW: x is transposed on the way in and v on the way out.
 *
 * <p>Guarantees: every check (model manifest, L, tensor names, dtypes, shapes and value ranges,
 * weights) happens before anything is written; a problem is a {@link ToolInputException} naming the
 * flag, file or tensor, and then no output file exists (the output is written to a temporary file
 * beside it and moved into place).
 */
public final class VelocityTool {

  public static final String X = "x";
  public static final String T = "t";
  public static final String LEVEL = "level";
  public static final String LABEL = "label";
  public static final String V = "v";

  private VelocityTool() {}

  /** What a run computed, for the command line's one-line report. */
  public record Result(String model, int blocks, int batch, int height, int width, int channels) {}

  /**
   * Checked inputs of one call, in the reference's layout.
   *
   * @param xNhwc (B, H, W, C) state
   * @param t (B) time
   * @param level (B) step level d
   * @param label (B) class id, num_classes = null label
   */
  public record Inputs(
      int batch, int side, int channels, float[] xNhwc, float[] t, long[] level, long[] label) {}

  /**
   * Reads {@code inputs}, evaluates the model at L = {@code blocks} and writes {@code output}.
   *
   * @param model a model package: its manifest.json or directory (local, gs:// or classpath:)
   * @throws ToolInputException for a model that cannot be read, an L the model does not allow, or
   *     inputs with missing tensors, wrong dtypes, shapes or values; nothing is written then
   * @throws IOException when a file cannot be read or written for other reasons
   */
  public static Result run(String model, Path inputs, int blocks, Path output)
      throws ToolInputException, IOException {
    ModelManifest manifest = readManifest(model);
    ModelConfig config;
    try {
      config = ModelConfig.fromProto(manifest.getArchitecture());
      InputLimits.checkManifest(ModelPackages.manifestLocation(model), manifest, config);
    } catch (IllegalArgumentException e) {
      throw new ToolInputException("--model: " + model + ": " + e.getMessage(), e);
    } catch (InvalidModelPackageException e) {
      throw new ToolInputException("--model: " + e.getMessage(), e);
    }
    if (!config.isAllowedBlocks(blocks)) {
      throw new ToolInputException(
          "--blocks="
              + blocks
              + " is not allowed by the model "
              + manifest.getName()
              + "; allowed: "
              + config.allowedBlocks());
    }
    checkOutput(output);
    Inputs in = readInputs(inputs, config);
    float[] v;
    try (LoadedModel loaded = loadModel(model, blocks)) {
      v = velocity(loaded, in, blocks);
    }
    long[] shape = {in.batch(), in.side(), in.side(), in.channels()};
    Map<String, Tensor> out = new LinkedHashMap<>();
    out.put(V, new Tensor(shape, v));
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("model", manifest.getName() + " " + manifest.getVersion());
    metadata.put("blocks", Integer.toString(blocks));
    metadata.put("layout", "NHWC");
    writeAtomically(output, SafeTensors.write(out, metadata));
    return new Result(
        manifest.getName() + " " + manifest.getVersion(),
        blocks,
        in.batch(),
        in.side(),
        in.side(),
        in.channels());
  }

  private static ModelManifest readManifest(String model) throws ToolInputException, IOException {
    try {
      return ModelPackages.readManifest(model);
    } catch (InvalidModelPackageException e) {
      throw new ToolInputException("--model: " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      // The store itself refuses (gs:// without credentials, an unknown scheme): the user's flag.
      throw new ToolInputException("--model: cannot read " + model + ": " + e.getMessage(), e);
    }
  }

  private static LoadedModel loadModel(String model, int blocks)
      throws ToolInputException, IOException {
    try {
      return Models.loadNetwork(model, "cpu", blocks);
    } catch (InvalidModelPackageException e) {
      throw new ToolInputException("--model: " + e.getMessage(), e);
    }
  }

  private static void checkOutput(Path output) throws ToolInputException {
    if (output.getFileName() == null) {
      throw new ToolInputException("--output: '" + output + "' is not a file name");
    }
    if (Files.isDirectory(output)) {
      throw new ToolInputException("--output: " + output + " is a directory, need a file name");
    }
    Path parent = output.toAbsolutePath().getParent();
    if (parent != null && Files.exists(parent) && !Files.isDirectory(parent)) {
      throw new ToolInputException("--output: " + parent + " is not a directory");
    }
  }

  /** Reads and checks the input file against the model (see the class comment). */
  public static Inputs readInputs(Path file, ModelConfig config)
      throws ToolInputException, IOException {
    if (!Files.exists(file)) {
      throw new ToolInputException("--inputs: " + file + " does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw new ToolInputException(
          "--inputs: " + file + " is not a regular file (a directory, device, pipe or socket)");
    }
    SafeTensors st;
    try (InputStream in = Files.newInputStream(file)) {
      st = SafeTensors.read(in, file.toString(), Files.size(file));
    } catch (InvalidModelPackageException e) {
      throw new ToolInputException("--inputs: not a usable safetensors file: " + e.getMessage(), e);
    }
    String where = "--inputs " + file + ": tensor '";
    Tensor x = floatTensor(st, X, where);
    long[] xs = x.shape();
    int side = config.imageSize();
    int channels = config.channels();
    if (xs.length != 4 || xs[0] < 1 || xs[1] != side || xs[2] != side || xs[3] != channels) {
      throw new ToolInputException(
          where
              + X
              + "' has shape "
              + Arrays.toString(xs)
              + ", need (B, "
              + side
              + ", "
              + side
              + ", "
              + channels
              + ") in NHWC with B >= 1");
    }
    if (xs[0] > InputLimits.MAX_BATCH) {
      throw new ToolInputException(
          where + X + "' holds " + xs[0] + " images, the limit is " + InputLimits.MAX_BATCH);
    }
    int batch = Math.toIntExact(xs[0]);
    Tensor t = floatTensor(st, T, where);
    checkVector(t.shape(), batch, T, where);
    Int64Tensor level = longTensor(st, LEVEL, where);
    checkVector(level.shape(), batch, LEVEL, where);
    Int64Tensor label = longTensor(st, LABEL, where);
    checkVector(label.shape(), batch, LABEL, where);
    float[] xValues = x.data();
    for (int i = 0; i < xValues.length; i++) {
      if (!Float.isFinite(xValues[i])) {
        throw new ToolInputException(where + X + "' holds a non-finite value at flat index " + i);
      }
    }
    float[] tValues = t.data();
    for (int i = 0; i < batch; i++) {
      if (!Float.isFinite(tValues[i])) {
        throw new ToolInputException(where + T + "' holds " + tValues[i] + " at " + i);
      }
    }
    long[] levels = level.data();
    for (int i = 0; i < batch; i++) {
      if (levels[i] < 0 || levels[i] > config.maxStepLevel()) {
        throw new ToolInputException(
            where
                + LEVEL
                + "' holds "
                + levels[i]
                + " at "
                + i
                + "; step levels are 0.."
                + config.maxStepLevel());
      }
    }
    long[] labels = label.data();
    for (int i = 0; i < batch; i++) {
      if (labels[i] < 0 || labels[i] > config.nullClass()) {
        throw new ToolInputException(
            where
                + LABEL
                + "' holds "
                + labels[i]
                + " at "
                + i
                + "; labels are 0.."
                + config.nullClass()
                + " ("
                + config.nullClass()
                + " = the null label)");
      }
    }
    return new Inputs(batch, side, channels, xValues, tValues, levels, labels);
  }

  private static Tensor floatTensor(SafeTensors st, String name, String where)
      throws ToolInputException {
    Tensor tensor = st.tensors().get(name);
    if (tensor == null) {
      throw new ToolInputException(where + name + "' " + absentOrDtype(st, name, "F32"));
    }
    return tensor;
  }

  private static Int64Tensor longTensor(SafeTensors st, String name, String where)
      throws ToolInputException {
    Int64Tensor tensor = st.int64Tensors().get(name);
    if (tensor == null) {
      throw new ToolInputException(where + name + "' " + absentOrDtype(st, name, "I64"));
    }
    return tensor;
  }

  private static String absentOrDtype(SafeTensors st, String name, String need) {
    String dtype = st.dtypeOf(name);
    return dtype == null
        ? "is missing (need " + need + ")"
        : "has dtype " + dtype + ", need " + need;
  }

  private static void checkVector(long[] shape, int batch, String name, String where)
      throws ToolInputException {
    if (shape.length != 1 || shape[0] != batch) {
      throw new ToolInputException(
          where + name + "' has shape " + Arrays.toString(shape) + ", need (" + batch + ")");
    }
  }

  /**
   * v for checked inputs at L = {@code blocks}, as (B, H, W, C) NHWC values.
   *
   * @throws IllegalArgumentException when the model does not allow or did not load L blocks
   */
  public static float[] velocity(LoadedModel model, Inputs in, int blocks) {
    int b = in.batch();
    int s = in.side();
    int c = in.channels();
    float[] levels = new float[b];
    int[] labels = new int[b];
    for (int i = 0; i < b; i++) {
      levels[i] = in.level()[i];
      labels[i] = Math.toIntExact(in.label()[i]);
    }
    boolean pytorch = "PyTorch".equals(model.manager().getEngine().getEngineName());
    boolean gradMode = pytorch && JniUtils.isGradMode();
    if (gradMode) {
      JniUtils.setGradMode(false);
    }
    try (NDManager m = model.manager().newSubManager()) {
      NDArray x = m.create(toNchw(in.xNhwc(), b, s, s, c), new Shape(b, c, s, s)); // (B, C, H, W)
      NDArray v =
          model
              .network()
              .velocity(
                  new ParameterStore(m, false),
                  x,
                  m.create(in.t()), // (B)
                  m.create(levels), // (B)
                  m.create(labels), // (B)
                  blocks,
                  false); // (B, C, H, W)
      return toNhwc(v.toFloatArray(), b, c, s, s);
    } finally {
      if (gradMode) {
        JniUtils.setGradMode(true);
      }
    }
  }

  /** (B, H, W, C) → (B, C, H, W). */
  public static float[] toNchw(float[] nhwc, int b, int h, int w, int c) {
    float[] out = new float[nhwc.length];
    for (int n = 0; n < b; n++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          for (int ch = 0; ch < c; ch++) {
            out[((n * c + ch) * h + y) * w + x] = nhwc[((n * h + y) * w + x) * c + ch];
          }
        }
      }
    }
    return out;
  }

  /** (B, C, H, W) → (B, H, W, C). */
  public static float[] toNhwc(float[] nchw, int b, int c, int h, int w) {
    float[] out = new float[nchw.length];
    for (int n = 0; n < b; n++) {
      for (int ch = 0; ch < c; ch++) {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            out[((n * h + y) * w + x) * c + ch] = nchw[((n * c + ch) * h + y) * w + x];
          }
        }
      }
    }
    return out;
  }

  private static void writeAtomically(Path output, byte[] bytes) throws IOException {
    Path target = output.toAbsolutePath();
    Path dir = target.getParent();
    Files.createDirectories(dir);
    Path temp = Files.createTempFile(dir, "." + target.getFileName(), ".part");
    try {
      Files.write(temp, bytes);
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
