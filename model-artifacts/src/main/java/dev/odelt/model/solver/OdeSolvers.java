package dev.odelt.model.solver;

import dev.odelt.model.Tier;
import dev.odelt.proto.v1.Solver;

/** Picks the solver for a tier. */
public final class OdeSolvers {

  private OdeSolvers() {}

  /**
   * The solver a tier asks for: S = {@code tier.steps()} steps (for DOPRI5 the first step is 1/S
   * and rtol = atol = {@code tier.tolerance()}), at the step level {@link StepLevels#forSolver}
   * gives.
   */
  public static OdeSolver forTier(Tier tier, int maxStepLevel) {
    int level = StepLevels.forSolver(tier.solver(), tier.steps(), maxStepLevel);
    Solver solver = tier.solver();
    switch (solver) {
      case EULER:
        return ExplicitRungeKutta.euler(tier.steps(), level);
      case HEUN:
        return ExplicitRungeKutta.heun(tier.steps(), level);
      case MIDPOINT:
        return ExplicitRungeKutta.midpoint(tier.steps(), level);
      case RK4:
        return ExplicitRungeKutta.rk4(tier.steps(), level);
      case DOPRI5:
        return new DormandPrince(tier.steps(), tier.tolerance(), tier.tolerance(), level);
      default:
        throw new IllegalArgumentException("Unsupported solver " + solver);
    }
  }
}
