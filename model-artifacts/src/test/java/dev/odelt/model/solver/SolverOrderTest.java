package dev.odelt.model.solver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Order of accuracy on analytic ODEs (float64): the global error at t = 1 must fall as S^−p with p
 * = 1 (Euler), 2 (Heun, midpoint), 4 (RK4); the slope is fitted over several S.
 */
class SolverOrderTest {

  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  /** dx/dt = −x, x(0) = (1, −2, 0.5): x(1) = x(0)·e^−1. */
  private static final VelocityField DECAY = (x, t, level) -> x.neg();

  /** dx/dt = (−y, x), a rotation by 1 radian over t ∈ [0, 1]. */
  private static final VelocityField ROTATION =
      (x, t, level) -> x.matMul(x.getManager().create(new double[][] {{0, 1}, {-1, 0}})); // (B, 2)

  private static double decayError(ExplicitRungeKutta solver) {
    double[] start = {1, -2, 0.5};
    NDArray x0 = manager.create(start).reshape(3, 1);
    OdeSolution solution = solver.solve(DECAY, x0);
    double[] end = solution.x().toDoubleArray();
    double error = 0;
    for (int i = 0; i < start.length; i++) {
      error = Math.max(error, Math.abs(end[i] - start[i] * Math.exp(-1)));
    }
    assertEquals(solver.evaluationsPerItem() * 3, solution.totalEvaluations());
    return error;
  }

  private static double rotationError(ExplicitRungeKutta solver) {
    NDArray x0 = manager.create(new double[][] {{1, 0}, {0.3, -0.7}});
    double[] end = solver.solve(ROTATION, x0).x().toDoubleArray();
    double c = Math.cos(1);
    double s = Math.sin(1);
    double[] expected = {c, s, 0.3 * c + 0.7 * s, 0.3 * s - 0.7 * c};
    double error = 0;
    for (int i = 0; i < expected.length; i++) {
      error = Math.max(error, Math.abs(end[i] - expected[i]));
    }
    return error;
  }

  /** Least-squares slope of log(error) against log(S). */
  private static double slope(
      int[] steps, BiFunction<Integer, Integer, ExplicitRungeKutta> make, boolean rotation) {
    int n = steps.length;
    double[] lx = new double[n];
    double[] ly = new double[n];
    for (int i = 0; i < n; i++) {
      ExplicitRungeKutta solver = make.apply(steps[i], 7);
      double error = rotation ? rotationError(solver) : decayError(solver);
      lx[i] = Math.log(steps[i]);
      ly[i] = Math.log(error);
    }
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += lx[i] / n;
      my += ly[i] / n;
    }
    double num = 0;
    double den = 0;
    for (int i = 0; i < n; i++) {
      num += (lx[i] - mx) * (ly[i] - my);
      den += (lx[i] - mx) * (lx[i] - mx);
    }
    return num / den;
  }

  private static void assertOrder(
      int order, int[] steps, BiFunction<Integer, Integer, ExplicitRungeKutta> make) {
    double decay = slope(steps, make, false);
    double rotation = slope(steps, make, true);
    assertEquals(-order, decay, 0.15, "decay slope");
    assertEquals(-order, rotation, 0.15, "rotation slope");
  }

  @Test
  void eulerIsFirstOrder() {
    assertOrder(1, new int[] {16, 32, 64, 128, 256}, ExplicitRungeKutta::euler);
  }

  @Test
  void heunIsSecondOrder() {
    assertOrder(2, new int[] {8, 16, 32, 64, 128}, ExplicitRungeKutta::heun);
  }

  @Test
  void midpointIsSecondOrder() {
    assertOrder(2, new int[] {8, 16, 32, 64, 128}, ExplicitRungeKutta::midpoint);
  }

  @Test
  void rk4IsFourthOrder() {
    assertOrder(4, new int[] {4, 8, 16, 32, 64}, ExplicitRungeKutta::rk4);
  }

  @Test
  void oneEulerStepIsExactlyXPlusV() {
    NDArray x0 = manager.create(new double[] {2, -1}).reshape(2, 1);
    double[] end = ExplicitRungeKutta.euler(1, 0).solve(DECAY, x0).x().toDoubleArray();
    assertEquals(0, end[0], 0);
    assertEquals(0, end[1], 0);
    assertTrue(x0.getDouble(0, 0) == 2, "the input is left untouched");
  }
}
