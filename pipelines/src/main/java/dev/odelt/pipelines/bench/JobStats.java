package dev.odelt.pipelines.bench;

import java.util.List;
import java.util.Locale;

/** Small pure helpers of the job-level benchmarks: medians, a least-squares line, batch fill. */
final class JobStats {

  private JobStats() {}

  /** The median (mean of the middle two for an even count); NaN for no values. */
  static double median(List<Double> values) {
    return values.isEmpty() ? Double.NaN : Timing.median(values);
  }

  /** A fitted line {@code y = intercept + slope · x}. */
  record Line(double slope, double intercept) {}

  /** Ordinary least squares of y on x; needs at least two distinct x. */
  static Line leastSquares(double[] x, double[] y) {
    if (x.length != y.length || x.length < 2) {
      throw new IllegalArgumentException("need at least two points and as many x as y");
    }
    double mx = 0;
    double my = 0;
    for (int i = 0; i < x.length; i++) {
      mx += x[i];
      my += y[i];
    }
    mx /= x.length;
    my /= y.length;
    double sxy = 0;
    double sxx = 0;
    for (int i = 0; i < x.length; i++) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
    }
    if (sxx == 0) {
      throw new IllegalArgumentException("all x are equal: no slope");
    }
    double slope = sxy / sxx;
    return new Line(slope, my - slope * mx);
  }

  /** Mean batch fill: images / (batches × max batch size); 0 when there were no batches. */
  static double fill(long images, long batches, int maxBatchSize) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1");
    }
    return batches == 0 ? 0 : (double) images / ((double) batches * maxBatchSize);
  }

  /** The fewest batches {@code images} need: ceil(images / max). */
  static long minimumBatches(long images, int maxBatchSize) {
    return (images + maxBatchSize - 1) / maxBatchSize;
  }

  static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
