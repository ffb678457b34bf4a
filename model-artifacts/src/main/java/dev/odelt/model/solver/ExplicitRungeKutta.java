package dev.odelt.model.solver;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;

/**
 * A fixed-step explicit Runge–Kutta solver given by its Butcher tableau: S equal steps of h = 1/S,
 * {@code stages} velocity evaluations per step, every evaluation at the same step level.
 *
 * <p>Each step runs in its own {@link NDManager} sub-scope, so the arrays of one step (including
 * whatever the velocity field allocates) are freed before the next begins.
 */
public final class ExplicitRungeKutta implements OdeSolver {

  private final String name;
  private final double[][] a;
  private final double[] b;
  private final double[] c;
  private final int steps;
  private final int stepLevel;

  private ExplicitRungeKutta(
      String name, double[][] a, double[] b, double[] c, int steps, int stepLevel) {
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }
    this.name = name;
    this.a = a;
    this.b = b;
    this.c = c;
    this.steps = steps;
    this.stepLevel = stepLevel;
  }

  /** Forward Euler: x += h·v(x, t). First order. */
  public static ExplicitRungeKutta euler(int steps, int stepLevel) {
    return new ExplicitRungeKutta(
        "euler", new double[][] {{}}, new double[] {1}, new double[] {0}, steps, stepLevel);
  }

  /** Heun's method (explicit trapezoid). Second order, 2 evaluations per step. */
  public static ExplicitRungeKutta heun(int steps, int stepLevel) {
    return new ExplicitRungeKutta(
        "heun",
        new double[][] {{}, {1}},
        new double[] {0.5, 0.5},
        new double[] {0, 1},
        steps,
        stepLevel);
  }

  /** The explicit midpoint method. Second order, 2 evaluations per step. */
  public static ExplicitRungeKutta midpoint(int steps, int stepLevel) {
    return new ExplicitRungeKutta(
        "midpoint",
        new double[][] {{}, {0.5}},
        new double[] {0, 1},
        new double[] {0, 0.5},
        steps,
        stepLevel);
  }

  /** The classical fourth-order Runge–Kutta method, 4 evaluations per step. */
  public static ExplicitRungeKutta rk4(int steps, int stepLevel) {
    return new ExplicitRungeKutta(
        "rk4",
        new double[][] {{}, {0.5}, {0, 0.5}, {0, 0, 1}},
        new double[] {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6},
        new double[] {0, 0.5, 0.5, 1},
        steps,
        stepLevel);
  }

  @Override
  public String name() {
    return name;
  }

  public int steps() {
    return steps;
  }

  public int stepLevel() {
    return stepLevel;
  }

  /** Velocity evaluations per item: steps × stages. */
  public long evaluationsPerItem() {
    return (long) steps * b.length;
  }

  @Override
  public OdeSolution solve(VelocityField field, NDArray x0) {
    NDManager outer = x0.getManager();
    int batch = Math.toIntExact(x0.getShape().get(0));
    double h = 1.0 / steps;
    NDArray x = x0;
    for (int step = 0; step < steps; step++) {
      double t0 = (double) step / steps;
      try (NDManager scope = outer.newSubManager()) {
        if (x == x0) {
          x.tempAttach(scope);
        } else {
          x.attach(scope);
        }
        NDArray[] k = new NDArray[b.length];
        for (int i = 0; i < b.length; i++) {
          NDArray xi = x; // (B, …)
          for (int j = 0; j < i; j++) {
            if (a[i][j] != 0) {
              xi = xi.add(k[j].mul(h * a[i][j]));
            }
          }
          NDArray t = Times.constant(scope, batch, t0 + c[i] * h, x.getDataType());
          k[i] = field.evaluate(xi, t, stepLevel);
        }
        NDArray next = x;
        for (int i = 0; i < b.length; i++) {
          if (b[i] != 0) {
            next = next.add(k[i].mul(h * b[i]));
          }
        }
        next.attach(outer);
        x = next;
      }
    }
    long[] evaluations = new long[batch];
    Arrays.fill(evaluations, evaluationsPerItem());
    return new OdeSolution(x, evaluations);
  }
}
