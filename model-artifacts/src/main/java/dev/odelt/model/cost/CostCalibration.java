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
 * <p>Every measurement is the median of {@link #REPEATS} calls (Dormand–Prince: the mean of {@link
 * #REPEATS} batches of different items); a plan's shapes are measured together, in rounds ({@link
 * #predictAll}), after a first pass that calls every measurement once. The calling thread must have
 * been warmed up first ({@link WarmUp}), as the run's worker threads are before their first batch:
 * the rounds give a settled call's time ({@link Prediction#deviceNanos()}), and the first pass what
 * the same call costs when it is among a thread's first calls after its warm-up ({@link
 * Prediction#firstDeviceNanos()}): measured on the CPU, a run's first calls after the warm-up cost
 * more than their settled time (the JIT is still compiling the Java side of the operator calls;
 * until the C allocator's thresholds were fixed, {@link dev.odelt.model.sample.NativeHeap}, fresh
 * pages made it 1.2–2×), and for a run of a few batches nearly every call is such a call. The
 * one-off cost of a process and a thread is predicted apart ({@link WarmUp}), charged once per
 * worker thread rather than to any shape or tier. The calibration items are fixed (seeds 0..B−1,
 * classes cycling over the model's classes), so a calibration does the same work every time; only
 * the device's speed varies. Time is the sampler's own {@link SampleStats#deviceNanos()} (its
 * {@link dev.odelt.model.sample.DeviceClock}), the quantity the job's accounting sums.
 */
public final class CostCalibration {

  /** Fixed-step tiers with more steps are measured at 1 and this many steps. */
  public static final int MEASURED_STEPS = 8;

  /** Timed calls per measurement (their median is used). */
  public static final int REPEATS = 3;

  /**
   * A predicted sampler call.
   *
   * @param deviceNanos predicted device time of a settled call ({@link SampleStats#deviceNanos()})
   * @param firstDeviceNanos predicted device time of the call when it is among a thread's first
   *     calls after its warm-up: the first pass's time of it (Dormand–Prince: per block evaluation,
   *     times the predicted block evaluations, as its first pass solves other items)
   * @param velocityEvaluations predicted velocity evaluations, summed over the batch's items
   * @param blockEvaluations predicted block evaluations (velocity evaluations × L × guidance
   *     passes)
   * @param method how it was predicted, in words
   * @param calibrationNanos device time the calibration itself took
   */
  public record Prediction(
      long deviceNanos,
      long firstDeviceNanos,
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
   * Predicts several shapes, their calls interleaved: first a pass that calls every measurement
   * once (a thread's first calls after its warm-up, timed for {@link
   * Prediction#firstDeviceNanos()}; they also settle each shape), then {@link #REPEATS} rounds that
   * each time every measurement once, and each measurement's median. A slow spell of a shared
   * machine (another tenant's burst, lasting a second or two) then lands on one repeat of many
   * shapes, which the medians drop, rather than on every repeat of one shape, which would move that
   * shape's prediction alone: on the 2-core machine such spells moved single shapes' predictions by
   * up to 1.7× when their repeats were made in a row.
   *
   * <p>Threads that calibrate at once ({@link WarmUp#quoteTogether}) go through the shapes in the
   * same order, so a call shares the cores, caches and memory with the same shape on the other
   * threads, as in the run: its worker threads mostly sample the same tier at the same time,
   * because Flink hands each of them its batches sorted by key (tier, shard). In one mixed run of
   * BENCHMARKS.md "Quote accuracy" the guided tier's 23 full batches ran within 4.5 s on both
   * threads, and the Dormand–Prince batches finished in pairs.
   *
   * @return one prediction per shape, in order
   * @throws IllegalArgumentException for a tier the sampler rejects
   */
  public List<Prediction> predictAll(List<Shape> shapes) {
    List<Measurement> all = new ArrayList<>();
    List<List<Measurement>> byShape = new ArrayList<>(shapes.size());
    for (Shape shape : shapes) {
      List<Measurement> own = new ArrayList<>();
      for (Tier t : measured(shape.tier())) {
        // Dormand–Prince: each repeat on other items (sets 1..REPEATS), as the run's batches are.
        boolean varied = t.solver() == Solver.DOPRI5;
        List<List<SampleItem>> sets = new ArrayList<>();
        for (int r = 0; r <= REPEATS; r++) {
          sets.add(items(shape.batchSize(), varied ? r : 0));
        }
        Measurement m = new Measurement(sets, t, varied);
        own.add(m);
        all.add(m);
      }
      byShape.add(own);
    }
    for (Measurement m : all) {
      SampleStats s = sampler.apply(m.sets.get(0), m.tier);
      m.firstNanos = s.deviceNanos();
      m.firstBlock = s.blockEvaluations();
      m.spent += s.deviceNanos();
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
   * Calls in a thread's first pass of {@link #predictAll} for these shapes: one per measurement (a
   * fixed-step tier of more than {@link #MEASURED_STEPS} steps is measured twice).
   */
  public static int firstPassCalls(List<Shape> shapes) {
    int calls = 0;
    for (Shape shape : shapes) {
      calls += measured(shape.tier()).size();
    }
    return calls;
  }

  /**
   * The predictions of threads that calibrated the same shapes at once (each warmed first, as the
   * run's worker threads sample at once), as one: per shape the threads' mean device times, and
   * their calibration times summed. Why: a call shares the cores, caches and memory with the other
   * worker threads in the run, and a calibration on one thread with the other cores idle does not
   * see that (measured: the mixed manifest's small and guided tiers were quoted 8–18% low).
   *
   * @param perThread each thread's {@link #predictAll} of the same shapes
   * @throws IllegalArgumentException when there are none, or they differ in length
   */
  public static List<Prediction> mean(List<List<Prediction>> perThread) {
    if (perThread.isEmpty()) {
      throw new IllegalArgumentException("no predictions to combine");
    }
    int threads = perThread.size();
    int shapes = perThread.get(0).size();
    for (List<Prediction> p : perThread) {
      if (p.size() != shapes) {
        throw new IllegalArgumentException(
            "threads predicted different numbers of shapes: " + p.size() + " and " + shapes);
      }
    }
    List<Prediction> out = new ArrayList<>(shapes);
    for (int s = 0; s < shapes; s++) {
      Prediction first = perThread.get(0).get(s);
      double nanos = 0;
      double firstNanos = 0;
      long spent = 0;
      for (List<Prediction> p : perThread) {
        nanos += p.get(s).deviceNanos() / (double) threads;
        firstNanos += p.get(s).firstDeviceNanos() / (double) threads;
        spent += p.get(s).calibrationNanos();
      }
      out.add(
          new Prediction(
              Math.round(nanos),
              Math.round(firstNanos),
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
      return new Prediction(m.nanos(), m.firstNanos(), m.velocity(), m.block(), method, spent);
    }
    Measurement a = own.get(0);
    Measurement b = own.get(1);
    double perStep = Math.max(0, (double) (b.nanos() - a.nanos()) / (MEASURED_STEPS - 1));
    long extraSteps = tier.steps() - 1L;
    long nanos = a.nanos() + Math.round(perStep * extraSteps);
    double firstPerStep =
        Math.max(0, (double) (b.firstNanos() - a.firstNanos()) / (MEASURED_STEPS - 1));
    long firstNanos = a.firstNanos() + Math.round(firstPerStep * extraSteps);
    long velocity =
        a.velocity() + (b.velocity() - a.velocity()) * extraSteps / (MEASURED_STEPS - 1);
    long block = a.block() + (b.block() - a.block()) * extraSteps / (MEASURED_STEPS - 1);
    return new Prediction(
        nanos,
        firstNanos,
        velocity,
        block,
        "measured at S=1 and S=" + MEASURED_STEPS + ", extrapolated to S=" + tier.steps(),
        spent);
  }

  /** What is measured for a tier: the tier itself, or S = 1 and S = {@link #MEASURED_STEPS}. */
  private static List<Tier> measured(Tier tier) {
    return tier.solver() == Solver.DOPRI5 || tier.steps() <= MEASURED_STEPS
        ? List.of(tier)
        : List.of(withSteps(tier, 1), withSteps(tier, MEASURED_STEPS));
  }

  private static Tier withSteps(Tier tier, int steps) {
    return new Tier(steps, tier.blocks(), tier.solver(), tier.guidance(), tier.tolerance());
  }

  /**
   * One calibration call, timed once in the first pass and then {@link #REPEATS} times. Fixed-step
   * calls do the same work every time (their evaluations never vary) and are taken by their median,
   * which drops a repeat that a slow spell of the machine hit. Dormand–Prince repeats solve
   * different items, whose step counts differ as the run's batches' do, and are taken by their
   * means: the run pays the mean over its batches.
   */
  private static final class Measurement {
    final List<List<SampleItem>> sets;
    final Tier tier;
    final boolean byMean;
    final long[] nanos = new long[REPEATS];
    final long[] velocity = new long[REPEATS];
    final long[] block = new long[REPEATS];
    long firstNanos;
    long firstBlock;
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

    /**
     * The first pass's time, per block evaluation at the rounds' evaluations when its items took
     * another number of them (Dormand–Prince); for fixed steps the two are the same.
     */
    long firstNanos() {
      long b = block();
      return firstBlock <= 0 || b <= 0 || firstBlock == b
          ? firstNanos
          : Math.round((double) firstNanos * b / firstBlock);
    }

    long velocity() {
      return Math.round(Arrays.stream(velocity).average().orElse(0));
    }

    long block() {
      return Math.round(Arrays.stream(block).average().orElse(0));
    }
  }
}
