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
    assertEquals(1 + CostCalibration.REPEATS, seen.size(), "the first pass, then the repeats");
    assertTrue(seen.stream().allMatch(tier::equals), "" + seen);
  }

  @Test
  void aSlowFirstCallAtAShapeIsTheFirstPassNotTheSettledPrediction() {
    // Each shape's first call is slower (as a thread's first calls after its warm-up are): the
    // first pass gives that call's time, the rounds the settled one.
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
    // Measured at S = 1 and 8, both first calls 1 ms slower: extrapolated, still 1 ms.
    CostCalibration.Prediction longTier = c.predict(Tier.of(32, 2), 4);
    assertEquals(1000 + 50L * 32 * 4 * 2, longTier.deviceNanos());
    assertEquals(1000 + 50L * 32 * 4 * 2 + 1_000_000, longTier.firstDeviceNanos());
    CostCalibration.Prediction small = c.predict(Tier.of(1, 2), 1);
    assertEquals(1000 + 50L * 2, small.deviceNanos());
    assertEquals(1000 + 50L * 2 + 1_000_000, small.firstDeviceNanos());
    CostCalibration.Prediction dopri5 = c.predict(Tier.of(4, 2).withSolver(Solver.DOPRI5), 3);
    assertEquals(1000 + 50L * 37 * 3 * 2, dopri5.deviceNanos());
    assertEquals(1000 + 50L * 37 * 3 * 2 + 1_000_000, dopri5.firstDeviceNanos());
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
  void aPlansShapesAreTimedInRoundsSoASlowSpellMovesNoneOfThem() {
    // Calls 6 to 9 (a run of four calls in a row) take 3× longer, as when another tenant of a
    // shared machine takes the core for a second. Timed one shape after the other, that spell
    // would cover two repeats of one shape and move its median; in rounds it covers one repeat
    // of each of four shapes.
    List<Tier> seen = new ArrayList<>();
    int[] call = {0};
    CostCalibration c =
        CostCalibration.using(
            (items, tier) -> {
              SampleStats s = linear(items, tier, seen);
              int k = call[0]++;
              long nanos = k >= 6 && k <= 9 ? 3 * s.deviceNanos() : s.deviceNanos();
              return new SampleStats(
                  s.velocityEvaluations(), s.blockEvaluations(), nanos, s.batchSize(), s.device());
            },
            10);
    List<CostCalibration.Shape> shapes =
        List.of(
            new CostCalibration.Shape(Tier.of(1, 2), 4),
            new CostCalibration.Shape(Tier.of(2, 2), 4),
            new CostCalibration.Shape(Tier.of(4, 2), 4),
            new CostCalibration.Shape(Tier.of(4, 4), 2));
    List<CostCalibration.Prediction> p = c.predictAll(shapes);
    for (int i = 0; i < shapes.size(); i++) {
      CostCalibration.Shape shape = shapes.get(i);
      assertEquals(
          linear(c.items(shape.batchSize()), shape.tier(), new ArrayList<>()).deviceNanos(),
          p.get(i).deviceNanos(),
          shape.toString());
    }
    // The first pass over all four, then three rounds over the four.
    assertEquals(shapes.get(0).tier(), seen.get(0));
    assertEquals(shapes.get(3).tier(), seen.get(3));
    assertEquals(shapes.get(0).tier(), seen.get(4));
    assertEquals(4 * (1 + CostCalibration.REPEATS), seen.size());
  }

  @Test
  void dopri5RepeatsSolveOtherItemsAndAreAveraged() {
    // A field whose step count grows with the first seed of the batch: 37, 38, 39, 40 per image
    // for item sets 0..3; the run's batches vary like that, so the quote is their mean.
    List<List<SampleItem>> seen = new ArrayList<>();
    CostCalibration c =
        CostCalibration.using(
            (items, tier) -> {
              seen.add(items);
              long perImage = 37 + items.get(0).seed() / items.size();
              long velocity = perImage * items.size();
              return new SampleStats(
                  velocity, velocity * tier.blocks(), 1000 * velocity, items.size(), "test");
            },
            10);
    Tier tier = Tier.of(4, 4).withSolver(Solver.DOPRI5);
    CostCalibration.Prediction p = c.predict(tier, 8);
    assertEquals(List.of(0L, 8L, 16L, 24L), seen.stream().map(i -> i.get(0).seed()).toList());
    assertEquals(
        List.of(0, 8 % 10, 16 % 10, 24 % 10), seen.stream().map(i -> i.get(0).classId()).toList());
    assertEquals(39L * 8, p.velocityEvaluations(), "the mean of sets 1..3: 38, 39, 40");
    assertEquals(1000L * 39 * 8, p.deviceNanos());
    assertEquals(39L * 8 * 4, p.blockEvaluations());
    // The first pass solved set 0 (37 evaluations per image): taken per block evaluation, at the
    // rounds' 39.
    assertEquals(1000L * 39 * 8, p.firstDeviceNanos());
  }

  @Test
  void threadsPredictionsAreAveragedAndTheirCalibrationTimesSummed() {
    CostCalibration.Prediction a = new CostCalibration.Prediction(100, 300, 8, 16, "measured", 10);
    CostCalibration.Prediction b = new CostCalibration.Prediction(201, 400, 8, 16, "measured", 20);
    CostCalibration.Prediction c = new CostCalibration.Prediction(7, 9, 1, 2, "other", 3);
    List<CostCalibration.Prediction> both =
        CostCalibration.mean(List.of(List.of(a, c), List.of(b, c)));
    assertEquals(151, both.get(0).deviceNanos(), "150.5, rounded");
    assertEquals(350, both.get(0).firstDeviceNanos());
    assertEquals(8, both.get(0).velocityEvaluations());
    assertEquals(16, both.get(0).blockEvaluations());
    assertEquals(30, both.get(0).calibrationNanos(), "both threads' calls");
    assertEquals("measured, on 2 threads at once", both.get(0).method());
    assertEquals(7, both.get(1).deviceNanos());
    assertEquals(List.of(a), CostCalibration.mean(List.of(List.of(a))), "one thread: as it is");
    assertThrows(IllegalArgumentException.class, () -> CostCalibration.mean(List.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> CostCalibration.mean(List.of(List.of(a, c), List.of(b))));
  }

  @Test
  void theFirstPassCallsEachMeasurementOnce() {
    List<Tier> seen = new ArrayList<>();
    CostCalibration c = CostCalibration.using((items, tier) -> linear(items, tier, seen), 10);
    List<CostCalibration.Shape> shapes =
        List.of(
            new CostCalibration.Shape(Tier.of(2, 2), 4),
            new CostCalibration.Shape(Tier.of(64, 4), 2),
            new CostCalibration.Shape(Tier.of(4, 2).withSolver(Solver.DOPRI5), 3));
    assertEquals(4, CostCalibration.firstPassCalls(shapes), "the 64-step tier is measured twice");
    c.predictAll(shapes);
    assertEquals(
        List.of(
            Tier.of(2, 2),
            Tier.of(1, 4),
            Tier.of(CostCalibration.MEASURED_STEPS, 4),
            Tier.of(4, 2).withSolver(Solver.DOPRI5)),
        seen.subList(0, 4),
        "the first pass: every measurement once, in order");
    assertEquals(4 * (1 + CostCalibration.REPEATS), seen.size());
    // Every thread calls the shapes in the same order, so that threads calibrating at once are in
    // step.
    for (int r = 1; r <= CostCalibration.REPEATS; r++) {
      assertEquals(seen.subList(0, 4), seen.subList(4 * r, 4 * r + 4), "round " + r);
    }
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
        if (tier.solver() == Solver.DOPRI5) {
          // The mean of solves of item sets 1..REPEATS.
          double velocity = 0;
          double block = 0;
          for (int set = 1; set <= CostCalibration.REPEATS; set++) {
            SampleStats real = model.sampler().sample(c.items(5, set), tier).stats();
            velocity += real.velocityEvaluations() / (double) CostCalibration.REPEATS;
            block += real.blockEvaluations() / (double) CostCalibration.REPEATS;
          }
          assertEquals(Math.round(velocity), p.velocityEvaluations(), tier.label());
          assertEquals(Math.round(block), p.blockEvaluations(), tier.label());
        } else {
          SampleStats real = model.sampler().sample(c.items(5), tier).stats();
          assertEquals(real.velocityEvaluations(), p.velocityEvaluations(), tier.label());
          assertEquals(real.blockEvaluations(), p.blockEvaluations(), tier.label());
        }
        assertTrue(p.deviceNanos() > 0 && p.calibrationNanos() > 0, tier.label());
      }
    }
  }
}
