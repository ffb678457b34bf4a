package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import dev.odelt.model.Precision;

/**
 * The mid block's single-head self-attention over the N = H·W positions (diffusers' Attention with
 * one head of dimension C, residual connection, output scale 1): GroupNorm (G groups, eps 1e-6) →
 * q, k, v = Linear(C → C) per position → softmax(q·kᵀ/√C)·v → {@code to_out.0} Linear → plus the
 * input. Linear weights are (out, in), as in PyTorch; the diffusers names are kept ({@code to_q},
 * {@code to_k}, {@code to_v}, {@code to_out.0}, {@code group_norm}).
 *
 * <p>In a bfloat16 decoder the products run in bfloat16 and the GroupNorm and softmax in float32.
 */
public final class MidAttention extends VaeBlock {

  private final int channels;
  private final int groups;
  private final Parameter normW;
  private final Parameter normB;
  private final Parameter qW;
  private final Parameter qB;
  private final Parameter kW;
  private final Parameter kB;
  private final Parameter vW;
  private final Parameter vB;
  private final Parameter outW;
  private final Parameter outB;

  public MidAttention(int channels, int groups) {
    this.channels = channels;
    this.groups = groups;
    normW = param("group_norm.weight", Parameter.Type.GAMMA, channels);
    normB = param("group_norm.bias", Parameter.Type.BETA, channels);
    qW = param("to_q.weight", Parameter.Type.WEIGHT, channels, channels);
    qB = param("to_q.bias", Parameter.Type.BIAS, channels);
    kW = param("to_k.weight", Parameter.Type.WEIGHT, channels, channels);
    kB = param("to_k.bias", Parameter.Type.BIAS, channels);
    vW = param("to_v.weight", Parameter.Type.WEIGHT, channels, channels);
    vB = param("to_v.bias", Parameter.Type.BIAS, channels);
    outW = param("to_out.0.weight", Parameter.Type.WEIGHT, channels, channels);
    outB = param("to_out.0.bias", Parameter.Type.BIAS, channels);
  }

  /**
   * @param x (B, C, H, W), left intact
   * @return (B, C, H, W)
   */
  @Override
  public NDArray apply(NDArray x) {
    Shape s = x.getShape();
    long b = s.get(0);
    long h = s.get(2);
    long w = s.get(3);
    NDArray q;
    NDArray k;
    NDArray v;
    Precision precision = Precision.of(qW.getArray());
    try (NDArray normed = VaeOps.groupNorm(x, groups, normW, normB); // float32
        NDArray cast = precision.cast(normed);
        NDArray flat = cast.reshape(b, channels, h * w);
        NDArray tokens = flat.transpose(0, 2, 1)) { // (B, N, C), a view
      q = linear(tokens, qW, qB); // (B, N, C)
      k = linear(tokens, kW, kB);
      v = linear(tokens, vW, vB);
    }
    NDArray attended;
    try (NDArray scale = x.getManager().create((float) (1 / Math.sqrt(channels)));
        NDArray qs = q.muli(scale);
        NDArray kt = k.transpose(0, 2, 1); // (B, C, N)
        NDArray scores = qs.matMul(kt); // (B, N, N)
        NDArray weights = softmax(scores, precision)) {
      k.close();
      attended = weights.matMul(v); // (B, N, C)
    }
    v.close();
    try (attended;
        NDArray projected = linear(attended, outW, outB); // (B, N, C)
        NDArray channelsFirst = projected.transpose(0, 2, 1)) { // (B, C, N), a view
      return channelsFirst.reshape(b, channels, h, w).addi(x); // (B, C, H, W)
    }
  }

  /** Softmax over the last axis in float32, returned in {@code precision}. */
  private static NDArray softmax(NDArray scores, Precision precision) {
    if (precision == Precision.FP32) {
      return scores.softmax(-1);
    }
    try (NDArray wide = scores.toType(DataType.FLOAT32, false);
        NDArray weights = wide.softmax(-1)) {
      return precision.cast(weights);
    }
  }

  private static NDArray linear(NDArray x, Parameter weight, Parameter bias) {
    return Linear.linear(x, weight.getArray(), bias.getArray()).singletonOrThrow();
  }

  public int channels() {
    return channels;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
