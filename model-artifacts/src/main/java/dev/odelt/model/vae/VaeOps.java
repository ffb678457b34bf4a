package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import dev.odelt.model.Precision;

/**
 * Tensor functions of the decoder on NCHW activations. Every function puts the activation first, so
 * results belong to the caller's (per-call) manager, never to the parameters' manager. They are for
 * inference: some work in place on fresh activations, and every temporary array is closed before
 * returning, since at 256×256 one activation of 128 channels is 32 MiB per image.
 *
 * <p>Precision follows the parameters: a convolution or matrix product runs in its weight's format
 * (its input converted when it differs), GroupNorm always in float32 (its input converted when it
 * is bfloat16, its result float32), so a bfloat16 decoder keeps its statistics in float32.
 */
final class VaeOps {

  /** GroupNorm's epsilon in the AutoencoderKL decoder. */
  static final float EPS = 1e-6f;

  private VaeOps() {}

  /**
   * A 2-D convolution, stride 1, zero padding {@code pad} on each side, in the weight's precision:
   * {@code x} is converted first when it is in another one (the copy is freed before returning).
   *
   * @param bias {@code null} for a convolution without bias
   */
  static NDArray conv(NDArray x, Parameter weight, Parameter bias, int pad) {
    NDArray w = weight.getArray();
    NDArray input = Precision.of(w).cast(x);
    try {
      return Conv2d.conv2d(
              input,
              w,
              bias == null ? null : bias.getArray(),
              new Shape(1, 1),
              new Shape(pad, pad),
              new Shape(1, 1))
          .singletonOrThrow();
    } finally {
      if (input != x) {
        input.close();
      }
    }
  }

  /** {@code x} as float32: {@code x} itself when it is, else a new array the caller frees. */
  static NDArray float32(NDArray x) {
    return x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
  }

  /**
   * GroupNorm with G groups and a per-channel affine: each group of C/G channels of each item is
   * normalised over its C/G·H·W values (biased variance, eps {@link #EPS}), then y·γ_c + β_c. Runs
   * as PyTorch's batch normalisation in training mode over a (1, B·G, C/G·H·W) view (axis -1: DJL
   * then passes it to torch.batch_norm unchanged, which normalises dim 1), which computes exactly
   * these per-group statistics in one pass, then the affine in place. Always in float32: a bfloat16
   * {@code x} is converted first.
   *
   * @param x (B, C, H, W), float32 or bfloat16
   * @return (B, C, H, W) float32, a new array
   */
  static NDArray groupNorm(NDArray x, int groups, Parameter gamma, Parameter beta) {
    NDArray f = float32(x);
    try {
      return groupNorm32(f, groups, gamma, beta);
    } finally {
      if (f != x) {
        f.close();
      }
    }
  }

  private static NDArray groupNorm32(NDArray x, int groups, Parameter gamma, Parameter beta) {
    Shape s = x.getShape();
    long b = s.get(0);
    long c = s.get(1);
    NDManager m = x.getManager();
    Shape stats = new Shape(b * groups);
    try (NDArray grouped = x.reshape(1, b * groups, -1); // (1, B·G, C/G·H·W), a view
        NDArray runningMean = m.zeros(stats);
        NDArray runningVar = m.ones(stats);
        NDArray one = m.ones(stats);
        NDArray zero = m.zeros(stats);
        NDArray normed =
            grouped
                .getNDArrayInternal()
                .batchNorm(grouped, runningMean, runningVar, one, zero, -1, 0.1f, EPS, true)
                .singletonOrThrow()) {
      NDArray y = normed.reshape(s); // (B, C, H, W), shares normed's storage
      try (NDArray g = gamma.getArray().reshape(1, c, 1, 1);
          NDArray bt = beta.getArray().reshape(1, c, 1, 1)) {
        return y.muli(g).addi(bt);
      }
    }
  }

  /** SiLU(x) = x·σ(x), in place: {@code x} must be a fresh activation nothing else reads. */
  static NDArray siluInPlace(NDArray x) {
    try (NDArray sigmoid = Activation.sigmoid(x)) {
      return x.muli(sigmoid);
    }
  }

  /**
   * Nearest-neighbour ×2 upsampling: every value becomes a 2×2 block.
   *
   * @param x (B, C, H, W)
   * @return (B, C, 2H, 2W), a new array
   */
  static NDArray upsampleNearest2x(NDArray x) {
    Shape s = x.getShape();
    long b = s.get(0);
    long c = s.get(1);
    long h = s.get(2);
    long w = s.get(3);
    try (NDArray column = x.reshape(b, c, h, 1, w, 1);
        NDArray spread = column.broadcast(b, c, h, 2, w, 2)) { // a view, no copy
      return spread.reshape(b, c, 2 * h, 2 * w); // the one copy
    }
  }
}
