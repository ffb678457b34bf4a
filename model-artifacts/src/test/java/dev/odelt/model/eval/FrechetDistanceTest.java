package dev.odelt.model.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.eval.FrechetDistance.Gaussian;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {

  private static Gaussian gaussian(double[] mean, double[][] cov) {
    return new Gaussian(100, mean, cov);
  }

  @Test
  void diagonalCovariancesMatchTheClosedForm() {
    // FD = |Δμ|² + Σ (√a_i − √b_i)² = (1 + 4) + (2 − 1)² + (3 − 1)² = 10.
    Gaussian a = gaussian(new double[] {0, 0}, new double[][] {{4, 0}, {0, 9}});
    Gaussian b = gaussian(new double[] {1, 2}, new double[][] {{1, 0}, {0, 1}});
    assertEquals(10.0, FrechetDistance.between(a, b), 1e-12);
    assertEquals(10.0, FrechetDistance.between(b, a), 1e-12);
  }

  @Test
  void nonCommutingTwoByTwoMatchesTheTraceDeterminantFormula() {
    // For 2×2 PSD M: Tr √M = √(tr M + 2√det M); M = Σ1^½ Σ2 Σ1^½ has tr = tr(Σ1Σ2) = 10 and
    // det = det Σ1 · det Σ2 = 3 · 4. FD = tr Σ1 + tr Σ2 − 2 √(10 + 2√12) with equal means.
    Gaussian a = gaussian(new double[] {5, 5}, new double[][] {{2, 1}, {1, 2}});
    Gaussian b = gaussian(new double[] {5, 5}, new double[][] {{1, 0}, {0, 4}});
    double want = 4 + 5 - 2 * Math.sqrt(10 + 2 * Math.sqrt(12));
    assertEquals(0.771221, want, 1e-6);
    assertEquals(want, FrechetDistance.between(a, b), 1e-12);
    assertEquals(want, FrechetDistance.between(b, a), 1e-12);
  }

  @Test
  void fitGivesMeanAndUnbiasedCovariance() {
    Gaussian g = FrechetDistance.fit(new double[][] {{1, 2}, {3, 6}, {5, 4}});
    assertEquals(3, g.count());
    assertArrayEquals(new double[] {3, 4}, g.mean(), 1e-12);
    // Centred rows (−2, −2), (0, 2), (2, 0), divided by n − 1 = 2.
    assertArrayEquals(new double[] {4, 2}, g.covariance()[0], 1e-12);
    assertArrayEquals(new double[] {2, 4}, g.covariance()[1], 1e-12);
  }

  @Test
  void identicalSetsAreAtDistanceZeroAndShiftsAddTheirSquaredNorm() {
    double[][] x = randomRows(300, 16, 7);
    assertEquals(0, FrechetDistance.between(x, x), 1e-9);
    double[][] shifted = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      shifted[i] = x[i].clone();
      shifted[i][0] += 3;
      shifted[i][5] -= 4;
    }
    assertEquals(25, FrechetDistance.between(x, shifted), 1e-8);
  }

  @Test
  void singularCovariancesFromFewSamplesStaySymmetricAndNonNegative() {
    double[][] a = randomRows(10, 128, 1);
    double[][] b = randomRows(12, 128, 2);
    double ab = FrechetDistance.between(a, b);
    double ba = FrechetDistance.between(b, a);
    assertTrue(ab > 0, "fd " + ab);
    assertEquals(ab, ba, 1e-8 * ab);
    assertEquals(0, FrechetDistance.between(a, a), 1e-8);
  }

  @Test
  void jacobiReconstructsARandomSymmetricMatrix() {
    int d = 40;
    SplittableRandom random = new SplittableRandom(3);
    double[][] m = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        m[i][j] = random.nextDouble(-1, 1);
        m[j][i] = m[i][j];
      }
    }
    FrechetDistance.Eigen e = FrechetDistance.symmetricEigen(m);
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        double recon = 0;
        double gram = 0;
        for (int k = 0; k < d; k++) {
          recon += e.vectors()[i][k] * e.values()[k] * e.vectors()[j][k];
          gram += e.vectors()[k][i] * e.vectors()[k][j];
        }
        assertEquals(m[i][j], recon, 1e-10, "A[" + i + "][" + j + "]");
        assertEquals(i == j ? 1 : 0, gram, 1e-10, "VᵀV[" + i + "][" + j + "]");
      }
    }
  }

  @Test
  void sqrtSquaresBack() {
    double[][] cov = FrechetDistance.fit(randomRows(50, 8, 5)).covariance();
    double[][] root = FrechetDistance.sqrtPsd(cov);
    for (int i = 0; i < 8; i++) {
      for (int j = 0; j < 8; j++) {
        double sq = 0;
        for (int k = 0; k < 8; k++) {
          sq += root[i][k] * root[k][j];
        }
        assertEquals(cov[i][j], sq, 1e-10);
      }
    }
  }

  @Test
  void bootstrapStandardErrorMatchesTheDeltaMethodAndShrinksWithSampleSize() {
    // 1-D features ~ N(1, 1) against the reference N(0, 1): FD = x̄² + (s − 1)², dominated by x̄²,
    // whose standard error is 2|μ|/√n by the delta method: 0.1 at n = 400, 0.2 at n = 100.
    Gaussian reference = new Gaussian(1000, new double[] {0}, new double[][] {{1}});
    double[][] large = gaussianRows(400, 1, 7);
    double[][] small = gaussianRows(100, 1, 8);
    double seLarge = FrechetDistance.bootstrapStandardError(large, reference, 200, 3);
    double seSmall = FrechetDistance.bootstrapStandardError(small, reference, 200, 3);
    assertEquals(0.1, seLarge, 0.03);
    assertEquals(0.2, seSmall, 0.06);
    // Deterministic for a seed, different for another.
    assertEquals(seLarge, FrechetDistance.bootstrapStandardError(large, reference, 200, 3), 0);
    assertTrue(seLarge != FrechetDistance.bootstrapStandardError(large, reference, 200, 4));
    assertThrows(
        IllegalArgumentException.class,
        () -> FrechetDistance.bootstrapStandardError(large, reference, 1, 3));
  }

  /** n values of N(mean, 1), one per row. */
  private static double[][] gaussianRows(int n, double mean, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[][] rows = new double[n][1];
    for (double[] row : rows) {
      row[0] = mean + random.nextGaussian();
    }
    return rows;
  }

  @Test
  void badInputFailsClearly() {
    assertThrows(IllegalArgumentException.class, () -> FrechetDistance.fit(new double[][] {{1}}));
    assertThrows(
        IllegalArgumentException.class, () -> FrechetDistance.fit(new double[][] {{1, 2}, {3}}));
    assertThrows(
        IllegalArgumentException.class,
        () -> FrechetDistance.fit(new double[][] {{1, Double.NaN}, {3, 4}}));
    assertThrows(
        IllegalArgumentException.class,
        () -> FrechetDistance.between(randomRows(5, 3, 1), randomRows(5, 4, 1)));
  }

  private static double[][] randomRows(int n, int d, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[][] rows = new double[n][d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        // Correlated, unequal-scale columns.
        rows[i][j] = random.nextDouble(-1, 1) * (1 + j % 3) + (j > 0 ? 0.5 * rows[i][j - 1] : 0);
      }
    }
    return rows;
  }
}
