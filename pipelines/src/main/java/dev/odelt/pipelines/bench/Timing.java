package dev.odelt.pipelines.bench;

import java.util.Arrays;
import java.util.List;

/** Small helpers for timed measurements: medians and the elapsed time of a call. */
final class Timing {

  private Timing() {}

  /** A measured action. */
  @FunctionalInterface
  interface Action {
    void run() throws Exception;
  }

  /** Seconds one run of {@code action} takes. */
  static double seconds(Action action) throws Exception {
    long start = System.nanoTime();
    action.run();
    return (System.nanoTime() - start) / 1e9;
  }

  /** The median; the mean of the two middle values for an even count. */
  static double median(List<Double> values) {
    if (values.isEmpty()) {
      throw new IllegalArgumentException("no values");
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** Median seconds of {@code repeats} runs after {@code warmup} untimed runs. */
  static double medianSeconds(int warmup, int repeats, Action action) throws Exception {
    for (int i = 0; i < warmup; i++) {
      action.run();
    }
    Double[] times = new Double[repeats];
    for (int i = 0; i < repeats; i++) {
      times[i] = seconds(action);
    }
    return median(Arrays.asList(times));
  }

  /** Formats a number with {@code digits} decimals, locale-independent. */
  static String fmt(double value, int digits) {
    return String.format(java.util.Locale.ROOT, "%." + digits + "f", value);
  }
}
