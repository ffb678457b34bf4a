package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Precision;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.proto.v1.PositionLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The ODE_t(ODE_l) transformer (arXiv 2506.21714): a DiT whose blocks are rewired into groups of G
 * so that running only the first L blocks solves the inner (length) ODE early, conditioned on time
 * t, step level d, class label y and block count L.
 *
 * <p>Symbols: B batch, C channels, H = W image side, p patch, N = (H/p)² tokens, D width. The
 * velocity is {@code v(x, t | d, y, L)} with x (B, C, H, W) in NCHW (the reference is NHWC; only
 * the layout differs). Compute is proportional to L: exactly {@link ModelConfig#blocksRun(int)}
 * blocks run (L itself when depth_min is a multiple of G; the blocks after the last group end below
 * L would only feed the carried state, so they are skipped), no masking.
 *
 * <p>Parameters are named as in the PyTorch reference ({@code blocks.3.attn.q.weight}, Linear
 * weights (out, in)); see model-artifacts/README.md. A network is created empty, then either
 * {@link #initialize(NDManager, long, Init)} or {@link #setParameters(Map)} sets every array once.
 * After that it is read-only in inference and safe to share between threads.
 *
 * <p>Number format ({@link Precision}): chosen when the parameters are set. In {@link
 * Precision#BF16} the parameters are converted to bfloat16 once and the network computes in it as
 * the reference does (x rounded on entry, the patch tokens plus the float32 positions rounded
 * again, softmax and LayerNorm statistics in float32); {@link #velocity} takes and returns float32
 * in both formats.
 */
public final class OdeltNetwork extends NetBlock {

  /** How {@link #initialize} fills the parameters. */
  public enum Init {
    /** DiT's training initialisation: adaLN-zero (modulations and output head start at 0). */
    TRAINING,
    /** Every parameter random and non-zero: for tests and parity checks. */
    RANDOM
  }

  /** Name of the PairList option carrying the block count L in {@link #forward}. */
  public static final String BLOCKS_OPTION = "blocks";

  private final ModelConfig config;
  private final PatchEmbed xEmbedder;
  private final TimestepEmbedder tEmbedder;
  private final TimestepEmbedder dEmbedder;
  private final EmbeddingTable yEmbedder;
  private final EmbeddingTable bEmbedder;
  private final List<DitBlock> blocks;
  private final FinalLayer finalLayer;
  private final Map<String, Parameter> parameters;
  private final Map<String, Shape> shapes;

  private volatile Constants constants;
  private volatile int loadedBlocks;
  private volatile Precision precision = Precision.FP32;

  /**
   * Fixed arrays on the parameters' device: positions (1, N, D) in float32, LayerNorm ones/zeros
   * (D) in the network's format.
   */
  private record Constants(NDArray positions, NDArray ones, NDArray zeros) {}

  public OdeltNetwork(ModelConfig config) {
    this.config = config;
    int d = config.hiddenSize();
    xEmbedder = child("x_embedder", new PatchEmbed(config.channels(), config.patchSize(), d));
    tEmbedder = child("t_embedder", new TimestepEmbedder(d));
    dEmbedder = child("d_embedder", new TimestepEmbedder(d));
    yEmbedder = child("y_embedder", new EmbeddingTable(config.numClasses() + 1, d));
    bEmbedder = child("b_embedder", new EmbeddingTable(config.depth() + 1, d));
    List<DitBlock> list = new ArrayList<>();
    for (int i = 0; i < config.depth(); i++) {
      list.add(child("blocks." + i, new DitBlock(d, config.numHeads(), config.mlpHidden())));
    }
    blocks = Collections.unmodifiableList(list);
    finalLayer = child("final_layer", new FinalLayer(d, config.patchValues()));
    Map<String, Parameter> params = new LinkedHashMap<>();
    Map<String, Shape> shapeMap = new LinkedHashMap<>();
    collect("", params, shapeMap);
    parameters = Collections.unmodifiableMap(params);
    shapes = Collections.unmodifiableMap(shapeMap);
  }

  public ModelConfig config() {
    return config;
  }

  /** Every parameter under its reference name, in a stable order. */
  public Map<String, Parameter> namedParameters() {
    return parameters;
  }

  /** The expected shape of every parameter, same keys and order as {@link #namedParameters()}. */
  public Map<String, Shape> parameterShapes() {
    return shapes;
  }

  /** Number of scalar parameters. */
  public long parameterCount() {
    return shapes.values().stream().mapToLong(Shape::size).sum();
  }

  /** Number of scalar parameters a copy holding only the first {@code maxBlocks} blocks needs. */
  public long parameterCount(int maxBlocks) {
    return shapes.entrySet().stream()
        .filter(e -> neededFor(e.getKey(), maxBlocks))
        .mapToLong(e -> e.getValue().size())
        .sum();
  }

  /**
   * Whether the parameter {@code name} is needed to run at most {@code maxBlocks} blocks: every
   * parameter except those of blocks {@code blocks.i.*} with i ≥ maxBlocks.
   */
  public static boolean neededFor(String name, int maxBlocks) {
    if (!name.startsWith("blocks.")) {
      return true;
    }
    int end = name.indexOf('.', "blocks.".length());
    return Integer.parseInt(name.substring("blocks.".length(), end)) < maxBlocks;
  }

  /**
   * The block count this copy can run up to: the depth after {@link #setParameters(Map)} or
   * {@link #initialize}, {@code maxBlocks} after {@link #setParameters(Map, int)}; 0 before.
   */
  public int loadedBlocks() {
    return loadedBlocks;
  }

  /** The number format the parameters are held and computed in; float32 before they are set. */
  public Precision precision() {
    return precision;
  }

  /**
   * Sets every parameter from a map of arrays (all on one device). Fails naming the tensor when
   * one is missing, unknown or of the wrong shape. The arrays become owned by the network.
   */
  public void setParameters(Map<String, NDArray> arrays) {
    setParameters(arrays, config.depth());
  }

  /**
   * Sets the parameters a copy running at most {@code maxBlocks} blocks needs (see {@link
   * #neededFor}); the parameters of deeper blocks stay unset and {@link #velocity} rejects block
   * counts above {@code maxBlocks}. For workers dedicated to cheap tiers: less memory.
   *
   * @param maxBlocks one of {@link ModelConfig#allowedBlocks()}
   * @throws IllegalArgumentException for a bad {@code maxBlocks}, or when a needed tensor is
   *     missing, a tensor is unknown or not needed, or a shape is wrong (naming the tensor)
   */
  public void setParameters(Map<String, NDArray> arrays, int maxBlocks) {
    setParameters(arrays, maxBlocks, Precision.FP32);
  }

  /**
   * {@link #setParameters(Map, int)} in a number format: for {@link Precision#BF16} every float32
   * array is replaced by a bfloat16 copy (the float32 one is closed), so the network holds one
   * copy of its weights, half the size.
   */
  public void setParameters(Map<String, NDArray> arrays, int maxBlocks, Precision format) {
    if (!config.isAllowedBlocks(maxBlocks)) {
      throw new IllegalArgumentException(
          "maxBlocks="
              + maxBlocks
              + " is not a block count of this model; allowed: "
              + config.allowedBlocks());
    }
    for (String name : arrays.keySet()) {
      if (!parameters.containsKey(name)) {
        throw new IllegalArgumentException("Unknown tensor '" + name + "' for this architecture");
      }
      if (!neededFor(name, maxBlocks)) {
        throw new IllegalArgumentException(
            "Tensor '" + name + "' belongs to a block beyond maxBlocks=" + maxBlocks);
      }
    }
    NDManager manager = null;
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      if (!neededFor(e.getKey(), maxBlocks)) {
        continue;
      }
      NDArray array = arrays.get(e.getKey());
      if (array == null) {
        throw new IllegalArgumentException("Missing tensor '" + e.getKey() + "'");
      }
      if (!array.getShape().equals(e.getValue())) {
        throw new IllegalArgumentException(
            "Tensor '"
                + e.getKey()
                + "' has shape "
                + array.getShape()
                + ", expected "
                + e.getValue());
      }
      manager = array.getManager();
    }
    for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
      if (neededFor(e.getKey(), maxBlocks)) {
        NDArray array = arrays.get(e.getKey());
        NDArray converted = format.cast(array);
        if (converted != array) {
          array.close();
        }
        e.getValue().setArray(converted);
      }
    }
    constants = makeConstants(manager, format);
    precision = format;
    loadedBlocks = maxBlocks;
  }

  /** Fills every parameter deterministically from {@code seed}, creating arrays on {@code manager}. */
  public void initialize(NDManager manager, long seed, Init init) {
    initialize(manager, seed, init, Precision.FP32);
  }

  /**
   * {@link #initialize(NDManager, long, Init)} in a number format: the same float32 values,
   * rounded once for {@link Precision#BF16}.
   */
  public void initialize(NDManager manager, long seed, Init init, Precision format) {
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      arrays.put(e.getKey(), manager.create(initialValues(e.getKey(), e.getValue(), seed, init), e.getValue()));
    }
    setParameters(arrays, config.depth(), format);
  }

  /**
   * The values {@link #initialize} gives the parameter {@code name} of {@code shape}: a pure
   * function of its arguments, so tools can produce a network's weights one tensor at a time.
   */
  public static float[] initialValues(String name, Shape shape, long seed, Init init) {
    SplittableRandom rng = new SplittableRandom(seed ^ (name.hashCode() * 0x9E3779B97F4A7C15L));
    float[] v = new float[Math.toIntExact(shape.size())];
    boolean zeroInit =
        init == Init.TRAINING
            && (name.contains("adaLN_modulation") || name.startsWith("final_layer.linear"));
    if (zeroInit) {
      return v;
    }
    if (name.endsWith("embedding_table.weight")) {
      GaussianNoise.fill(rng, v, 0.02);
    } else if (name.startsWith("t_embedder") || name.startsWith("d_embedder")) {
      if (name.endsWith("weight")) {
        GaussianNoise.fill(rng, v, 0.02);
      } else if (init == Init.RANDOM) {
        GaussianNoise.fill(rng, v, 0.02);
      }
    } else if (name.endsWith("weight")) {
      // Xavier uniform on the (out, in·k·k) view, as DiT (also for the patch conv).
      long fanOut = shape.get(0);
      long fanIn = shape.size() / fanOut;
      double limit = Math.sqrt(6.0 / (fanIn + fanOut));
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) ((rng.nextDouble() * 2 - 1) * limit);
      }
    } else if (init == Init.RANDOM) {
      GaussianNoise.fill(rng, v, 0.02);
    }
    return v;
  }

  private Constants makeConstants(NDManager manager, Precision format) {
    int d = config.hiddenSize();
    int grid = config.imageSize() / config.patchSize();
    NDArray positions =
        manager.create(
            positionEmbedding(d, grid, config.positionLayout()),
            new Shape(1, (long) grid * grid, d)); // (1, N, D)
    return new Constants(
        positions,
        format.cast(manager.ones(new Shape(d), DataType.FLOAT32)),
        format.cast(manager.zeros(new Shape(d), DataType.FLOAT32)));
  }

  /**
   * The fixed 2-D sin-cos position embedding, (N, D) with tokens row-major (token r·grid + c is at
   * row r, column c). Each half of the channels is one 1-D embedding [sin(pos·ω_i), cos(pos·ω_i)],
   * ω_i = 1/10000^(2i/(D/2)), i &lt; D/4. {@link PositionLayout#COLUMN_FIRST} (the reference's
   * {@code meshgrid(grid_w, grid_h)}) puts the column in channels [0, D/2) and the row in [D/2, D);
   * {@link PositionLayout#ROW_FIRST} the other way round. Example, D = 8, row 1, column 2,
   * column-first: [sin 2, sin .02, cos 2, cos .02, sin 1, sin .01, cos 1, cos .01].
   *
   * @throws IllegalArgumentException for a layout other than ROW_FIRST or COLUMN_FIRST
   */
  public static float[] positionEmbedding(int hidden, int grid, PositionLayout layout) {
    if (layout != PositionLayout.ROW_FIRST && layout != PositionLayout.COLUMN_FIRST) {
      throw new IllegalArgumentException("position layout must be ROW_FIRST or COLUMN_FIRST");
    }
    boolean columnFirst = layout == PositionLayout.COLUMN_FIRST;
    int half = hidden / 2;
    int quarter = half / 2;
    float[] out = new float[grid * grid * hidden];
    for (int r = 0; r < grid; r++) {
      for (int c = 0; c < grid; c++) {
        int base = (r * grid + c) * hidden;
        int first = columnFirst ? c : r;
        int second = columnFirst ? r : c;
        for (int i = 0; i < quarter; i++) {
          double omega = 1.0 / Math.pow(10000.0, (double) i / quarter);
          out[base + i] = (float) Math.sin(first * omega);
          out[base + quarter + i] = (float) Math.cos(first * omega);
          out[base + half + i] = (float) Math.sin(second * omega);
          out[base + half + quarter + i] = (float) Math.cos(second * omega);
        }
      }
    }
    return out;
  }

  /**
   * The velocity v(x, t | d, y, L).
   *
   * @param x (B, C, H, W) state, float32, on the parameters' device
   * @param t (B) time in [0, 1]
   * @param stepLevel (B) step level d = log2(S), as a number
   * @param labels (B) integer class ids; {@link ModelConfig#nullClass()} is the null label
   * @param blocks L, one of {@link ModelConfig#allowedBlocks()}
   * @return (B, C, H, W), float32 whatever the {@link #precision()}
   */
  public NDArray velocity(
      ParameterStore ps,
      NDArray x,
      NDArray t,
      NDArray stepLevel,
      NDArray labels,
      int blocks,
      boolean training) {
    if (!config.isAllowedBlocks(blocks)) {
      throw new IllegalArgumentException(
          "blocks=" + blocks + " is not allowed by this model; allowed: " + config.allowedBlocks());
    }
    if (blocks > loadedBlocks) {
      throw new IllegalArgumentException(
          "blocks="
              + blocks
              + " needs blocks this copy of the model did not load: it holds only the first "
              + loadedBlocks
              + " (loaded with maxBlocks="
              + loadedBlocks
              + "); load the full model for deeper tiers");
    }
    Shape xs = x.getShape();
    if (xs.dimension() != 4
        || xs.get(1) != config.channels()
        || xs.get(2) != config.imageSize()
        || xs.get(3) != config.imageSize()) {
      throw new IllegalArgumentException(
          "x must be (B, "
              + config.channels()
              + ", "
              + config.imageSize()
              + ", "
              + config.imageSize()
              + "), got "
              + xs);
    }
    Constants k = constants;
    if (k == null) {
      throw new IllegalStateException("The network's parameters are not set");
    }
    // (B, N, D); in bfloat16 the sum with the float32 positions is float32, rounded once (as the
    // reference)
    NDArray tokens = precision.cast(xEmbedder.embed(ps, x, training).add(k.positions()));
    NDArray c =
        tEmbedder
            .embed(ps, t, training)
            .add(dEmbedder.embed(ps, stepLevel, training))
            .add(yEmbedder.lookup(ps, labels, training)); // (B, D)
    NDArray cb = c.add(bEmbedder.row(ps, blocks, c, training)); // (B, D)

    int g = config.groupSize();
    int run = config.blocksRun(blocks);
    NDArray xr = tokens;
    // With L < G no group ends: v_r stays the reference's zeros.
    NDArray vr = run == 0 ? tokens.zerosLike() : null; // (B, N, D)
    for (int i = 0; i < run; i++) {
      NDArray vb = this.blocks.get(i).apply(ps, xr, cb, k.ones(), k.zeros(), training);
      if (i % g == g - 1) {
        xr = xr.add(vb);
        vr = vr == null ? vb : vr.add(vb);
      } else {
        xr = vb;
      }
    }
    NDArray out = finalLayer.apply(ps, vr, c, k.ones(), k.zeros(), training); // (B, N, p·p·C)
    return Precision.FP32.cast(unpatchify(out)); // the ODE state stays float32
  }

  /** (B, N, p·p·C) with values ordered (p_row, p_col, c) → (B, C, H, W). */
  NDArray unpatchify(NDArray tokens) {
    int p = config.patchSize();
    int grid = config.imageSize() / p;
    int ch = config.channels();
    long b = tokens.getShape().get(0);
    return tokens
        .reshape(b, grid, grid, p, p, ch)
        .transpose(0, 5, 1, 3, 2, 4) // (B, C, h, p, w, p)
        .reshape(b, ch, (long) grid * p, (long) grid * p);
  }

  /** The blocks, for tests and per-block profiling. */
  public List<DitBlock> blocks() {
    return blocks;
  }

  public PatchEmbed patchEmbed() {
    return xEmbedder;
  }

  public TimestepEmbedder timeEmbedder() {
    return tEmbedder;
  }

  public TimestepEmbedder stepLevelEmbedder() {
    return dEmbedder;
  }

  public EmbeddingTable labelEmbedder() {
    return yEmbedder;
  }

  public EmbeddingTable blockCountEmbedder() {
    return bEmbedder;
  }

  public FinalLayer finalLayer() {
    return finalLayer;
  }

  /** Inputs x, t, d, y; the option {@value #BLOCKS_OPTION} gives L (default: full depth). */
  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    int l = config.depth();
    if (params != null && params.contains(BLOCKS_OPTION)) {
      l = ((Number) params.get(BLOCKS_OPTION)).intValue();
    }
    return new NDList(
        velocity(ps, inputs.get(0), inputs.get(1), inputs.get(2), inputs.get(3), l, training));
  }
}
