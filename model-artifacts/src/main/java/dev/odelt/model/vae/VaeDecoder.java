package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import dev.odelt.model.Precision;
import dev.odelt.model.noise.GaussianNoise;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * The decoder of the Stable Diffusion VAE (diffusers' AutoencoderKL, Rombach et al., "High-
 * Resolution Image Synthesis with Latent Diffusion Models", arXiv 2112.10752): latents to images.
 *
 * <p>Symbols (see {@link VaeConfig}): B batch, L latent channels, (h, w) latent size, c_0 … c_{n−1}
 * block channels, G GroupNorm groups, s scaling factor, f = 2^(n−1). The decoder computes, in NCHW:
 *
 * <pre>
 *   z / s → post_quant_conv 1×1 (L → L) → decoder.conv_in 3×3 (L → c_{n−1})
 *     → mid_block: resnets.0, attentions.0 (single head over h·w positions), resnets.1
 *     → up_blocks.0 … n−1 over channels c_{n−1} … c_0 (each R = layers_per_block + 1 resnets,
 *       nearest ×2 upsampling + conv 3×3 after all but the last)
 *     → conv_norm_out GroupNorm(G, eps 1e-6) → SiLU → conv_out 3×3 (c_0 → out_channels)
 * </pre>
 *
 * <p>Parameters carry their diffusers names ({@code decoder.mid_block.attentions.0.to_q.weight};
 * convolutions (out, in, kh, kw), Linear weights (out, in)). A decoder is created empty, then
 * {@link #setParameters(Map)} or {@link #initialize(NDManager, long)} sets every array once; after
 * that it is read-only and {@link #decode} is safe to call from many threads at once.
 *
 * <p>Precision: in {@link Precision#BF16} the convolution and Linear weights and biases are held in
 * bfloat16 (converted once when set), so convolutions and matrix products run in bfloat16 and the
 * activations between them are bfloat16; GroupNorm (statistics and affine, whose parameters stay
 * float32), SiLU after it, the attention's softmax, the division by s and the output are float32. A
 * layer whose output count is not a multiple of {@value #BF16_OUTPUT_MULTIPLE} stays float32 (here
 * {@code post_quant_conv}, L outputs, and {@code conv_out}, 3): PyTorch 2.5.1's CPU bfloat16 3×3
 * convolution returned wrong values on this machine for such output counts (3, 12, 24 wrong by
 * about half the output's range, 16, 32, 64 right, whatever the input channels), and both layers
 * cost well under 1 % of the decoder's operations.
 */
public final class VaeDecoder extends VaeBlock {

  /** A layer runs in bfloat16 only when its output count is a multiple of this. */
  static final int BF16_OUTPUT_MULTIPLE = 16;

  private final VaeConfig config;
  private final Parameter postQuantW;
  private final Parameter postQuantB;
  private final Parameter convInW;
  private final Parameter convInB;
  private final ResnetBlock midResnet0;
  private final MidAttention midAttention;
  private final ResnetBlock midResnet1;
  private final List<UpDecoderBlock> upBlocks;
  private final Parameter normOutW;
  private final Parameter normOutB;
  private final Parameter convOutW;
  private final Parameter convOutB;
  private final Map<String, Parameter> parameters;
  private final Map<String, Shape> shapes;

  private volatile boolean loaded;
  private volatile Precision precision = Precision.FP32;

  public VaeDecoder(VaeConfig config) {
    this.config = config;
    int latent = config.latentChannels();
    int top = config.topChannels();
    int groups = config.normNumGroups();
    postQuantW = param("post_quant_conv.weight", Parameter.Type.WEIGHT, latent, latent, 1, 1);
    postQuantB = param("post_quant_conv.bias", Parameter.Type.BIAS, latent);
    convInW = param("decoder.conv_in.weight", Parameter.Type.WEIGHT, top, latent, 3, 3);
    convInB = param("decoder.conv_in.bias", Parameter.Type.BIAS, top);
    midResnet0 = child("decoder.mid_block.resnets.0", new ResnetBlock(top, top, groups));
    midAttention = child("decoder.mid_block.attentions.0", new MidAttention(top, groups));
    midResnet1 = child("decoder.mid_block.resnets.1", new ResnetBlock(top, top, groups));
    List<Integer> channels = config.blockOutChannels();
    int n = channels.size();
    List<UpDecoderBlock> list = new ArrayList<>();
    int previous = top;
    for (int i = 0; i < n; i++) {
      int out = channels.get(n - 1 - i); // reversed block_out_channels
      list.add(
          child(
              "decoder.up_blocks." + i,
              new UpDecoderBlock(previous, out, config.resnetsPerUpBlock(), groups, i < n - 1)));
      previous = out;
    }
    upBlocks = Collections.unmodifiableList(list);
    int bottom = channels.get(0);
    normOutW = param("decoder.conv_norm_out.weight", Parameter.Type.GAMMA, bottom);
    normOutB = param("decoder.conv_norm_out.bias", Parameter.Type.BETA, bottom);
    convOutW =
        param("decoder.conv_out.weight", Parameter.Type.WEIGHT, config.outChannels(), bottom, 3, 3);
    convOutB = param("decoder.conv_out.bias", Parameter.Type.BIAS, config.outChannels());
    Map<String, Parameter> params = new LinkedHashMap<>();
    Map<String, Shape> shapeMap = new LinkedHashMap<>();
    collect("", params, shapeMap);
    parameters = Collections.unmodifiableMap(params);
    shapes = Collections.unmodifiableMap(shapeMap);
  }

  public VaeConfig config() {
    return config;
  }

  /** Every parameter under its diffusers name, in a stable order. */
  public Map<String, Parameter> namedParameters() {
    return parameters;
  }

  /** The expected shape of every parameter, same keys and order as {@link #namedParameters()}. */
  public Map<String, Shape> parameterShapes() {
    return shapes;
  }

  /** The expected shapes of a configuration's parameters, without building DJL state. */
  public static Map<String, Shape> parameterShapes(VaeConfig config) {
    return new VaeDecoder(config).parameterShapes();
  }

  /** Number of scalar parameters. */
  public long parameterCount() {
    return shapes.values().stream().mapToLong(Shape::size).sum();
  }

  /** The precision the parameters are held and the products run in. */
  public Precision precision() {
    return precision;
  }

  /** Bytes of the parameters as held: bfloat16 weights and biases take 2 bytes, the rest 4. */
  public long parameterBytes() {
    long bytes = 0;
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      bytes += e.getValue().size() * (reduced(e.getKey()) ? precision.bytesPerValue() : 4);
    }
    return bytes;
  }

  /**
   * Whether a parameter is held in the decoder's precision (else always float32): the weights and
   * biases of layers whose output count (the first dimension of both) is a multiple of {@value
   * #BF16_OUTPUT_MULTIPLE}.
   */
  private boolean reduced(String name) {
    Parameter.Type type = parameters.get(name).getType();
    return (type == Parameter.Type.WEIGHT || type == Parameter.Type.BIAS)
        && shapes.get(name).get(0) % BF16_OUTPUT_MULTIPLE == 0;
  }

  /**
   * Sets every parameter from a map of float32 arrays (all on one device), in float32. The arrays
   * become owned by the decoder.
   *
   * @throws IllegalArgumentException naming the tensor when one is missing, unknown or of the wrong
   *     shape (nothing is set then)
   */
  public void setParameters(Map<String, NDArray> arrays) {
    setParameters(arrays, Precision.FP32);
  }

  /**
   * Sets every parameter from a map of float32 arrays (all on one device), converting weights and
   * biases to {@code precision} (the float32 arrays given are then freed). The arrays become owned
   * by the decoder.
   *
   * @throws IllegalArgumentException naming the tensor when one is missing, unknown or of the wrong
   *     shape (nothing is set then)
   */
  public void setParameters(Map<String, NDArray> arrays, Precision precision) {
    for (String name : arrays.keySet()) {
      if (!parameters.containsKey(name)) {
        throw new IllegalArgumentException("Unknown tensor '" + name + "' for this VAE decoder");
      }
    }
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
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
    }
    for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
      NDArray array = arrays.get(e.getKey());
      if (reduced(e.getKey()) && precision != Precision.of(array)) {
        NDArray converted = precision.cast(array);
        converted.setRequiresGradient(false);
        array.close();
        array = converted;
      }
      e.getValue().setArray(array);
    }
    this.precision = precision;
    loaded = true;
  }

  /**
   * Fills every parameter deterministically from {@code seed} (for tests and benchmarks): kernels
   * N(0, 1/fan_in), GroupNorm scales 1 + N(0, 0.1²), shifts and biases N(0, 0.1²).
   */
  public void initialize(NDManager manager, long seed) {
    initialize(manager, seed, Precision.FP32);
  }

  /** As {@link #initialize(NDManager, long)}, the values rounded to {@code precision} once. */
  public void initialize(NDManager manager, long seed, Precision precision) {
    Map<String, NDArray> arrays = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      String name = e.getKey();
      Shape shape = e.getValue();
      SplittableRandom rng = new SplittableRandom(seed ^ (name.hashCode() * 0x9E3779B97F4A7C15L));
      float[] v = new float[Math.toIntExact(shape.size())];
      Parameter.Type type = parameters.get(name).getType();
      if (type == Parameter.Type.WEIGHT) {
        GaussianNoise.fill(rng, v, Math.sqrt(1.0 / (shape.size() / shape.get(0))));
      } else {
        GaussianNoise.fill(rng, v, 0.1);
        if (type == Parameter.Type.GAMMA) {
          for (int i = 0; i < v.length; i++) {
            v[i] += 1f;
          }
        }
      }
      NDArray array = manager.create(v, shape);
      array.setRequiresGradient(false);
      arrays.put(name, array);
    }
    setParameters(arrays, precision);
  }

  /**
   * Decodes latents as the DiT outputs them (already multiplied by s) into images: the raw decoder
   * output, about [−1, 1], before any clipping. Runs with PyTorch's gradient recording off (on this
   * thread, restored afterwards) and in a sub-manager of {@code latents}' manager that is closed
   * before returning, so only the result stays.
   *
   * @param latents (B, L, h, w) float32 on this decoder's device; left intact
   * @return (B, out_channels, f·h, f·w) float32 on {@code latents}' manager, whatever the decoder's
   *     precision
   * @throws IllegalArgumentException for a wrong shape, type or device
   * @throws IllegalStateException when the parameters are not set
   */
  public NDArray decode(NDArray latents) {
    Shape s = latents.getShape();
    if (s.dimension() != 4 || s.get(1) != config.latentChannels() || s.size() == 0) {
      throw new IllegalArgumentException(
          "latents must be (B, " + config.latentChannels() + ", h, w) with B, h, w > 0, got " + s);
    }
    if (latents.getDataType() != DataType.FLOAT32) {
      throw new IllegalArgumentException("latents must be float32, got " + latents.getDataType());
    }
    if (!loaded) {
      throw new IllegalStateException("The VAE decoder's parameters are not set");
    }
    if (!latents.getDevice().equals(postQuantW.getArray().getDevice())) {
      throw new IllegalArgumentException(
          "latents are on "
              + latents.getDevice()
              + ", the decoder on "
              + postQuantW.getArray().getDevice());
    }
    NDManager caller = latents.getManager();
    boolean pytorch = "PyTorch".equals(caller.getEngine().getEngineName());
    boolean gradMode = pytorch && JniUtils.isGradMode();
    if (gradMode) {
      JniUtils.setGradMode(false);
    }
    try (NDManager call = caller.newSubManager()) {
      NDArray divisor = call.create(config.scalingFactor());
      NDArray z = latents.div(divisor); // (B, L, h, w), on the caller's manager: move it
      z.attach(call);
      NDArray images = VaeOps.float32(apply(z));
      images.attach(caller);
      return images;
    } finally {
      if (gradMode) {
        JniUtils.setGradMode(true);
      }
    }
  }

  /**
   * The decoder on latents already divided by s, freeing every intermediate as soon as the next one
   * exists.
   *
   * @param z (B, L, h, w), left intact
   * @return (B, out_channels, f·h, f·w)
   */
  @Override
  NDArray apply(NDArray z) {
    NDArray h = VaeOps.conv(z, postQuantW, postQuantB, 0); // (B, L, h, w)
    h = then(h, x -> VaeOps.conv(x, convInW, convInB, 1)); // (B, c_{n−1}, h, w)
    h = then(h, midResnet0::apply);
    h = then(h, midAttention::apply);
    h = then(h, midResnet1::apply);
    for (UpDecoderBlock block : upBlocks) {
      h = then(h, block::apply); // (B, c, 2h', 2w') except after the last
    }
    h =
        then(
            h,
            x ->
                VaeOps.siluInPlace(
                    VaeOps.groupNorm(x, config.normNumGroups(), normOutW, normOutB)));
    return then(h, x -> VaeOps.conv(x, convOutW, convOutB, 1)); // (B, out_channels, f·h, f·w)
  }

  /** Applies {@code step} and frees its input. */
  private static NDArray then(NDArray x, UnaryOperator<NDArray> step) {
    try (x) {
      return step.apply(x);
    }
  }

  /**
   * Bytes of the largest single activation one decode of (B, L, h, w) latents creates (float32):
   * the output of the last upsampling convolution, or of the last block's resnets, whichever is
   * larger; the attention's (B, h·w, h·w) scores when they are. Peak memory is a small multiple of
   * it (a resnet holds its input, two intermediates and its output), for sizing decode batches.
   */
  public long largestActivationBytes(long batch, long h, long w) {
    List<Integer> channels = config.blockOutChannels();
    int n = channels.size();
    long largest = batch * h * w * h * w; // attention scores
    long side = 1;
    for (int i = 0; i < n; i++) {
      long c = channels.get(n - 1 - i);
      largest = Math.max(largest, batch * c * h * w * side * side);
      if (i < n - 1) {
        side *= 2;
        largest = Math.max(largest, batch * c * h * w * side * side); // upsampled
      }
    }
    return 4 * largest;
  }

  public List<UpDecoderBlock> upBlocks() {
    return upBlocks;
  }

  public ResnetBlock midResnet(int index) {
    return index == 0 ? midResnet0 : midResnet1;
  }

  public MidAttention midAttention() {
    return midAttention;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    int f = config.upsampling();
    return new Shape[] {new Shape(s.get(0), config.outChannels(), f * s.get(2), f * s.get(3))};
  }
}
