package dev.odelt.model.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
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
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains an ODE_t(ODE_l) network with the reference's recipe (DESIGN.md §5, "Training recipe";
 * every element an option of {@link TrainOptions.Recipe}). A batch ({@link BatchPlan}) holds
 * flow-matching rows, time self-consistency rows (targets: two half steps of the EMA teacher at
 * the next finer level, guided for some) and length-consistency rows (targets: the EMA teacher at
 * an independently drawn block count); every row's student runs its own random block count, one
 * student call per count. Everything random at step k derives from (seed, k), so a run resumed
 * from a checkpoint takes exactly the steps the uninterrupted run would have.
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
    this.optimizer =
        new AdamW(
            studentArrays, manager, options.weightDecay(), options.recipe().weightDecayAll());
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
    BatchPlan plan = BatchPlan.draw(rng, options, data.count(), data::label);
    int b = plan.size();
    int side = config.imageSize();
    int per = config.channels() * side * side;
    float[] x1 = data.batchAsModelInput(plan.dataIndex(), side);
    float[] x0 = new float[b * per];
    GaussianNoise.fill(rng, x0, 1.0);

    long t0 = System.nanoTime();
    try (NDManager sm = manager.newSubManager()) {
      Shape imageShape = new Shape(b, config.channels(), side, side);
      NDArray noise = sm.create(x0, imageShape);
      NDArray clean = sm.create(x1, imageShape);
      NDArray times = sm.create(plan.time());
      NDArray levels = sm.create(plan.level());
      NDArray labelArray = sm.create(plan.label());
      NDArray xt = Targets.interpolate(noise, clean, times);

      ParameterStore ps = new ParameterStore(sm, false);
      Teacher emaTeacher = (x, tt, dd, yy, l) -> teacher.velocity(ps, x, tt, dd, yy, l, false);

      // Targets, without gradients: x₁ − x₀ for every row, then the teacher's for the others.
      float[] target = Targets.flowMatching(noise, clean).toFloatArray();
      float[] xtHost = xt.toFloatArray();
      int[] scRows = plan.rowsOf(BatchPlan.Term.SELF_CONSISTENCY);
      for (boolean guided : new boolean[] {false, true}) {
        int[] rows = IntStream.of(scRows).filter(i -> plan.guided()[i] == guided).toArray();
        if (rows.length > 0) {
          Teacher t =
              guided
                  ? Targets.guided(
                      emaTeacher, options.recipe().teacherGuidance(), config.nullClass())
                  : emaTeacher;
          Rows in = Rows.of(sm, plan, xtHost, rows, per, imageShape);
          NDArray v =
              Targets.selfConsistency(t, in.x(), in.t(), in.level(), in.labels(), config.depth());
          Rows.scatter(v.toFloatArray(), rows, target, per);
        }
      }
      int[] lcRows = plan.rowsOf(BatchPlan.Term.LENGTH);
      for (int blocks : IntStream.of(lcRows).map(i -> plan.teacherBlocks()[i]).distinct().toArray()) {
        int[] rows = IntStream.of(lcRows).filter(i -> plan.teacherBlocks()[i] == blocks).toArray();
        Rows in = Rows.of(sm, plan, xtHost, rows, per, imageShape);
        NDArray v =
            Targets.lengthConsistency(emaTeacher, in.x(), in.t(), in.level(), in.labels(), blocks);
        Rows.scatter(v.toFloatArray(), rows, target, per);
      }
      NDArray targets = sm.create(target, imageShape);

      long t1 = System.nanoTime();
      NDArray rowErrors;
      NDArray loss;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        // One student call per block count: rows are ordered by it (BatchPlan).
        NDList perRow = new NDList();
        int[] blocks = plan.studentBlocks();
        for (int from = 0; from < b; ) {
          int to = from;
          while (to < b && blocks[to] == blocks[from]) {
            to++;
          }
          String r = from + ":" + to;
          NDArray v =
              student.velocity(
                  ps, xt.get(r), times.get(r), levels.get(r), labelArray.get(r), blocks[from], true);
          perRow.add(v.sub(targets.get(r)).square().sum(new int[] {1, 2, 3})); // (rows)
          from = to;
        }
        rowErrors = NDArrays.concat(perRow); // (B)
        NDArray sum = rowErrors.sum();
        loss = sum.div(Ops.scalar(sum, (float) b * per)); // not div(float): see Ops
        gc.backward(loss);
      }
      // Values are read only after backward: nothing touches the graph's tensors before it runs.
      float total = loss.getFloat();
      float[] errors = rowErrors.toFloatArray();
      float fm = termMean(errors, plan, BatchPlan.Term.FLOW, per);
      float sc = termMean(errors, plan, BatchPlan.Term.SELF_CONSISTENCY, per);
      float lc = termMean(errors, plan, BatchPlan.Term.LENGTH, per);
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

  /** Mean squared error per value over the rows of one term; NaN when it has none. */
  private static float termMean(float[] rowErrors, BatchPlan plan, BatchPlan.Term term, int per) {
    int[] rows = plan.rowsOf(term);
    double sum = 0;
    for (int i : rows) {
      sum += rowErrors[i];
    }
    return rows.length == 0 ? Float.NaN : (float) (sum / ((double) rows.length * per));
  }

  /** Some rows of a batch as arrays on a manager: inputs of one teacher call. */
  private record Rows(NDArray x, NDArray t, NDArray level, NDArray labels) {

    static Rows of(
        NDManager sm, BatchPlan plan, float[] xt, int[] rows, int per, Shape imageShape) {
      float[] x = new float[rows.length * per];
      float[] t = new float[rows.length];
      float[] d = new float[rows.length];
      int[] y = new int[rows.length];
      for (int k = 0; k < rows.length; k++) {
        System.arraycopy(xt, rows[k] * per, x, k * per, per);
        t[k] = plan.time()[rows[k]];
        d[k] = plan.level()[rows[k]];
        y[k] = plan.label()[rows[k]];
      }
      Shape shape = new Shape(rows.length, imageShape.get(1), imageShape.get(2), imageShape.get(3));
      return new Rows(sm.create(x, shape), sm.create(t), sm.create(d), sm.create(y));
    }

    /** Writes row k of {@code values} into row {@code rows[k]} of {@code into}. */
    static void scatter(float[] values, int[] rows, float[] into, int per) {
      for (int k = 0; k < rows.length; k++) {
        System.arraycopy(values, k * per, into, rows[k] * per, per);
      }
    }
  }

  @Override
  public void close() {
    manager.close();
  }
}
