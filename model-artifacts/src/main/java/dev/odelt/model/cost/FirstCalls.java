package dev.odelt.model.cost;

import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * What a process's first sampler calls after the warm-up cost beyond a settled process's: the
 * excess device time as a function of the block calls made so far, measured by a probe of small
 * calls repeated until the excess has run out.
 *
 * <p>Why (measured on the CPU, BENCHMARKS.md "Quote accuracy"): after the warm-up, the same call
 * still gets cheaper for a few hundred block calls — eight {@code s8-b4:4} calls in a fresh JVM
 * took 82, 77, 74, 72, 70, 70, 69, 70 ms of CPU time. The Java side of every operator call (DJL's
 * wrappers, the solvers, guidance) runs interpreted or half-compiled until the JIT has compiled it,
 * and how far it has got depends on how many operator calls the process has made, not on the
 * shapes. The cost per block call is therefore the same for a 1-image probe and a 16-image batch,
 * while its share of a call is large for a small model and nothing for a large one. A calibration
 * times warm calls, so without this a run of a few batches costs 10–28% more than its quote.
 *
 * <p>The probe, made by each of the run's worker threads at once straight after their warm-up calls
 * ({@link WarmUp#quotedOnce}; the JIT then gets the core time the sampling threads leave it, as in
 * the run): calls of one image, one Euler step through {@code tier}'s blocks without guidance (so
 * each call is one block call per block), until {@link #PROBE_BLOCK_CALLS} block calls are made or
 * {@link #PROBE_NANOS} of device time are spent. The settled cost is the mean of the last third of
 * the calls; the curve is the running sum of each call's excess over it, against the running block
 * calls. Beyond the probe the excess is taken to have run out. A model whose probe call is too slow
 * to repeat {@link #MIN_CALLS} times within the budget (a paper-scale model on a CPU, where the
 * Java side is a negligible part of a call) gets no curve and no excess.
 */
public final class FirstCalls {

  /** The probe stops after this many block calls (the excess has run out by then on the CPU). */
  public static final long PROBE_BLOCK_CALLS = 600;

  /** ...or after this much device time, whichever comes first. */
  public static final long PROBE_NANOS = 1_500_000_000L;

  /** Fewest probe calls that give a curve: the last third, at least three, is the settled cost. */
  public static final int MIN_CALLS = 9;

  /**
   * The excess of a process's first block calls.
   *
   * @param blockCalls running block calls at the end of each probe call, increasing
   * @param excessNanos running excess device time over the settled cost at those points
   * @param settledNanosPerBlockCall the settled device time of one probe block call
   * @param method how it was measured, in words
   */
  public record Curve(
      long[] blockCalls, long[] excessNanos, double settledNanosPerBlockCall, String method) {

    public Curve {
      if (blockCalls.length != excessNanos.length) {
        throw new IllegalArgumentException(
            "blockCalls and excessNanos differ in length: "
                + blockCalls.length
                + " and "
                + excessNanos.length);
      }
      for (int i = 0; i < blockCalls.length; i++) {
        if (blockCalls[i] <= (i == 0 ? 0 : blockCalls[i - 1])) {
          throw new IllegalArgumentException("blockCalls must increase from above 0");
        }
      }
      blockCalls = blockCalls.clone();
      excessNanos = excessNanos.clone();
    }

    /** No excess (nothing measured). */
    public static Curve none(String why) {
      return new Curve(new long[0], new long[0], 0, why);
    }

    @Override
    public long[] blockCalls() {
      return blockCalls.clone();
    }

    @Override
    public long[] excessNanos() {
      return excessNanos.clone();
    }

    /**
     * The excess device time of a process's first {@code calls} block calls: the curve linearly
     * interpolated from (0, 0), its last value beyond its end, never below 0.
     */
    public long excessNanosOf(long calls) {
      if (calls <= 0 || blockCalls.length == 0) {
        return 0;
      }
      long x0 = 0;
      long y0 = 0;
      for (int i = 0; i < blockCalls.length; i++) {
        if (calls <= blockCalls[i]) {
          double f = (double) (calls - x0) / (blockCalls[i] - x0);
          return Math.max(0, Math.round(y0 + f * (excessNanos[i] - y0)));
        }
        x0 = blockCalls[i];
        y0 = excessNanos[i];
      }
      return Math.max(0, y0);
    }
  }

  private FirstCalls() {}

  /**
   * The curves of threads that probed at once, as one curve on their block calls together: a run
   * whose N block calls are shared evenly by the threads pays, at N, what each thread's curve says
   * at N / threads, summed. No curve when any thread got none.
   */
  public static Curve together(List<Curve> curves) {
    if (curves.isEmpty()) {
      return Curve.none("not probed: no threads");
    }
    for (Curve c : curves) {
      if (c.blockCalls.length == 0) {
        return c;
      }
    }
    if (curves.size() == 1) {
      return curves.get(0);
    }
    int threads = curves.size();
    TreeSet<Long> grid = new TreeSet<>();
    double settled = 0;
    for (Curve c : curves) {
      for (long x : c.blockCalls) {
        grid.add(x);
      }
      settled += c.settledNanosPerBlockCall / threads;
    }
    long[] x = new long[grid.size()];
    long[] y = new long[grid.size()];
    int i = 0;
    for (long g : grid) {
      x[i] = g * threads;
      for (Curve c : curves) {
        y[i] += c.excessNanosOf(g);
      }
      i++;
    }
    StringBuilder each = new StringBuilder();
    for (Curve c : curves) {
      each.append(each.length() == 0 ? "" : "; ").append(c.method);
    }
    return new Curve(
        x,
        y,
        settled,
        String.format(
            Locale.ROOT,
            "%d threads at once, %.0f ms excess together (%s)",
            threads,
            y[y.length - 1] / 1e6,
            each));
  }

  /**
   * Runs the probe with {@code sampler} at one Euler step through {@code tier}'s blocks, unguided,
   * on {@code item}. Call it on a thread that has just made its warm-up call, in a process whose
   * worker threads have warmed up and made nothing else, as a run's are before their first batches.
   */
  public static Curve measure(
      BiFunction<List<SampleItem>, Tier, SampleStats> sampler, Tier tier, SampleItem item) {
    Tier probe = new Tier(1, tier.blocks(), tier.solver(), 1f, tier.tolerance());
    List<SampleItem> items = List.of(item);
    List<Long> ends = new ArrayList<>();
    List<Long> nanos = new ArrayList<>();
    long calls = 0;
    long spent = 0;
    while (calls < PROBE_BLOCK_CALLS && spent < PROBE_NANOS) {
      SampleStats s = sampler.apply(items, probe);
      long perCall = Math.max(1, s.blockEvaluations());
      calls += perCall;
      spent += s.deviceNanos();
      ends.add(calls);
      nanos.add(s.deviceNanos());
      if (ends.size() == 1 && s.deviceNanos() * (long) MIN_CALLS > PROBE_NANOS) {
        return Curve.none(
            String.format(
                Locale.ROOT,
                "not probed: one call of %d block calls took %.0f ms, too long to repeat %d times"
                    + " in %.1f s (the Java side of such calls is a negligible part of them)",
                perCall,
                s.deviceNanos() / 1e6,
                MIN_CALLS,
                PROBE_NANOS / 1e9));
      }
    }
    int n = nanos.size();
    if (n < MIN_CALLS) {
      return Curve.none(
          String.format(
              Locale.ROOT, "not probed: only %d calls fitted in %.1f s", n, PROBE_NANOS / 1e9));
    }
    int tail = Math.max(3, n / 3);
    double settled = 0;
    for (int i = n - tail; i < n; i++) {
      settled += nanos.get(i);
    }
    settled /= tail;
    long[] x = new long[n];
    long[] y = new long[n];
    double excess = 0;
    for (int i = 0; i < n; i++) {
      excess += nanos.get(i) - settled;
      x[i] = ends.get(i);
      y[i] = Math.round(excess);
    }
    long perCall = x[0];
    return new Curve(
        x,
        y,
        settled / perCall,
        String.format(
            Locale.ROOT,
            "%d probe calls of 1 image through %d blocks: %.1f ms settled (mean of the last %d),"
                + " %.0f ms excess over the first %d block calls",
            n,
            tier.blocks(),
            settled / 1e6,
            tail,
            Math.max(0, y[n - 1 - tail]) / 1e6,
            x[n - 1 - tail]));
  }
}
