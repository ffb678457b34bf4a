package dev.odelt.model.eval;

/**
 * The Fréchet distance between two Gaussians fitted to feature vectors (as in FID, Heusel et al.
 * 2017): {@code FD = |μ1 − μ2|² + Tr(Σ1 + Σ2 − 2 (Σ1^½ Σ2 Σ1^½)^½)}.
 *
 * <p>Plain Java in double precision. Covariances are unbiased (divided by n − 1, as numpy's {@code
 * cov}). Matrix square roots use a cyclic Jacobi eigendecomposition of symmetric matrices, with
 * eigenvalues at rounding level (negative, or below D·1e-14 of the largest) set to zero, so
 * singular covariances from fewer samples than dimensions work too.
 */
public final class FrechetDistance {

  private FrechetDistance() {}

  /**
   * Mean and covariance of a set of D-dimensional feature vectors.
   *
   * @param count number of vectors n
   * @param mean (D)
   * @param covariance (D, D), symmetric
   */
  public record Gaussian(int count, double[] mean, double[][] covariance) {

    /** The dimension D. */
    public int dimension() {
      return mean.length;
    }
  }

  /**
   * Fits mean and unbiased covariance to the rows of {@code features} (n × D, n ≥ 2).
   *
   * @throws IllegalArgumentException for fewer than two rows, ragged rows or non-finite values
   */
  public static Gaussian fit(double[][] features) {
    int n = features.length;
    if (n < 2) {
      throw new IllegalArgumentException("need at least 2 feature vectors, got " + n);
    }
    int d = features[0].length;
    double[] mean = new double[d];
    for (double[] row : features) {
      if (row.length != d) {
        throw new IllegalArgumentException("ragged features: " + row.length + " vs " + d);
      }
      for (int j = 0; j < d; j++) {
        if (!Double.isFinite(row[j])) {
          throw new IllegalArgumentException("non-finite feature value " + row[j]);
        }
        mean[j] += row[j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    double[][] cov = new double[d][d];
    double[] centred = new double[d];
    for (double[] row : features) {
      for (int j = 0; j < d; j++) {
        centred[j] = row[j] - mean[j];
      }
      for (int a = 0; a < d; a++) {
        double ca = centred[a];
        for (int b = a; b < d; b++) {
          cov[a][b] += ca * centred[b];
        }
      }
    }
    for (int a = 0; a < d; a++) {
      for (int b = a; b < d; b++) {
        cov[a][b] /= n - 1;
        cov[b][a] = cov[a][b];
      }
    }
    return new Gaussian(n, mean, cov);
  }

  /** The Fréchet distance between the Gaussians fitted to two sets of feature rows. */
  public static double between(double[][] a, double[][] b) {
    return between(fit(a), fit(b));
  }

  /**
   * The bootstrap standard error of {@code FD(fit(features), reference)}: the sample standard
   * deviation of the distance over {@code resamples} resamplings of the rows with replacement
   * (the same size as {@code features}), drawn from {@code seed}. It measures how much the FD of
   * this many images moves with the images drawn; it says nothing about the FD's bias at this
   * sample size, which the real-data floor shows.
   *
   * @throws IllegalArgumentException for fewer than two resamples or two rows
   */
  public static double bootstrapStandardError(
      double[][] features, Gaussian reference, int resamples, long seed) {
    if (resamples < 2) {
      throw new IllegalArgumentException("need at least 2 resamples, got " + resamples);
    }
    int n = features.length;
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    double sum = 0;
    double sumSquares = 0;
    double[][] drawn = new double[n][];
    for (int r = 0; r < resamples; r++) {
      for (int i = 0; i < n; i++) {
        drawn[i] = features[random.nextInt(n)];
      }
      double fd = between(fit(drawn), reference);
      sum += fd;
      sumSquares += fd * fd;
    }
    double mean = sum / resamples;
    return Math.sqrt(Math.max(0, (sumSquares - resamples * mean * mean) / (resamples - 1)));
  }

  /** The Fréchet distance between two Gaussians of the same dimension; ≥ 0 up to rounding. */
  public static double between(Gaussian a, Gaussian b) {
    int d = a.dimension();
    if (b.dimension() != d) {
      throw new IllegalArgumentException("dimensions differ: " + d + " vs " + b.dimension());
    }
    double meanTerm = 0;
    for (int j = 0; j < d; j++) {
      double diff = a.mean()[j] - b.mean()[j];
      meanTerm += diff * diff;
    }
    double[][] rootA = sqrtPsd(a.covariance());
    double[][] product = multiply(multiply(rootA, b.covariance()), rootA);
    symmetrize(product);
    double traceRoot = 0;
    for (double lambda : clampedEigenvalues(symmetricEigen(product).values())) {
      traceRoot += Math.sqrt(lambda);
    }
    return meanTerm + trace(a.covariance()) + trace(b.covariance()) - 2 * traceRoot;
  }

  /**
   * Eigenvalues and eigenvectors of a symmetric matrix.
   *
   * @param values (D) eigenvalues, unordered
   * @param vectors (D, D), column k is the unit eigenvector of {@code values[k]}
   */
  record Eigen(double[] values, double[][] vectors) {}

  /**
   * Eigenvalues of a PSD matrix with rounding noise removed: values below {@code D · 1e-14} of the
   * largest are set to zero. Without this, the square roots of the noise eigenvalues of a singular
   * matrix (≈1e-7 of the scale each) would add up to a visible bias.
   */
  static double[] clampedEigenvalues(double[] values) {
    double max = 0;
    for (double v : values) {
      max = Math.max(max, v);
    }
    double floor = values.length * 1e-14 * max;
    double[] out = new double[values.length];
    for (int k = 0; k < values.length; k++) {
      out[k] = values[k] > floor ? values[k] : 0;
    }
    return out;
  }

  /** The square root of a symmetric positive semi-definite matrix (noise eigenvalues → 0). */
  static double[][] sqrtPsd(double[][] m) {
    Eigen e = symmetricEigen(m);
    double[] values = clampedEigenvalues(e.values());
    int d = m.length;
    double[][] out = new double[d][d];
    for (int k = 0; k < d; k++) {
      double root = Math.sqrt(values[k]);
      if (root == 0) {
        continue;
      }
      for (int i = 0; i < d; i++) {
        double vi = e.vectors()[i][k] * root;
        for (int j = 0; j < d; j++) {
          out[i][j] += vi * e.vectors()[j][k];
        }
      }
    }
    symmetrize(out);
    return out;
  }

  /** Cyclic Jacobi eigendecomposition of a symmetric matrix (the input is not modified). */
  static Eigen symmetricEigen(double[][] m) {
    int d = m.length;
    double[][] a = new double[d][];
    double[][] v = new double[d][d];
    for (int i = 0; i < d; i++) {
      if (m[i].length != d) {
        throw new IllegalArgumentException("matrix is not square");
      }
      a[i] = m[i].clone();
      v[i][i] = 1;
    }
    double scale = 0;
    for (double[] row : a) {
      for (double x : row) {
        scale += x * x;
      }
    }
    // Stop when the off-diagonal norm is ~1e-13 of the matrix norm; Jacobi converges
    // quadratically, so the sweep that gets there leaves rounding-level residue.
    double tolerance = 1e-26 * Math.max(scale, Double.MIN_NORMAL);
    for (int sweep = 0; sweep < 60; sweep++) {
      double off = 0;
      for (int p = 0; p < d; p++) {
        for (int q = p + 1; q < d; q++) {
          off += a[p][q] * a[p][q];
        }
      }
      if (off <= tolerance) {
        break;
      }
      for (int p = 0; p < d; p++) {
        for (int q = p + 1; q < d; q++) {
          if (a[p][q] != 0) {
            rotate(a, v, p, q);
          }
        }
      }
    }
    double[] values = new double[d];
    for (int i = 0; i < d; i++) {
      values[i] = a[i][i];
    }
    return new Eigen(values, v);
  }

  /** One Jacobi rotation that zeroes a[p][q] (Golub &amp; Van Loan, Algorithm 8.5.1). */
  private static void rotate(double[][] a, double[][] v, int p, int q) {
    double apq = a[p][q];
    double theta = (a[q][q] - a[p][p]) / (2 * apq);
    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
    if (theta == 0) {
      t = 1;
    }
    double c = 1 / Math.sqrt(t * t + 1);
    double s = t * c;
    int d = a.length;
    for (int k = 0; k < d; k++) {
      double akp = a[k][p];
      double akq = a[k][q];
      a[k][p] = c * akp - s * akq;
      a[k][q] = s * akp + c * akq;
    }
    for (int k = 0; k < d; k++) {
      double apk = a[p][k];
      double aqk = a[q][k];
      a[p][k] = c * apk - s * aqk;
      a[q][k] = s * apk + c * aqk;
    }
    a[p][q] = 0;
    a[q][p] = 0;
    for (int k = 0; k < d; k++) {
      double vkp = v[k][p];
      double vkq = v[k][q];
      v[k][p] = c * vkp - s * vkq;
      v[k][q] = s * vkp + c * vkq;
    }
  }

  private static double[][] multiply(double[][] x, double[][] y) {
    int n = x.length;
    int m = y[0].length;
    int inner = y.length;
    double[][] out = new double[n][m];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < inner; k++) {
        double xik = x[i][k];
        if (xik == 0) {
          continue;
        }
        for (int j = 0; j < m; j++) {
          out[i][j] += xik * y[k][j];
        }
      }
    }
    return out;
  }

  private static void symmetrize(double[][] m) {
    for (int i = 0; i < m.length; i++) {
      for (int j = i + 1; j < m.length; j++) {
        double avg = (m[i][j] + m[j][i]) / 2;
        m[i][j] = avg;
        m[j][i] = avg;
      }
    }
  }

  private static double trace(double[][] m) {
    double t = 0;
    for (int i = 0; i < m.length; i++) {
      t += m[i][i];
    }
    return t;
  }
}
