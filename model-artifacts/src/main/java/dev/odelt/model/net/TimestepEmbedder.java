package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Embeds a scalar per item (the time t ∈ [0, 1], or the step level d) as in the reference: a
 * 256-wide sinusoidal code {@code [cos(s·f_j), sin(s·f_j)]}, f_j = exp(−ln(10⁴)·j/128), with s
 * <b>not</b> scaled by 1000, then Linear(256→D), SiLU, Linear(D→D).
 */
public final class TimestepEmbedder extends NetBlock {

  /** Width of the sinusoidal code. */
  public static final int FREQUENCY_SIZE = 256;

  private static final float[] FREQUENCIES = frequencies();

  private final Parameter w0;
  private final Parameter b0;
  private final Parameter w2;
  private final Parameter b2;

  public TimestepEmbedder(int hidden) {
    w0 = param("mlp.0.weight", Parameter.Type.WEIGHT, hidden, FREQUENCY_SIZE);
    b0 = param("mlp.0.bias", Parameter.Type.BIAS, hidden);
    w2 = param("mlp.2.weight", Parameter.Type.WEIGHT, hidden, hidden);
    b2 = param("mlp.2.bias", Parameter.Type.BIAS, hidden);
  }

  private static float[] frequencies() {
    int half = FREQUENCY_SIZE / 2;
    float[] f = new float[half];
    for (int j = 0; j < half; j++) {
      f[j] = (float) Math.exp(-Math.log(10000.0) * j / half);
    }
    return f;
  }

  /** The sinusoidal code alone: (B) → (B, 256), order [cos, sin]. */
  public static NDArray sinusoidal(NDArray s) {
    NDArray freqs = s.getManager().create(FREQUENCIES, new Shape(1, FREQUENCIES.length));
    NDArray args = s.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).reshape(-1, 1).mul(freqs);
    return args.cos().concat(args.sin(), 1);
  }

  /**
   * @param s (B) values to embed
   * @return (B, D)
   */
  public NDArray embed(ParameterStore ps, NDArray s, boolean training) {
    NDArray weight = value(ps, w0, s, training);
    // The code is computed in float32, then rounded to the parameters' format (as the reference).
    NDArray h = Ops.linear(Ops.castLike(sinusoidal(s), weight), weight, value(ps, b0, s, training));
    return Ops.linear(Ops.silu(h), value(ps, w2, s, training), value(ps, b2, s, training));
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(embed(ps, inputs.singletonOrThrow(), training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {new Shape(inputShapes[0].get(0), w2.getArray().getShape().get(0))};
  }
}
