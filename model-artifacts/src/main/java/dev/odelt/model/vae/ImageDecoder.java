package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import dev.odelt.model.Precision;
import dev.odelt.model.noise.GaussianNoise;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A decoder from latents to images: the full Stable Diffusion decoder ({@link VaeDecoder}) or the
 * tiny one ({@link TinyDecoder}); {@link #create} picks by {@link VaeConfig#isTiny()}. This class
 * holds what both share: the parameters under their diffusers names, setting them once, the
 * precision and the call that divides by s and scopes the memory.
 *
 * <p>Precision: in {@link Precision#BF16} the convolution and Linear weights and biases are held in
 * bfloat16 (converted once when set), so convolutions and matrix products run in bfloat16 and the
 * activations between them are bfloat16; norms (statistics and affine, whose parameters stay
 * float32), the activation after a norm, softmax, the division by s and the output are float32. A
 * layer whose output count is not a multiple of {@value #BF16_OUTPUT_MULTIPLE} stays float32 (the
 * full decoder's {@code post_quant_conv}, L outputs, and both decoders' last convolution, 3):
 * PyTorch 2.5.1's CPU bfloat16 3×3 convolution returned wrong values on this machine for such
 * output counts (3, 12, 24 wrong by about half the output's range; 16, 32, 64 right, whatever the
 * input channels), and these layers are a small part of the work.
 *
 * <p>A decoder is created empty, then {@link #setParameters} or {@link #initialize} sets every
 * array once; after that it is read-only and {@link #decode} is safe to call from many threads.
 */
public abstract class ImageDecoder extends VaeBlock {

  /** A layer runs in bfloat16 only when its output count is a multiple of this. */
  static final int BF16_OUTPUT_MULTIPLE = 16;

  private final VaeConfig config;
  private Map<String, Parameter> parameters = Map.of();
  private Map<String, Shape> shapes = Map.of();
  private volatile boolean loaded;
  private volatile Precision precision = Precision.FP32;

  ImageDecoder(VaeConfig config) {
    this.config = config;
  }

  /** The decoder a configuration describes, empty. */
  public static ImageDecoder create(VaeConfig config) {
    return config.isTiny() ? new TinyDecoder(config) : new VaeDecoder(config);
  }

  /** The expected shapes of a configuration's parameters, under their diffusers names. */
  public static Map<String, Shape> parameterShapes(VaeConfig config) {
    return create(config).parameterShapes();
  }

  /** Called once at the end of a subclass's constructor, after every parameter is registered. */
  final void sealParameters() {
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
   * N(0, 1/fan_in), norm scales 1 + N(0, 0.1²), shifts and biases N(0, 0.1²).
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
   * Decodes latents as the DiT outputs them into images: the raw decoder output, about [−1, 1],
   * before any clipping. Runs with PyTorch's gradient recording off (on this thread, restored
   * afterwards) and in a sub-manager of {@code latents}' manager that is closed before returning,
   * so only the result stays.
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
    NDArray first = parameters.values().iterator().next().getArray();
    if (!latents.getDevice().equals(first.getDevice())) {
      throw new IllegalArgumentException(
          "latents are on " + latents.getDevice() + ", the decoder on " + first.getDevice());
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
   * Bytes of the largest single activation one decode of (B, L, h, w) latents creates (float32),
   * for sizing decode batches: peak memory is a small multiple of it.
   */
  public abstract long largestActivationBytes(long batch, long h, long w);

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    int f = config.upsampling();
    return new Shape[] {new Shape(s.get(0), config.outChannels(), f * s.get(2), f * s.get(3))};
  }
}
