package dev.odelt.model.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.data.DigitSet;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.net.Ops;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains an ODE_t(ODE_l) network (DESIGN.md §1). Each batch of B items is split into three parts:
 *
 * <ul>
 *   <li><b>flow matching</b> (the rest of the batch): x_t = (1−t)x₀ + t x₁ with t ~ U[0, 1), the
 *       student at the finest level d_max and full depth regresses onto x₁ − x₀;
 *   <li><b>time self-consistency</b> ({@code selfConsistencyFraction}): level d ~ U{0..d_max−1},
 *       t on the grid of step 2^−d, the student at level d and full depth regresses onto two half
 *       steps of the EMA teacher at level d+1;
 *   <li><b>length consistency</b> ({@code lengthConsistencyFraction}): the student runs a random
 *       allowed depth L_s &lt; depth and regresses onto the EMA teacher's velocity at a random
 *       allowed depth L_t &gt; L_s, both at the same (x_t, t, d, y) with d ~ U{0..d_max}.
 * </ul>
 *
 * Labels are replaced by the null label with probability {@code labelDropout} so guidance works.
 * Everything random at step k derives from (seed, k), so a run resumed from a checkpoint takes
 * exactly the steps the uninterrupted run would have.
 */
public final class Trainer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

  private final TrainOptions options;
  private final ModelConfig config;
  private final DigitSet data;
  private final NDManager manager;
  private final OdeltNetwork student;
  private final OdeltNetwork teacher;
  private final Map<String, NDArray> studentArrays = new LinkedHashMap<>();
  private final Map<String, NDArray> teacherArrays = new LinkedHashMap<>();
  private final AdamW optimizer;
  private final Ema ema;
  private int step;
  private int skippedSteps;

  /** Losses of one step, per term (NaN where the term had no items). */
  public record StepLosses(
      float total,
      float flowMatching,
      float selfConsistency,
      float length,
      long targetNanos,
      long gradientNanos,
      long updateNanos) {}

  public Trainer(TrainOptions options, DigitSet data, Device device) {
    this.options = options;
    this.config = options.model();
    this.data = data;
    if (config.imageSize() < data.height() || config.channels() != 1) {
      throw new IllegalArgumentException(
          "The digits are 1-channel " + data.height() + "×" + data.width()
              + ": the model needs channels=1 and imageSize >= " + data.height());
    }
    this.manager = NDManager.newBaseManager(device);
    this.student = new OdeltNetwork(config);
    student.initialize(manager, options.seed(), OdeltNetwork.Init.TRAINING);
    this.teacher = new OdeltNetwork(config);
    Map<String, NDArray> copies = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : student.namedParameters().entrySet()) {
      NDArray a = e.getValue().getArray();
      a.setRequiresGradient(true);
      studentArrays.put(e.getKey(), a);
      copies.put(e.getKey(), a.duplicate());
    }
    teacher.setParameters(copies);
    teacherArrays.putAll(copies);
    this.optimizer = new AdamW(studentArrays, manager, options.weightDecay());
    this.ema = new Ema(studentArrays, teacherArrays, options.emaDecay());
  }

  public OdeltNetwork student() {
    return student;
  }

  /** The EMA network: the teacher during training and the weights that get shipped. */
  public OdeltNetwork teacher() {
    return teacher;
  }

  /** Steps whose update was skipped because the gradient was not finite. */
  public int skippedSteps() {
    return skippedSteps;
  }

  /** Steps taken so far. */
  public int step() {
    return step;
  }

  AdamW optimizer() {
    return optimizer;
  }

  Map<String, NDArray> studentArrays() {
    return studentArrays;
  }

  Map<String, NDArray> teacherArrays() {
    return teacherArrays;
  }

  void setStep(int step) {
    this.step = step;
  }

  /** Per-step randomness: a pure function of (seed, step). */
  static SplittableRandom rngFor(long seed, int step) {
    return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + 1);
  }

  /** Takes one optimizer step and returns its losses. */
  public StepLosses trainStep() {
    SplittableRandom rng = rngFor(options.seed(), step);
    int b = options.batchSize();
    int nSc = Math.round(b * options.selfConsistencyFraction());
    int nLc = Math.round(b * options.lengthConsistencyFraction());
    List<Integer> allowed = config.allowedBlocks();
    if (allowed.size() < 2) {
      nLc = 0;
    }
    int nFm = b - nSc - nLc;
    int depth = config.depth();
    int dMax = config.maxStepLevel();
    int side = config.imageSize();
    int pixels = side * side;

    // Host-side batch: data, noise, labels, times, levels.
    int[] indices = new int[b];
    int[] labels = new int[b];
    for (int i = 0; i < b; i++) {
      indices[i] = rng.nextInt(data.count());
      labels[i] =
          rng.nextDouble() < options.labelDropout() ? config.nullClass() : data.label(indices[i]);
    }
    float[] x1 = data.batchAsModelInput(indices, side);
    float[] x0 = new float[b * pixels];
    GaussianNoise.fill(rng, x0, 1.0);
    float[] t = new float[b];
    float[] d = new float[b];
    for (int i = 0; i < nFm; i++) {
      t[i] = (float) rng.nextDouble();
      d[i] = dMax;
    }
    for (int i = nFm; i < nFm + nSc; i++) {
      int level = rng.nextInt(dMax);
      t[i] = rng.nextInt(1 << level) / (float) (1 << level);
      d[i] = level;
    }
    int studentBlocks = depth;
    int teacherBlocks = depth;
    if (nLc > 0) {
      int si = rng.nextInt(allowed.size() - 1);
      studentBlocks = allowed.get(si);
      teacherBlocks = allowed.get(si + 1 + rng.nextInt(allowed.size() - 1 - si));
    }
    for (int i = nFm + nSc; i < b; i++) {
      int level = rng.nextInt(dMax + 1);
      t[i] = rng.nextInt(1 << level) / (float) (1 << level);
      d[i] = level;
    }

    long t0 = System.nanoTime();
    try (NDManager sm = manager.newSubManager()) {
      Shape imageShape = new Shape(b, config.channels(), side, side);
      NDArray noise = sm.create(x0, imageShape);
      NDArray clean = sm.create(x1, imageShape);
      NDArray times = sm.create(t);
      NDArray levels = sm.create(d);
      NDArray labelArray = sm.create(labels);
      NDArray xt = Targets.interpolate(noise, clean, times);

      ParameterStore ps = new ParameterStore(sm, false);
      Teacher emaTeacher = (x, tt, dd, yy, l) -> teacher.velocity(ps, x, tt, dd, yy, l, false);

      // Targets, without gradients.
      NDArray fmTarget = Targets.flowMatching(noise.get("0:" + nFm), clean.get("0:" + nFm));
      NDArray scTarget = null;
      if (nSc > 0) {
        String r = nFm + ":" + (nFm + nSc);
        scTarget =
            Targets.selfConsistency(
                emaTeacher, xt.get(r), times.get(r), levels.get(r), labelArray.get(r), depth);
      }
      NDArray lcTarget = null;
      String lcRange = (nFm + nSc) + ":" + b;
      if (nLc > 0) {
        lcTarget =
            Targets.lengthConsistency(
                emaTeacher,
                xt.get(lcRange),
                times.get(lcRange),
                levels.get(lcRange),
                labelArray.get(lcRange),
                teacherBlocks);
      }

      long t1 = System.nanoTime();
      NDArray fmSum;
      NDArray scSum = null;
      NDArray lcSum = null;
      NDArray loss;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        String fullRange = "0:" + (nFm + nSc);
        NDArray full =
            student.velocity(
                ps,
                xt.get(fullRange),
                times.get(fullRange),
                levels.get(fullRange),
                labelArray.get(fullRange),
                depth,
                true);
        fmSum = full.get("0:" + nFm).sub(fmTarget).square().sum();
        NDArray sum = fmSum;
        if (nSc > 0) {
          scSum = full.get(nFm + ":" + (nFm + nSc)).sub(scTarget).square().sum();
          sum = sum.add(scSum);
        }
        if (nLc > 0) {
          NDArray shallow =
              student.velocity(
                  ps,
                  xt.get(lcRange),
                  times.get(lcRange),
                  levels.get(lcRange),
                  labelArray.get(lcRange),
                  studentBlocks,
                  true);
          lcSum = shallow.sub(lcTarget).square().sum();
          sum = sum.add(lcSum);
        }
        loss = sum.div(Ops.scalar(sum, (float) b * pixels)); // not div(float): see Ops
        gc.backward(loss);
      }
      // Values are read only after backward: nothing touches the graph's tensors before it runs.
      float total = loss.getFloat();
      float fm = fmSum.getFloat() / ((float) nFm * pixels);
      float sc = scSum == null ? Float.NaN : scSum.getFloat() / ((float) nSc * pixels);
      float lc = lcSum == null ? Float.NaN : lcSum.getFloat() / ((float) nLc * pixels);
      long t2 = System.nanoTime();
      step++;
      float norm = optimizer.step(step, options.learningRateAt(step - 1), options.gradClip());
      if (Float.isFinite(norm)) {
        ema.update(step);
      } else {
        skippedSteps++;
        LOG.warn(
            "Step {}: non-finite gradient in {}, update skipped ({} so far)",
            step,
            optimizer.nonFiniteGradients(),
            skippedSteps);
      }
      long t3 = System.nanoTime();
      return new StepLosses(total, fm, sc, lc, t1 - t0, t2 - t1, t3 - t2);
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
