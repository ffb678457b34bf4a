package dev.odelt.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.odelt.model.net.Bfloat16;
import java.util.Locale;

/**
 * The number format inference runs in. {@link #BF16} follows the reference DiT: matrix products and
 * activations in bfloat16 (parameters converted once at load), softmax and LayerNorm statistics in
 * float32, and the ODE state, noise and velocity handed to solvers in float32 (the network casts x
 * to bfloat16 on entry and its output back on exit). {@link #FP32} is float32 throughout.
 */
public enum Precision {
  FP32("fp32", 4),
  BF16("bf16", 2);

  private final String label;
  private final int bytes;

  Precision(String label, int bytes) {
    this.label = label;
    this.bytes = bytes;
  }

  /** The name used by flags and manifests: {@code fp32} or {@code bf16}. */
  public String label() {
    return label;
  }

  /** Bytes per stored parameter value. */
  public int bytesPerValue() {
    return bytes;
  }

  /**
   * Parses {@code fp32} or {@code bf16} (case-insensitive).
   *
   * @throws IllegalArgumentException naming the value and the allowed ones
   */
  public static Precision parse(String value) {
    String name = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    for (Precision p : values()) {
      if (p.label.equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException("Unknown precision '" + value + "': use fp32 or bf16");
  }

  /**
   * The precision of an array: float32 → {@link #FP32}, bfloat16 → {@link #BF16}.
   *
   * @throws IllegalArgumentException for any other type
   */
  public static Precision of(NDArray array) {
    if (array.getDataType() == DataType.FLOAT32) {
      return FP32;
    }
    if (Bfloat16.is(array)) {
      return BF16;
    }
    throw new IllegalArgumentException(
        "Expected a float32 or bfloat16 array, got " + array.getDataType());
  }

  /** {@code x} in this precision: {@code x} itself when it already is, else a converted copy. */
  public NDArray cast(NDArray x) {
    if (of(x) == this) {
      return x;
    }
    return this == FP32 ? x.toType(DataType.FLOAT32, false) : Bfloat16.cast(x);
  }

  @Override
  public String toString() {
    return label;
  }
}
