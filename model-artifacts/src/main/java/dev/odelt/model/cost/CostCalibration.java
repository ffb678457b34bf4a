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
 * from the field, so its step count cannot be known in advance: it is predicted by real calibration
 * solves of full batches of that size, each of other items (the model's measured NFE on those
 * batches, and their mean device time).
 *
 * <p>Every measurement is the median of {@link #REPEATS} calls after one untimed call at the same
 * tier and batch size (Dormand–Prince: the mean of {@link #REPEATS} batches of different items); a
 * plan's shapes are measured together, in rounds ({@link #predictAll}). The calling thread must
 * have been warmed up first ({@link WarmUp}), as the run's worker threads are before their first
 * batch: a prediction is a warm call's time, and the one-off costs of a process and a thread are
 * predicted apart ({@link WarmUp#quotedOnce}), charged once per worker thread rather than to any
 * shape or tier (measured on the CPU: after the warm-up, the first call at a new shape costs what
 * its repeats cost). The calibration items are fixed (seeds 0..B−1, classes cycling over the
 * model's classes), so a calibration does the same work every time; only the device's speed varies.
 * Time is the sampler's own {@link SampleStats#deviceNanos()} (its {@link
 * dev.odelt.model.sample.DeviceClock}), the quantity the job's accounting sums.
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
    return items(batchSize, 0);
  }

  /**
   * Calibration item set {@code set} of a batch: seeds set·B..set·B+B−1, classes cycling from the
   * first seed. Set 0 is {@link #items(int)}.
   */
  List<SampleItem> items(int batchSize, int set) {
    List<SampleItem> items = new ArrayList<>(batchSize);
    long first = (long) set * batchSize;
    for (int i = 0; i < batchSize; i++) {
      long seed = first + i;
      items.add(new SampleItem((int) (seed % numClasses), seed));
    }
    return items;
  }

  /** One batch shape to predict: {@code batchSize} images at {@code tier}. */
  public record Shape(Tier tier, int batchSize) {
    public Shape {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
      }
    }
  }

  /**
   * Predicts one call of {@code batchSize} images at {@code tier}.
   *
   * @throws IllegalArgumentException for a batch size below 1 or a tier the sampler rejects
   */
  public Prediction predict(Tier tier, int batchSize) {
    return predictAll(List.of(new Shape(tier, batchSize))).get(0);
  }

  /**
   * Predicts several shapes, their calls interleaved: first one untimed call of every measurement,
   * then {@link #REPEATS} rounds that each time every measurement once, and each measurement's
   * median. A slow spell of a shared machine (another tenant's burst, lasting a second or two) then
   * lands on one repeat of many shapes, which the medians drop, rather than on every repeat of one
   * shape, which would move that shape's prediction alone: on the 2-core machine such spells moved
   * single shapes' predictions by up to 1.7× when their repeats were made in a row.
   *
   * @return one prediction per shape, in order
   * @throws IllegalArgumentException for a tier the sampler rejects
   */
  public List<Prediction> predictAll(List<Shape> shapes) {
    // Each shape's measurements: the tier itself, or S = 1 and S = MEASURED_STEPS.
    List<List<Tier>> plans = new ArrayList<>(shapes.size());
    for (Shape shape : shapes) {
      Tier tier = shape.tier();
      plans.add(
          tier.solver() == Solver.DOPRI5 || tier.steps() <= MEASURED_STEPS
              ? List.of(tier)
              : List.of(withSteps(tier, 1), withSteps(tier, MEASURED_STEPS)));
    }
    List<Measurement> all = new ArrayList<>();
    List<List<Measurement>> byShape = new ArrayList<>(shapes.size());
    for (int i = 0; i < shapes.size(); i++) {
      List<Measurement> own = new ArrayList<>();
      for (Tier t : plans.get(i)) {
        int b = shapes.get(i).batchSize();
        // Dormand–Prince: each repeat on other items (sets 1..REPEATS), as the run's batches are.
        boolean varied = t.solver() == Solver.DOPRI5;
        List<List<SampleItem>> sets = new ArrayList<>();
        for (int r = 0; r <= REPEATS; r++) {
          sets.add(items(b, varied ? r : 0));
        }
        Measurement m = new Measurement(sets, t, varied);
        own.add(m);
        all.add(m);
      }
      byShape.add(own);
    }
    for (Measurement m : all) {
      m.spent += sampler.apply(m.sets.get(0), m.tier).deviceNanos(); // untimed: settles a shape
    }
    for (int r = 0; r < REPEATS; r++) {
      for (Measurement m : all) {
        SampleStats s = sampler.apply(m.sets.get(r + 1), m.tier);
        m.nanos[r] = s.deviceNanos();
        m.velocity[r] = s.velocityEvaluations();
        m.block[r] = s.blockEvaluations();
        m.spent += s.deviceNanos();
      }
    }
    List<Prediction> out = new ArrayList<>(shapes.size());
    for (int i = 0; i < shapes.size(); i++) {
      out.add(prediction(shapes.get(i), byShape.get(i)));
    }
    return out;
  }

  /**
   * {@link #predictAll} on {@code threads} new threads at once, as the run's worker threads sample
   * at once: each first runs {@code prepare} (its warm-up), then calibrates every shape; a shape's
   * prediction is the mean of the threads' (its calibration time their sum). Why: a call shares the
   * cores, caches and memory with the other worker threads in the run, and a calibration on one
   * thread with the other cores idle does not see that.
   *
   * @throws IllegalArgumentException for fewer than one thread
   * @throws IllegalStateException when a calibration call fails (its cause attached)
   */
  public List<Prediction> predictTogether(List<Shape> shapes, int threads, Runnable prepare) {
    List<List<Prediction>> each =
        AtOnce.run(
            threads,
            "odelt-calibration",
            "calibrating",
            "a calibration call failed",
            i -> {
              prepare.run();
              return predictAll(shapes);
            });
    List<Prediction> out = new ArrayList<>(shapes.size());
    for (int s = 0; s < shapes.size(); s++) {
      Prediction first = each.get(0).get(s);
      double nanos = 0;
      long spent = 0;
      for (List<Prediction> p : each) {
        nanos += p.get(s).deviceNanos() / (double) threads;
        spent += p.get(s).calibrationNanos();
      }
      out.add(
          new Prediction(
              Math.round(nanos),
              first.velocityEvaluations(),
              first.blockEvaluations(),
              threads == 1
                  ? first.method()
                  : first.method() + ", on " + threads + " threads at once",
              spent));
    }
    return out;
  }

  private static Prediction prediction(Shape shape, List<Measurement> own) {
    Tier tier = shape.tier();
    long spent = own.stream().mapToLong(m -> m.spent).sum();
    if (own.size() == 1) {
      Measurement m = own.get(0);
      String method =
          tier.solver() == Solver.DOPRI5
              ? String.format(
                  Locale.ROOT,
                  "%s solves of a calibration batch of %d: %.1f evaluations per image",
                  tier.label(),
                  shape.batchSize(),
                  (double) m.velocity() / shape.batchSize())
              : "measured at S=" + tier.steps();
      return new Prediction(m.nanos(), m.velocity(), m.block(), method, spent);
    }
    Measurement a = own.get(0);
    Measurement b = own.get(1);
    double perStep = Math.max(0, (double) (b.nanos() - a.nanos()) / (MEASURED_STEPS - 1));
    long extraSteps = tier.steps() - 1L;
    long nanos = a.nanos() + Math.round(perStep * extraSteps);
    long velocity =
        a.velocity() + (b.velocity() - a.velocity()) * extraSteps / (MEASURED_STEPS - 1);
    long block = a.block() + (b.block() - a.block()) * extraSteps / (MEASURED_STEPS - 1);
    return new Prediction(
        nanos,
        velocity,
        block,
        "measured at S=1 and S=" + MEASURED_STEPS + ", extrapolated to S=" + tier.steps(),
        spent);
  }

  private static Tier withSteps(Tier tier, int steps) {
    return new Tier(steps, tier.blocks(), tier.solver(), tier.guidance(), tier.tolerance());
  }

  /**
   * One calibration call, timed {@link #REPEATS} times after an untimed one. Fixed-step calls do
   * the same work every time (their evaluations never vary) and are taken by their median, which
   * drops a repeat that a slow spell of the machine hit. Dormand–Prince repeats solve different
   * items, whose step counts differ as the run's batches' do, and are taken by their means: the run
   * pays the mean over its batches.
   */
  private static final class Measurement {
    final List<List<SampleItem>> sets;
    final Tier tier;
    final boolean byMean;
    final long[] nanos = new long[REPEATS];
    final long[] velocity = new long[REPEATS];
    final long[] block = new long[REPEATS];
    long spent;

    Measurement(List<List<SampleItem>> sets, Tier tier, boolean byMean) {
      this.sets = sets;
      this.tier = tier;
      this.byMean = byMean;
    }

    long nanos() {
      if (byMean) {
        return Math.round(Arrays.stream(nanos).average().orElse(0));
      }
      long[] sorted = nanos.clone();
      Arrays.sort(sorted);
      return sorted[REPEATS / 2];
    }

    long velocity() {
      return Math.round(Arrays.stream(velocity).average().orElse(0));
    }

    long block() {
      return Math.round(Arrays.stream(block).average().orElse(0));
    }
  }
}
