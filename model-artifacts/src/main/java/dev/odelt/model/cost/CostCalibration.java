package dev.odelt.model.cost;

import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.model.sample.Sampler;
import dev.odelt.proto.v1.Solver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.BiFunction;

/**
 * Predicts the device time and evaluations of one sampler call — a batch of {@code B} images at a
 * tier — by timing short calibration solves of the real {@link Sampler} on the device at hand, at
 * exactly that batch size, block count and guidance.
 *
 * <p>The model: a fixed-step solver's call costs {@code fixed + S × perStep} (noise, pixel
 * conversion and the copy off the device are the fixed part; each step runs the same velocity
 * evaluations on the same shapes). Tiers of at most {@link #MEASURED_STEPS} steps are measured as
 * they are; longer ones are measured at S = 1 and S = {@link #MEASURED_STEPS} and extrapolated
 * linearly, which is exact for the evaluation counts. Dormand–Prince chooses its steps per item
 * from the field, so its step count cannot be known in advance: it is predicted by one real
 * calibration solve of a full batch of that size (the model's measured NFE on that batch).
 *
 * <p>Every measurement is the median of {@link #REPEATS} calls after one untimed call at the same
 * tier and batch size. The calling thread must have been warmed up first ({@link WarmUp}), as the
 * run's worker threads are before their first batch: a prediction is a warm call's time, and the
 * one-off costs of a process and a thread are predicted apart ({@link WarmUp#measureTogether}),
 * charged once per worker thread rather than to any shape or tier (measured on the CPU: after the
 * warm-up, the first call at a new shape costs what its repeats cost). The calibration items are
 * fixed (seeds 0..B−1, classes cycling over the model's classes), so a calibration does the same
 * work every time; only the device's speed varies. Time is the sampler's own {@link
 * SampleStats#deviceNanos()} (its {@link dev.odelt.model.sample.DeviceClock}), the quantity the
 * job's accounting sums.
 */
public final class CostCalibration {

  /** Fixed-step tiers with more steps are measured at 1 and this many steps. */
  public static final int MEASURED_STEPS = 8;

  /** Timed calls per measurement (their median is used). */
  public static final int REPEATS = 3;

  /**
   * A predicted sampler call.
   *
   * @param deviceNanos predicted device time of the call ({@link SampleStats#deviceNanos()})
   * @param velocityEvaluations predicted velocity evaluations, summed over the batch's items
   * @param blockEvaluations predicted block evaluations (velocity evaluations × L × guidance
   *     passes)
   * @param method how it was predicted, in words
   * @param calibrationNanos device time the calibration itself took
   */
  public record Prediction(
      long deviceNanos,
      long velocityEvaluations,
      long blockEvaluations,
      String method,
      long calibrationNanos) {}

  private final BiFunction<List<SampleItem>, Tier, SampleStats> sampler;
  private final int numClasses;

  private CostCalibration(BiFunction<List<SampleItem>, Tier, SampleStats> sampler, int numClasses) {
    this.sampler = sampler;
    this.numClasses = numClasses;
  }

  /** Calibrates with this sampler, whose model has {@code numClasses} classes. */
  public static CostCalibration of(Sampler sampler, int numClasses) {
    return using((items, tier) -> sampler.sample(items, tier).stats(), numClasses);
  }

  /**
   * Calibrates with any function that runs one sampler call and returns its stats (for tests and
   * for samplers wrapped by other code).
   */
  public static CostCalibration using(
      BiFunction<List<SampleItem>, Tier, SampleStats> sampler, int numClasses) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be >= 1, got " + numClasses);
    }
    return new CostCalibration(sampler, numClasses);
  }

  /** The fixed calibration items of a batch: seeds 0..B−1, classes cycling. */
  List<SampleItem> items(int batchSize) {
    List<SampleItem> items = new ArrayList<>(batchSize);
    for (int i = 0; i < batchSize; i++) {
      items.add(new SampleItem(i % numClasses, i));
    }
    return items;
  }

  /**
   * Predicts one call of {@code batchSize} images at {@code tier}.
   *
   * @throws IllegalArgumentException for a batch size below 1 or a tier the sampler rejects
   */
  public Prediction predict(Tier tier, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    List<SampleItem> items = items(batchSize);
    long start = System.nanoTime();
    if (tier.solver() == Solver.DOPRI5) {
      Measured m = measure(items, tier);
      return new Prediction(
          m.nanos(),
          m.velocityEvaluations(),
          m.blockEvaluations(),
          String.format(
              Locale.ROOT,
              "%s solves of a calibration batch of %d: %.1f evaluations per image",
              tier.label(),
              batchSize,
              (double) m.velocityEvaluations() / batchSize),
          System.nanoTime() - start);
    }
    if (tier.steps() <= MEASURED_STEPS) {
      Measured m = measure(items, tier);
      return new Prediction(
          m.nanos(),
          m.velocityEvaluations(),
          m.blockEvaluations(),
          "measured at S=" + tier.steps(),
          System.nanoTime() - start);
    }
    Measured a = measure(items, withSteps(tier, 1));
    Measured b = measure(items, withSteps(tier, MEASURED_STEPS));
    double perStep = Math.max(0, (double) (b.nanos() - a.nanos()) / (MEASURED_STEPS - 1));
    long extraSteps = tier.steps() - 1L;
    long nanos = a.nanos() + Math.round(perStep * extraSteps);
    long velocity =
        a.velocityEvaluations()
            + (b.velocityEvaluations() - a.velocityEvaluations())
                * extraSteps
                / (MEASURED_STEPS - 1);
    long block =
        a.blockEvaluations()
            + (b.blockEvaluations() - a.blockEvaluations()) * extraSteps / (MEASURED_STEPS - 1);
    return new Prediction(
        nanos,
        velocity,
        block,
        "measured at S=1 and S=" + MEASURED_STEPS + ", extrapolated to S=" + tier.steps(),
        System.nanoTime() - start);
  }

  private static Tier withSteps(Tier tier, int steps) {
    return new Tier(steps, tier.blocks(), tier.solver(), tier.guidance(), tier.tolerance());
  }

  private record Measured(long nanos, long velocityEvaluations, long blockEvaluations) {}

  /**
   * Median device time of {@link #REPEATS} calls after one untimed call (code that is still being
   * compiled after the warm-up settles there); evaluations of the last (they never vary).
   */
  private Measured measure(List<SampleItem> items, Tier tier) {
    sampler.apply(items, tier);
    long[] nanos = new long[REPEATS];
    SampleStats last = null;
    for (int r = 0; r < REPEATS; r++) {
      last = sampler.apply(items, tier);
      nanos[r] = last.deviceNanos();
    }
    Arrays.sort(nanos);
    return new Measured(nanos[REPEATS / 2], last.velocityEvaluations(), last.blockEvaluations());
  }
}
