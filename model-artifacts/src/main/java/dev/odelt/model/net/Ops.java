package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import dev.odelt.model.Precision;

/**
 * Tensor functions shared by the blocks. Every function puts the activation first so the result
 * belongs to the caller's (per-call) NDManager, never to the parameters' manager.
 *
 * <p>No function passes a Java number to an NDArray operator: DJL's {@code x.mul(2f)} (and div,
 * pow, add, …) wraps the number in a 0-d array over a direct buffer, runs the op and closes that
 * array at once, but autograd keeps the 0-d tensor for the backward pass (MulBackward, DivBackward
 * and PowBackward save it). Once the garbage collector frees the buffer, backward reads freed
 * memory: garbage or NaN gradients. Constants come from {@link #scalar} instead.
 */
public final class Ops {

  /** √(2/π), the constant of the tanh GELU approximation. */
  private static final float GELU_C = (float) Math.sqrt(2.0 / Math.PI);

  private Ops() {}

  /**
   * A 0-d constant of {@code value}'s Java type on {@code like}'s manager (exactly the array DJL
   * would make for {@code like.mul(value)}), left open so it lives as long as that manager and thus
   * at least until a backward pass through anything computed from it has run.
   */
  public static NDArray scalar(NDArray like, Number value) {
    return like.getManager().create(value);
  }

  /**
   * {@code x} in the number format of {@code like} (a parameter): {@code x} itself when they
   * already agree, so float32 networks are untouched.
   */
  public static NDArray castLike(NDArray x, NDArray like) {
    return Precision.of(like).cast(x);
  }

  /** y = x Wᵀ + b with a PyTorch-layout weight (out, in). */
  public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
    return Linear.linear(x, weight, bias).singletonOrThrow();
  }

  /** SiLU(x) = x · σ(x). */
  public static NDArray silu(NDArray x) {
    return x.mul(Activation.sigmoid(x));
  }

  /**
   * GELU, tanh approximation (as the reference; DJL's gelu is the exact erf form), computed as
   * {@code x · σ(2√(2/π)·x·(1 + 0.044715 x²))}, which equals {@code 0.5 x (1 + tanh(√(2/π)(x +
   * 0.044715 x³)))} since 0.5(1 + tanh z) = σ(2z): one op fewer and no pow, measurably faster on
   * CPU.
   */
  public static NDArray geluTanh(NDArray x) {
    // Out-of-place on purpose: sigmoid's backward needs its own output unmodified.
    NDArray inner =
        x.mul(x)
            .mul(scalar(x, 0.044715f))
            .add(scalar(x, 1f))
            .mul(x)
            .mul(scalar(x, 2 * GELU_C)); // 2√(2/π)·(x + 0.044715 x³)
    return Activation.sigmoid(inner).mul(x);
  }

  /**
   * {@link #geluTanh} for inference, without autograd: the same operations in the same order (so
   * bit-identical results), but done in place on one new array and finally on {@code x}, which it
   * overwrites, so it allocates one batch-sized array instead of six. On CPU a fresh batch-sized
   * array costs page faults and cache misses (with the other in-place steps, a block ran 1.1–1.3×
   * faster: BENCHMARKS.md, utilisation).
   *
   * @param x a fresh activation nothing else reads; its contents are destroyed
   */
  public static NDArray geluTanhInPlace(NDArray x) {
    NDArray inner = x.mul(x);
    inner.muli(scalar(x, 0.044715f)).addi(scalar(x, 1f)).muli(x).muli(scalar(x, 2 * GELU_C));
    return x.muli(Activation.sigmoid(inner));
  }

  /**
   * LayerNorm over the last axis without affine parameters, eps 1e-6. {@code ones} and {@code
   * zeros} are constant (D) arrays standing in for the absent gamma and beta.
   */
  public static NDArray layerNorm(NDArray x, NDArray ones, NDArray zeros) {
    long d = x.getShape().get(x.getShape().dimension() - 1);
    return LayerNorm.layerNorm(x, new Shape(d), ones, zeros, 1e-6f).singletonOrThrow();
  }

  /**
   * adaLN modulation: x · (1 + scale) + shift, with (B, D) shift and scale broadcast over tokens.
   *
   * @param x (B, N, D)
   */
  public static NDArray modulate(NDArray x, NDArray shift, NDArray scale) {
    return modulate(x, shift, scale, false);
  }

  /**
   * {@link #modulate}; for inference ({@code inPlace}, no autograd) computed in {@code x}'s memory,
   * the same result without a new (B, N, D) array.
   *
   * @param x with {@code inPlace}, a fresh activation nothing else reads: it is overwritten and
   *     returned
   */
  public static NDArray modulate(NDArray x, NDArray shift, NDArray scale, boolean inPlace) {
    NDArray factor = scale.expandDims(1).add(scalar(x, 1f));
    return (inPlace ? x.muli(factor) : x.mul(factor)).addi(shift.expandDims(1));
  }

  /**
   * The gated residual x + gate · y with a (B, D) gate broadcast over tokens. For inference ({@code
   * inPlace}) it is computed in {@code y}'s memory (y must be a fresh activation nothing else
   * reads); x is never modified.
   */
  public static NDArray gatedResidual(NDArray x, NDArray y, NDArray gate, boolean inPlace) {
    if (inPlace) {
      return y.muli(gate.expandDims(1)).addi(x);
    }
    return x.add(y.mul(gate.expandDims(1)));
  }
}
