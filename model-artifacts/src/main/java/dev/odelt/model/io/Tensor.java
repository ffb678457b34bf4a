package dev.odelt.model.io;

import java.util.Arrays;

/**
 * A float32 tensor on the heap: a shape and its values in row-major (C) order. The arrays are
 * copied on construction and on access, so a Tensor is immutable.
 */
public final class Tensor {

  private final long[] shape;
  private final float[] data;

  public Tensor(long[] shape, float[] data) {
    this(shape, data, true);
  }

  private Tensor(long[] shape, float[] data, boolean copy) {
    long size = sizeOf(shape);
    if (size != data.length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + size + " values, got " + data.length);
    }
    this.shape = shape.clone();
    this.data = copy ? data.clone() : data;
  }

  /**
   * A tensor that takes over {@code data} without a copy, for readers in this package that
   * allocated the array themselves and never touch it again.
   */
  static Tensor owning(long[] shape, float[] data) {
    return new Tensor(shape, data, false);
  }

  /** The number of elements of a shape; fails on negative dimensions. */
  public static long sizeOf(long[] shape) {
    long size = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      size = Math.multiplyExact(size, d);
    }
    return size;
  }

  public long[] shape() {
    return shape.clone();
  }

  public float[] data() {
    return data.clone();
  }

  /** The values without a copy, for code in this package that does not modify them. */
  float[] dataUnsafe() {
    return data;
  }

  public int size() {
    return data.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor
        && Arrays.equals(shape, ((Tensor) o).shape)
        && Arrays.equals(data, ((Tensor) o).data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape);
  }
}
