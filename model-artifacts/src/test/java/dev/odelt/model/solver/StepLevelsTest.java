package dev.odelt.model.solver;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.odelt.model.Tier;
import dev.odelt.proto.v1.Solver;
import org.junit.jupiter.api.Test;

class StepLevelsTest {

  @Test
  void eulerUsesTheLevelWhoseStepIsNoLargerThanOneOverS() {
    int[] steps = {1, 2, 3, 4, 5, 8, 9, 100, 128, 129, 1000};
    int[] levels = {0, 1, 2, 2, 3, 3, 4, 7, 7, 7, 7};
    for (int i = 0; i < steps.length; i++) {
      assertEquals(levels[i], StepLevels.euler(steps[i], 7), "S=" + steps[i]);
    }
    assertEquals(3, StepLevels.euler(64, 3));
  }

  @Test
  void higherOrderSolversUseTheFinestLevel() {
    for (Solver s : new Solver[] {Solver.HEUN, Solver.MIDPOINT, Solver.RK4, Solver.DOPRI5}) {
      assertEquals(7, StepLevels.forSolver(s, 2, 7));
    }
  }

  @Test
  void tiersMapToSolvers() {
    assertEquals("euler", OdeSolvers.forTier(Tier.of(4, 2), 7).name());
    assertEquals(2, ((ExplicitRungeKutta) OdeSolvers.forTier(Tier.of(4, 2), 7)).stepLevel());
    ExplicitRungeKutta heun =
        (ExplicitRungeKutta) OdeSolvers.forTier(Tier.of(4, 2).withSolver(Solver.HEUN), 7);
    assertEquals(7, heun.stepLevel());
    assertEquals(8, heun.evaluationsPerItem());
    assertEquals("dopri5", OdeSolvers.forTier(Tier.of(4, 2).withSolver(Solver.DOPRI5), 7).name());
  }

  @Test
  void guidanceFactorCountsPasses() {
    assertEquals(1, Tier.of(4, 2).guidanceFactor());
    assertEquals(1, Tier.of(4, 2).withGuidance(0f).guidanceFactor());
    assertEquals(2, Tier.of(4, 2).withGuidance(1.5f).guidanceFactor());
  }
}
