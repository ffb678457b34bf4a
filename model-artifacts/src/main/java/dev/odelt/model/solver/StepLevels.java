package dev.odelt.model.solver;

import dev.odelt.proto.v1.Solver;

/**
 * Which time step level d the network is conditioned on.
 *
 * <p>The network was trained for S = 2^d Euler steps at level d (d = 0 … d_max, d_max = 7 in the
 * paper: level d_max is the instantaneous velocity). Rules:
 *
 * <ul>
 *   <li>Euler with S steps uses d = min(⌈log2 S⌉, d_max): for a power of two that is log2 S
 *       exactly; otherwise it is the coarsest level whose step 2^−d is no larger than the actual
 *       step 1/S (e.g. S = 3 and S = 4 both use d = 2, S = 5 uses d = 3).
 *   <li>Heun, midpoint, RK4 and Dormand–Prince evaluate the velocity at intermediate times, which
 *       the shortcut (average-velocity) levels were not trained for, so they use d = d_max.
 * </ul>
 */
public final class StepLevels {

  private StepLevels() {}

  /** d = min(⌈log2 steps⌉, maxStepLevel). */
  public static int euler(int steps, int maxStepLevel) {
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }
    int ceilLog2 = steps == 1 ? 0 : 32 - Integer.numberOfLeadingZeros(steps - 1);
    return Math.min(ceilLog2, maxStepLevel);
  }

  /** The level a solver uses for S steps. */
  public static int forSolver(Solver solver, int steps, int maxStepLevel) {
    return solver == Solver.EULER || solver == Solver.SOLVER_UNSPECIFIED
        ? euler(steps, maxStepLevel)
        : maxStepLevel;
  }
}
