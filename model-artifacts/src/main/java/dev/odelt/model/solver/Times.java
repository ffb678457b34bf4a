package dev.odelt.model.solver;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/** Builds the per-item time vectors the solvers pass to a velocity field. */
final class Times {

  private Times() {}

  /** A (B) vector holding {@code t} for every item, computed in double, in {@code type}. */
  static NDArray constant(NDManager manager, int batch, double t, DataType type) {
    double[] values = new double[batch];
    java.util.Arrays.fill(values, t);
    return of(manager, values, type);
  }

  /** A (B) vector of per-item values in {@code type}. */
  static NDArray of(NDManager manager, double[] values, DataType type) {
    if (type == DataType.FLOAT64) {
      return manager.create(values);
    }
    float[] narrow = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      narrow[i] = (float) values[i];
    }
    NDArray t = manager.create(narrow);
    return type == DataType.FLOAT32 ? t : t.toType(type, false);
  }
}
