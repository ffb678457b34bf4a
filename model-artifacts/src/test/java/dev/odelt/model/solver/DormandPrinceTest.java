package dev.odelt.model.solver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DormandPrinceTest {

  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  /** dx/dt = −λ_i·x with a rate per item; records the batch sizes it was called with. */
  private static final class Decay implements VelocityField {
    final double[] rates;
    final List<Integer> batchSizes;

    Decay(double[] rates, List<Integer> batchSizes) {
      this.rates = rates;
      this.batchSizes = batchSizes;
    }

    @Override
    public NDArray evaluate(NDArray x, NDArray t, int stepLevel) {
      batchSizes.add((int) x.getShape().get(0));
      NDArray rate = x.getManager().create(rates).reshape(rates.length, 1);
      return x.mul(rate).neg();
    }

    @Override
    public VelocityField restrict(int[] items) {
      double[] subset = new double[items.length];
      for (int j = 0; j < items.length; j++) {
        subset[j] = rates[items[j]];
      }
      return new Decay(subset, batchSizes);
    }
  }

  /** dx/dt = (−y, x) + sin(8t)·(1, 1): a rotation with time-dependent forcing. */
  private static final VelocityField FORCED_ROTATION =
      (x, t, level) -> {
        NDArray rotation =
            x.matMul(x.getManager().create(new double[][] {{0, 1}, {-1, 0}})); // (B, 2)
        return rotation.add(t.mul(8).sin().reshape(-1, 1));
      };

  private static double[] forcedRotationReference(double[] x0) {
    // RK4 with 4096 steps is exact to ~1e-13 here.
    NDArray start = manager.create(x0).reshape(1, 2);
    return ExplicitRungeKutta.rk4(4096, 7).solve(FORCED_ROTATION, start).x().toDoubleArray();
  }

  private static double maxError(double[] a, double[] b) {
    double error = 0;
    for (int i = 0; i < a.length; i++) {
      error = Math.max(error, Math.abs(a[i] - b[i]));
    }
    return error;
  }

  @Test
  void meetsToleranceWithFewerEvaluationsThanRk4AtEqualError() {
    double[] x0 = {1, 0.5};
    double[] reference = forcedRotationReference(x0);
    for (double tol : new double[] {1e-5, 1e-7}) {
      OdeSolution adaptive =
          new DormandPrince(4, tol, tol, 7)
              .solve(FORCED_ROTATION, manager.create(x0).reshape(1, 2));
      double error = maxError(adaptive.x().toDoubleArray(), reference);
      assertTrue(error < 10 * tol, "error " + error + " at tolerance " + tol);

      int rk4Steps = 1;
      while (maxError(
              ExplicitRungeKutta.rk4(rk4Steps, 7)
                  .solve(FORCED_ROTATION, manager.create(x0).reshape(1, 2))
                  .x()
                  .toDoubleArray(),
              reference)
          > error) {
        rk4Steps++;
      }
      long rk4Evaluations = 4L * rk4Steps;
      assertTrue(
          adaptive.totalEvaluations() < rk4Evaluations,
          "dopri5 used "
              + adaptive.totalEvaluations()
              + " evaluations, rk4 reaches the same error "
              + error
              + " with "
              + rk4Evaluations);
    }
  }

  @Test
  void adaptsPerItemAndIgnoresBatchNeighbours() {
    double[] rates = {0.1, 30, 2};
    double[] start = {1, 1, -1};
    List<Integer> calls = new ArrayList<>();
    OdeSolution together =
        new DormandPrince(2, 1e-6, 1e-6, 7)
            .solve(new Decay(rates, calls), manager.create(start).reshape(3, 1));
    double[] joint = together.x().toDoubleArray();
    for (int i = 0; i < rates.length; i++) {
      List<Integer> aloneCalls = new ArrayList<>();
      OdeSolution alone =
          new DormandPrince(2, 1e-6, 1e-6, 7)
              .solve(
                  new Decay(new double[] {rates[i]}, aloneCalls),
                  manager.create(new double[] {start[i]}).reshape(1, 1));
      assertArrayEquals(new double[] {joint[i]}, alone.x().toDoubleArray(), 1e-15);
      assertEquals(alone.evaluations(0), together.evaluations(i), "item " + i);
      assertEquals(start[i] * Math.exp(-rates[i]), joint[i], 1e-5 + 1e-5 * Math.abs(joint[i]));
    }
    // The stiff item needs many more evaluations than the slow one.
    assertTrue(together.evaluations(1) > 2 * together.evaluations(0));
    assertNotEquals(together.evaluations(0), together.evaluations(2));
    // Finished items are no longer evaluated: the last calls hold only the stiff item.
    assertEquals(1, calls.get(calls.size() - 1));
    assertEquals(together.totalEvaluations(), calls.stream().mapToLong(Integer::longValue).sum());
  }

  @Test
  void countsOnePlusSixPerAttempt() {
    List<Integer> calls = new ArrayList<>();
    OdeSolution solution =
        new DormandPrince(1, 1e-3, 1e-3, 7)
            .solve(
                new Decay(new double[] {1}, calls), manager.create(new double[] {1}).reshape(1, 1));
    assertEquals(0, (solution.evaluations(0) - 1) % 6);
    assertEquals(calls.size(), solution.evaluations(0));
  }
}
