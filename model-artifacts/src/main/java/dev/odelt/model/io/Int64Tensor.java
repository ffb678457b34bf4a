package dev.odelt.model.io;

import java.util.Arrays;

/**
 * An int64 tensor on the heap (safetensors dtype {@code I64}): a shape and its values in row-major
 * (C) order, for integer inputs such as class labels and step levels. The arrays are copied on
 * construction and on access, so an Int64Tensor is immutable.
 */
public final class Int64Tensor {

  private final long[] shape;
  private final long[] data;

  public Int64Tensor(long[] shape, long[] data) {
    long size = Tensor.sizeOf(shape);
    if (size != data.length) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " needs " + size + " values, got " + data.length);
    }
    this.shape = shape.clone();
    this.data = data.clone();
  }

  public long[] shape() {
    return shape.clone();
  }

  public long[] data() {
    return data.clone();
  }

  /** The values without a copy, for code in this package that does not modify them. */
  long[] dataUnsafe() {
    return data;
  }

  public int size() {
    return data.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Int64Tensor
        && Arrays.equals(shape, ((Int64Tensor) o).shape)
        && Arrays.equals(data, ((Int64Tensor) o).data);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "Int64Tensor" + Arrays.toString(shape);
  }
}
