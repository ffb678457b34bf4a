package dev.odelt.transforms.requests;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.proto.v1.Solver;

/**
 * Nominal cost of a tier, for choosing a tier within a budget when the model has no measured
 * quality table: velocity evaluations per step (Euler 1, midpoint 2, Heun 2, RK4 4, Dopri5 6 per
 * attempted step) × steps × {@link ModelConfig#blocksRun(int) blocks run} × (2 with guidance), the
 * blocks run being L unless the model's depth_min is not a multiple of its group size (then the
 * blocks after the last group end, which never reach the velocity, are not run). Measured costs
 * come from the sampler's batch statistics instead.
 */
public final class TierCosts {

  private TierCosts() {}

  public static int evaluationsPerStep(Solver solver) {
    switch (solver) {
      case MIDPOINT:
      case HEUN:
        return 2;
      case RK4:
        return 4;
      case DOPRI5:
        return 6;
      default:
        return 1;
    }
  }

  /**
   * Nominal transformer-block evaluations for one image of {@code tier} on a model of {@code
   * config}.
   *
   * @throws IllegalArgumentException when the model does not allow the tier's block count
   */
  public static long blockEvaluationsPerImage(Tier tier, ModelConfig config) {
    return (long) evaluationsPerStep(tier.solver())
        * tier.steps()
        * config.blocksRun(tier.blocks())
        * tier.guidanceFactor();
  }
}
