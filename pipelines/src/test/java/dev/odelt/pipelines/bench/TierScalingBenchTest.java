package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TierScalingBenchTest {

  /** Cells timed exactly as c + S·f + S·L·b (seconds). */
  private static List<TierScalingBench.Cell> exactCells(double c, double f, double b) {
    List<TierScalingBench.Cell> cells = new ArrayList<>();
    for (int s : new int[] {1, 4, 16, 128}) {
      for (int l : new int[] {2, 4, 6}) {
        double t = c + s * f + s * l * b;
        cells.add(new TierScalingBench.Cell(s, l, List.of(t * 1.01, t, t * 0.99)));
      }
    }
    return cells;
  }

  @Test
  void relativeFitRecoversTheFixedPartsOfExactTimes() {
    double[] fit = TierScalingBench.fit(exactCells(0.007, 0.0006, 0.017), 64);
    assertEquals(0.007, fit[0], 1e-9);
    assertEquals(0.0006, fit[1], 1e-9);
    assertEquals(0.017, fit[2], 1e-9);
  }

  @Test
  void perStepLineSplitsWhatDoesNotScaleWithBlocks() {
    List<TierScalingBench.Cell> cells = exactCells(0.007, 0.0006, 0.017);
    double[] atOne = TierScalingBench.fitOverBlocks(cells, 1);
    assertEquals(0.007 + 0.0006, atOne[0], 1e-12);
    assertEquals(0.017, atOne[1], 1e-12);
    double[] atSixteen = TierScalingBench.fitOverBlocks(cells, 16);
    assertEquals(0.007 + 16 * 0.0006, atSixteen[0], 1e-12);
    assertEquals(16 * 0.017, atSixteen[1], 1e-12);
  }
}
