package dev.odelt.transforms.requests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.Tier;
import dev.odelt.proto.v1.RequestedTier;
import dev.odelt.proto.v1.Solver;
import java.util.List;
import org.junit.jupiter.api.Test;

class TierLabelsTest {

  private static Tier tierOf(RequestedTier t) {
    return new Tier(
        t.getSteps(),
        t.getBlocks(),
        t.getSolver(),
        t.hasGuidance() ? t.getGuidance() : Tier.DEFAULT_GUIDANCE,
        t.hasTolerance() ? t.getTolerance() : Tier.DEFAULT_TOLERANCE);
  }

  @Test
  void labelsRoundTrip() {
    for (Tier tier :
        List.of(
            Tier.of(4, 6),
            Tier.of(8, 4).withSolver(Solver.HEUN),
            Tier.of(16, 6).withGuidance(2),
            Tier.of(8, 2).withSolver(Solver.RK4).withGuidance(1.5f),
            Tier.of(8, 6).withSolver(Solver.DOPRI5).withTolerance(1e-4f))) {
      assertEquals(tier, tierOf(TierLabels.parse(tier.label()).orElseThrow()), tier.label());
    }
  }

  @Test
  void otherTextIsNotALabel() {
    for (String text : new String[] {"standard", "s4", "b6-s4", "s4-b6-fast", "s-1-b2", ""}) {
      assertTrue(TierLabels.parse(text).isEmpty(), text);
    }
  }
}
