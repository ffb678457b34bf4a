package dev.odelt.model.solver;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Adaptive Dormand–Prince 5(4) (Dormand and Prince 1980; the {@code dopri5} of Hairer, Nørsett and
 * Wanner) with step size control <b>per item</b>.
 *
 * <p>Each item has its own time, step size and error estimate: its error norm is the root mean
 * square over its own elements of (y5 − y4) / (atol + rtol·max(|x|, |y5|)); a step is accepted when
 * the norm is at most 1, and the next step is h·clamp(0.9·err^(−1/5), 0.2, 5) (no growth after a
 * rejection). Every attempt evaluates the field only on the items still running, so an item's path
 * and result never depend on the other items of its batch. The last stage of an accepted step is
 * reused as the first of the next (FSAL): an item costs 1 + 6 × attempts evaluations.
 *
 * <p>The first step of every item is 1/initialSteps. All evaluations use one step level (the
 * finest, see {@link StepLevels}).
 */
public final class DormandPrince implements OdeSolver {

  private static final double[] C = {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1};
  private static final double[][] A = {
    {},
    {1.0 / 5},
    {3.0 / 40, 9.0 / 40},
    {44.0 / 45, -56.0 / 15, 32.0 / 9},
    {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
    {9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
    {35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}
  };

  /** y5 − y4 = h·Σ E_i k_i (fifth-order weights minus the embedded fourth-order ones). */
  private static final double[] E = {
    71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40
  };

  private static final double SAFETY = 0.9;
  private static final double MIN_FACTOR = 0.2;
  private static final double MAX_FACTOR = 5;
  private static final int MAX_ATTEMPTS = 100_000;
  private static final double MIN_STEP = 1e-12;

  private final int initialSteps;
  private final double rtol;
  private final double atol;
  private final int stepLevel;

  /**
   * @param initialSteps the first step of every item is 1/initialSteps
   * @param rtol relative tolerance (> 0)
   * @param atol absolute tolerance (> 0)
   * @param stepLevel the step level every evaluation uses
   */
  public DormandPrince(int initialSteps, double rtol, double atol, int stepLevel) {
    if (initialSteps < 1) {
      throw new IllegalArgumentException("initialSteps must be >= 1, got " + initialSteps);
    }
    if (!(rtol > 0) || !(atol > 0)) {
      throw new IllegalArgumentException("tolerances must be > 0, got " + rtol + ", " + atol);
    }
    this.initialSteps = initialSteps;
    this.rtol = rtol;
    this.atol = atol;
    this.stepLevel = stepLevel;
  }

  @Override
  public String name() {
    return "dopri5";
  }

  @Override
  public OdeSolution solve(VelocityField field, NDArray x0) {
    NDManager outer = x0.getManager();
    int batch = Math.toIntExact(x0.getShape().get(0));
    Shape itemShape = x0.getShape().slice(1);
    long[] evaluations = new long[batch];
    double[] time = new double[batch];
    double[] step = new double[batch];
    Arrays.fill(step, 1.0 / initialSteps);
    int[] attempts = new int[batch];
    boolean[] rejectedLast = new boolean[batch];

    // Per-item state (1, …) and first stage k1 (FSAL), owned by the outer manager.
    NDArray[] x = new NDArray[batch];
    NDArray[] k1 = new NDArray[batch];
    try (NDManager scope = outer.newSubManager()) {
      x0.tempAttach(scope);
      NDList rows = x0.split(batch);
      NDArray t = Times.constant(scope, batch, 0, x0.getDataType());
      NDList first = field.evaluate(x0, t, stepLevel).split(batch);
      for (int i = 0; i < batch; i++) {
        x[i] = rows.get(i).duplicate();
        x[i].attach(outer);
        k1[i] = first.get(i).duplicate();
        k1[i].attach(outer);
        evaluations[i] = 1;
      }
    }

    while (true) {
      int[] active = activeItems(time);
      if (active.length == 0) {
        break;
      }
      attempt(field.restrict(active), active, outer, itemShape, x, k1, time, step, rejectedLast);
      for (int i : active) {
        evaluations[i] += 6;
        if (++attempts[i] > MAX_ATTEMPTS || step[i] < MIN_STEP) {
          throw new IllegalStateException(
              "Dormand–Prince step size underflow for item "
                  + i
                  + " at t="
                  + time[i]
                  + " (rtol="
                  + rtol
                  + ", atol="
                  + atol
                  + "): the velocity is not smooth enough for this tolerance");
        }
      }
    }

    NDArray result;
    try (NDManager scope = outer.newSubManager()) {
      for (int i = 0; i < batch; i++) {
        x[i].attach(scope);
        k1[i].attach(scope);
      }
      result = NDArrays.concat(new NDList(x));
      result.attach(outer);
    }
    return new OdeSolution(result, evaluations);
  }

  private static int[] activeItems(double[] time) {
    return Arrays.stream(indices(time.length)).filter(i -> time[i] < 1.0).toArray();
  }

  private static int[] indices(int n) {
    int[] out = new int[n];
    Arrays.setAll(out, i -> i);
    return out;
  }

  /** One attempted step for the active items; updates the state of those that accept. */
  private void attempt(
      VelocityField field,
      int[] active,
      NDManager outer,
      Shape itemShape,
      NDArray[] x,
      NDArray[] k1,
      double[] time,
      double[] step,
      boolean[] rejectedLast) {
    int n = active.length;
    try (NDManager scope = outer.newSubManager()) {
      List<NDArray> xs = new ArrayList<>(n);
      List<NDArray> ks = new ArrayList<>(n);
      double[] h = new double[n];
      for (int j = 0; j < n; j++) {
        int i = active[j];
        xs.add(x[i]);
        ks.add(k1[i]);
        h[j] = Math.min(step[i], 1.0 - time[i]);
      }
      NDArray y = NDArrays.concat(new NDList(xs)); // (A, …)
      y.attach(scope);
      NDArray[] k = new NDArray[7];
      k[0] = NDArrays.concat(new NDList(ks));
      k[0].attach(scope);
      long[] columnShape = new long[itemShape.dimension() + 1];
      Arrays.fill(columnShape, 1);
      columnShape[0] = n;
      NDArray hColumn = Times.of(scope, h, y.getDataType()).reshape(new Shape(columnShape));

      NDArray y5 = null;
      for (int s = 1; s < 7; s++) {
        NDArray stageInput = y;
        for (int j = 0; j < s; j++) {
          if (A[s][j] != 0) {
            stageInput = stageInput.add(k[j].mul(hColumn.mul(A[s][j])));
          }
        }
        double[] stageTime = new double[n];
        for (int j = 0; j < n; j++) {
          stageTime[j] = time[active[j]] + C[s] * h[j];
        }
        k[s] = field.evaluate(stageInput, Times.of(scope, stageTime, y.getDataType()), stepLevel);
        if (s == 6) {
          // The last stage is evaluated at the fifth-order solution (FSAL).
          y5 = stageInput;
        }
      }
      NDArray error = k[0].mul(E[0]);
      for (int s = 1; s < 7; s++) {
        if (E[s] != 0) {
          error = error.add(k[s].mul(E[s]));
        }
      }
      error = error.mul(hColumn); // (A, …)
      NDArray scale = y.abs().maximum(y5.abs()).mul(rtol).add(atol);
      float[] norms =
          error
              .div(scale)
              .square()
              .reshape(n, -1)
              .mean(new int[] {1})
              .sqrt()
              .toType(DataType.FLOAT32, false)
              .toFloatArray(); // (A)

      NDList newRows = y5.split(n);
      NDList newFirst = k[6].split(n);
      for (int j = 0; j < n; j++) {
        int i = active[j];
        double err = norms[j];
        if (Double.isNaN(err)) {
          throw new IllegalStateException(
              "Dormand–Prince: non-finite velocity for item " + i + " at t=" + time[i]);
        }
        boolean accept = err <= 1.0;
        double factor =
            err == 0
                ? MAX_FACTOR
                : Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, SAFETY * Math.pow(err, -0.2)));
        if (accept) {
          if (rejectedLast[i]) {
            factor = Math.min(factor, 1.0);
          }
          time[i] = h[j] >= 1.0 - time[i] ? 1.0 : time[i] + h[j];
          x[i].attach(scope);
          k1[i].attach(scope);
          // Copies, so a kept row does not pin the storage of the whole batch.
          x[i] = newRows.get(j).duplicate();
          k1[i] = newFirst.get(j).duplicate();
          x[i].attach(outer);
          k1[i].attach(outer);
          rejectedLast[i] = false;
        } else {
          factor = Math.min(factor, 1.0);
          rejectedLast[i] = true;
        }
        step[i] = h[j] * factor;
      }
    }
  }
}
