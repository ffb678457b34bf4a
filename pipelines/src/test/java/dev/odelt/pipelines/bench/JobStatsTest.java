package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class JobStatsTest {

  @Test
  void medianOfOddAndEvenCounts() {
    assertEquals(2.0, JobStats.median(List.of(3.0, 1.0, 2.0)));
    assertEquals(2.5, JobStats.median(List.of(4.0, 1.0, 3.0, 2.0)));
    assertTrue(Double.isNaN(JobStats.median(List.of())));
  }

  @Test
  void leastSquaresRecoversAnExactLineAndFitsNoisyPoints() {
    JobStats.Line exact =
        JobStats.leastSquares(new double[] {0, 1, 2, 3}, new double[] {5, 7, 9, 11});
    assertEquals(2.0, exact.slope(), 1e-12);
    assertEquals(5.0, exact.intercept(), 1e-12);
    // By hand for y = {0, 2, 1}: x̄ = 1, ȳ = 1, Sxy = (-1)(0-1) + 0·(2-1) + 1·(1-1) = 1, Sxx = 2,
    // so slope 0.5 and intercept 1 - 0.5 = 0.5.
    JobStats.Line noisy = JobStats.leastSquares(new double[] {0, 1, 2}, new double[] {0, 2, 1});
    assertEquals(0.5, noisy.slope(), 1e-12);
    assertEquals(0.5, noisy.intercept(), 1e-12);
    assertThrows(
        IllegalArgumentException.class,
        () -> JobStats.leastSquares(new double[] {1, 1}, new double[] {0, 1}));
  }

  @Test
  void fillIsImagesOverBatchCapacity() {
    assertEquals(1.0, JobStats.fill(160, 10, 16));
    assertEquals(170.0 / (12 * 16), JobStats.fill(170, 12, 16), 1e-12);
    assertEquals(0.0, JobStats.fill(0, 0, 16));
    assertEquals(11, JobStats.minimumBatches(170, 16));
    assertEquals(10, JobStats.minimumBatches(160, 16));
    assertEquals(0, JobStats.minimumBatches(0, 16));
  }

  @Test
  void progressInterpolationIsLinearBetweenReports() {
    List<long[]> progress =
        List.of(new long[] {2_000_000_000L, 100}, new long[] {3_000_000_000L, 300});
    assertEquals(0.0, JobMemoryBench.interpolate(progress, 0.5));
    assertEquals(50.0, JobMemoryBench.interpolate(progress, 1.5), 1e-9);
    assertEquals(200.0, JobMemoryBench.interpolate(progress, 2.5), 1e-9);
    assertEquals(300.0, JobMemoryBench.interpolate(progress, 9.0));
  }

  @Test
  void progressLinesAreSummedOverTiers() {
    List<long[]> points =
        ChildJob.progress(
            List.of(
                new ChildJob.Line(1, "12:00:01 INFO Progress - progress s1-b2: 10/50 images (20%)"),
                new ChildJob.Line(2, "12:00:01 INFO Progress - progress s2-b2: 5/50 images (10%)"),
                new ChildJob.Line(3, "something else"),
                new ChildJob.Line(4, "12:00:02 INFO Progress - progress s1-b2: 30/50 images")));
    assertEquals(3, points.size());
    assertEquals(10, points.get(0)[1]);
    assertEquals(15, points.get(1)[1]);
    assertEquals(35, points.get(2)[1]);
    assertEquals(4, points.get(2)[0]);
  }

  @Test
  void efficiencyManifestIsSizedToTheBareRateWithinBounds() {
    assertEquals(3000, PipelineEfficiencyBench.imagesFor(10));
    assertEquals(9000, PipelineEfficiencyBench.imagesFor(200));
    assertEquals(15_000, PipelineEfficiencyBench.imagesFor(10_000));
  }
}
