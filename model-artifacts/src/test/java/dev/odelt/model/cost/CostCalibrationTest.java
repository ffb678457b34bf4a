package dev.odelt.model.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.Solver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CostCalibrationTest {

  /** A sampler whose calls cost exactly 1000 + 50·B·passes·evaluations-per-image ns. */
  private static SampleStats linear(List<SampleItem> items, Tier tier, List<Tier> seen) {
    seen.add(tier);
    int b = items.size();
    long perImage =
        switch (tier.solver()) {
          case HEUN, MIDPOINT -> 2L * tier.steps();
          case RK4 -> 4L * tier.steps();
          case DOPRI5 -> 37;
          default -> tier.steps();
        };
    long velocity = perImage * b;
    long nanos = 1000 + 50 * velocity * tier.guidanceFactor() * tier.blocks();
    return new SampleStats(
        velocity, velocity * tier.blocks() * tier.guidanceFactor(), nanos, b, "test");
  }

  @Test
  void longFixedStepTiersAreExtrapolatedExactlyFromTwoShortSolves() {
    List<Tier> seen = new ArrayList<>();
    CostCalibration c = CostCalibration.using((items, tier) -> linear(items, tier, seen), 10);
    Tier tier = Tier.of(64, 4).withSolver(Solver.HEUN).withGuidance(3f);
    CostCalibration.Prediction p = c.predict(tier, 16);
    SampleStats truth = linear(c.items(16), tier, new ArrayList<>());
    assertEquals(truth.deviceNanos(), p.deviceNanos());
    assertEquals(truth.velocityEvaluations(), p.velocityEvaluations());
    assertEquals(truth.blockEvaluations(), p.blockEvaluations());
    assertTrue(seen.stream().allMatch(t -> t.steps() <= CostCalibration.MEASURED_STEPS), "" + seen);
    assertTrue(p.method().contains("extrapolated to S=64"), p.method());
  }

  @Test
  void shortTiersAreMeasuredAsTheyAre() {
    List<Tier> seen = new ArrayList<>();
    CostCalibration c = CostCalibration.using((items, tier) -> linear(items, tier, seen), 10);
    Tier tier = Tier.of(4, 2);
    CostCalibration.Prediction p = c.predict(tier, 3);
    assertEquals(1000 + 50L * 4 * 3 * 2, p.deviceNanos());
    assertEquals(12, p.velocityEvaluations());
    assertEquals(1 + CostCalibration.REPEATS, seen.size(), "one untimed call, then the repeats");
    assertTrue(seen.stream().allMatch(tier::equals), "" + seen);
  }

  @Test
  void aSlowFirstCallAtAShapeDoesNotEnterThePrediction() {
    // Each shape's first call is slower (as a thread's first call at a new size is): the untimed
    // call absorbs it, so the prediction is a repeat call's time and no extra is charged.
    java.util.Set<String> seenShapes = new java.util.HashSet<>();
    CostCalibration c =
        CostCalibration.using(
            (items, tier) -> {
              SampleStats s = linear(items, tier, new ArrayList<>());
              long extra = seenShapes.add(tier.label() + "#" + items.size()) ? 1_000_000 : 0;
              return new SampleStats(
                  s.velocityEvaluations(),
                  s.blockEvaluations(),
                  s.wallNanos() + extra,
                  s.batchSize(),
                  s.device());
            },
            10);
    assertEquals(1000 + 50L * 32 * 4 * 2, c.predict(Tier.of(32, 2), 4).deviceNanos());
    assertEquals(1000 + 50L * 2, c.predict(Tier.of(1, 2), 1).deviceNanos());
    assertEquals(
        1000 + 50L * 37 * 3 * 2,
        c.predict(Tier.of(4, 2).withSolver(Solver.DOPRI5), 3).deviceNanos());
  }

  @Test
  void thePredictionIsTheCallsDeviceTimeNotItsWallTime() {
    // A call preempted for 5 ms (wall) that used its device for the linear cost: the quote predicts
    // what the run charges, the device time.
    CostCalibration c =
        CostCalibration.using(
            (items, tier) -> {
              SampleStats s = linear(items, tier, new ArrayList<>());
              return new SampleStats(
                  s.velocityEvaluations(),
                  s.blockEvaluations(),
                  s.wallNanos() + 5_000_000,
                  s.batchSize(),
                  s.device(),
                  0L,
                  s.wallNanos());
            },
            10);
    assertEquals(1000 + 50L * 2 * 4 * 2, c.predict(Tier.of(2, 2), 4).deviceNanos());
  }

  @Test
  void dopri5IsPredictedFromARealSolveAtTheBatchSize() {
    List<Tier> seen = new ArrayList<>();
    CostCalibration c = CostCalibration.using((items, tier) -> linear(items, tier, seen), 10);
    Tier tier = Tier.of(4, 4).withSolver(Solver.DOPRI5).withTolerance(1e-2f);
    CostCalibration.Prediction p = c.predict(tier, 8);
    assertEquals(37L * 8, p.velocityEvaluations());
    assertEquals(1000 + 50L * 37 * 8 * 4, p.deviceNanos());
    assertEquals(1 + CostCalibration.REPEATS, seen.stream().filter(tier::equals).count());
    assertEquals(1 + CostCalibration.REPEATS, seen.size(), "no other calls: " + seen);
  }

  @Test
  void rejectsAnEmptyBatch() {
    CostCalibration c =
        CostCalibration.using((items, tier) -> linear(items, tier, new ArrayList<>()), 10);
    assertThrows(IllegalArgumentException.class, () -> c.predict(Tier.of(1, 2), 0));
    assertThrows(
        IllegalArgumentException.class, () -> CostCalibration.using((items, tier) -> null, 0));
  }

  @Test
  void evaluationCountsMatchTheRealSampler(@TempDir Path dir) throws Exception {
    String location = TestModels.writeRandomPackage(dir, TestModels.TINY, 5);
    try (LoadedModel model = Models.load(location, "cpu")) {
      CostCalibration c = CostCalibration.of(model.sampler(), model.config().numClasses());
      for (Tier tier :
          List.of(
              Tier.of(12, 4).withSolver(Solver.HEUN),
              Tier.of(10, 2).withGuidance(2f),
              Tier.of(3, 4).withSolver(Solver.RK4),
              Tier.of(2, 2).withSolver(Solver.DOPRI5).withTolerance(0.05f))) {
        CostCalibration.Prediction p = c.predict(tier, 5);
        SampleStats real = model.sampler().sample(c.items(5), tier).stats();
        assertEquals(real.velocityEvaluations(), p.velocityEvaluations(), tier.label());
        assertEquals(real.blockEvaluations(), p.blockEvaluations(), tier.label());
        assertTrue(p.deviceNanos() > 0 && p.calibrationNanos() > 0, tier.label());
      }
    }
  }
}
