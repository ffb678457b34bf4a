package dev.odelt.model.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.odelt.model.Tier;
import dev.odelt.proto.v1.Solver;
import java.util.List;
import org.junit.jupiter.api.Test;

class TierGridTest {

  @Test
  void labelsRoundTrip() {
    for (Tier tier :
        List.of(
            Tier.of(4, 6),
            Tier.of(8, 4).withSolver(Solver.HEUN),
            Tier.of(16, 6).withGuidance(2f),
            Tier.of(2, 2).withSolver(Solver.MIDPOINT).withGuidance(1.5f),
            Tier.of(8, 6).withSolver(Solver.DOPRI5).withTolerance(1e-4f),
            Tier.of(1, 2).withGuidance(0f))) {
      assertEquals(tier, TierGrid.parseLabel(tier.label()), tier.label());
    }
    assertEquals(Tier.of(4, 6), TierGrid.parseLabel(" S4-B6 "));
  }

  @Test
  void listsKeepOrderAndDropRepeats() {
    assertEquals(
        List.of(Tier.of(1, 2), Tier.of(4, 6).withSolver(Solver.RK4)),
        TierGrid.parseList("s1-b2, s4-b6-rk4,,s1-b2"));
    assertEquals(
        List.of(
            Tier.of(1, 2),
            Tier.of(1, 2).withSolver(Solver.HEUN),
            Tier.of(1, 4),
            Tier.of(1, 4).withSolver(Solver.HEUN),
            Tier.of(2, 2),
            Tier.of(2, 2).withSolver(Solver.HEUN),
            Tier.of(2, 4),
            Tier.of(2, 4).withSolver(Solver.HEUN)),
        TierGrid.crossProduct(
            List.of(1, 2), List.of(2, 4), List.of(Solver.EULER, Solver.HEUN), List.of(1f)));
  }

  @Test
  void badLabelsFailClearly() {
    for (String bad : List.of("s4", "b6", "s4-b6-euler2", "s0-b6", "s4-b6-g-1", "fast")) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> TierGrid.parseLabel(bad), bad);
      assertEquals(true, e.getMessage() != null && !e.getMessage().isEmpty(), bad);
    }
  }
}
