package dev.odelt.transforms.accounting;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.Tier;
import dev.odelt.model.cost.CostCalibration;
import dev.odelt.model.cost.WarmUp;
import dev.odelt.model.sample.Sampler;
import dev.odelt.proto.v1.BatchCost;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.transforms.inference.TorchThreads;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;

/**
 * Predicts what the batches of a run would cost without running them: the batches that {@code
 * BatchByTier} made are reduced to their shapes (tier, number of images), the shapes are counted (a
 * combine: nothing per image or per batch is held in one place), and the distinct shapes are
 * calibrated together, in one process, on the device at hand with {@link CostCalibration} — a few
 * short solves of the real sampler at each tier and batch size, timed in rounds over all shapes
 * ({@link CostCalibration#predictAll}). Output: one {@link BatchCost} per shape with its batch
 * count, its predicted per-batch evaluations and device time — settled, and as one of a worker
 * thread's first calls after its warm-up — and the warm-up the run's worker threads would make
 * before their first batches. All of it is timed as the run pays it ({@link WarmUp#quoteTogether}):
 * {@code min(worker threads, batches)} new threads warm up at once, the first sampler calls of this
 * fresh process, and go straight on into calibrating every shape ({@link
 * CostCalibration#predictAll}: a first pass, then rounds, the threads in step, as the run's threads
 * mostly sample one tier at a time), as the run's threads go on into their first batches; a shape's
 * prediction is the threads' mean ({@link CostCalibration#mean}).
 *
 * <p>Like {@code GenerateImages}, the calibrating DoFn loads the shared model once per JVM; a model
 * or device fault throws so that the runner retries.
 */
public final class QuoteBatches
    extends PTransform<
        PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>>, PCollection<BatchCost>> {

  private static final long serialVersionUID = 1L;

  private final String modelLocation;
  private final String device;
  private final String precision;
  private final int maxBatchSize;
  private final int torchThreads;
  private final int workerThreads;

  private QuoteBatches(
      String modelLocation,
      String device,
      String precision,
      int maxBatchSize,
      int torchThreads,
      int workerThreads) {
    this.modelLocation = modelLocation;
    this.device = device;
    this.precision = precision;
    this.maxBatchSize = maxBatchSize;
    this.torchThreads = torchThreads;
    this.workerThreads = workerThreads;
  }

  /** Calibrates with the model package at this location, on device {@code auto}. */
  public static QuoteBatches using(String modelLocation) {
    if (modelLocation == null || modelLocation.isEmpty()) {
      throw new IllegalArgumentException("model location must not be empty");
    }
    return new QuoteBatches(modelLocation, "auto", "", 1, 0, 1);
  }

  /** {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}: the device the run would use. */
  public QuoteBatches onDevice(String newDevice) {
    return new QuoteBatches(
        modelLocation, newDevice, precision, maxBatchSize, torchThreads, workerThreads);
  }

  /**
   * {@code fp32} or {@code bf16}, as the run will use; empty (the default) for the package's
   * recommendation. The calibration times the sampler in this precision.
   */
  public QuoteBatches withPrecision(String newPrecision) {
    String value = newPrecision == null ? "" : newPrecision.trim();
    if (!value.isEmpty()) {
      Precision.parse(value);
    }
    return new QuoteBatches(
        modelLocation, device, value, maxBatchSize, torchThreads, workerThreads);
  }

  /** The batch capacity of the run, recorded to compute batch fill. */
  public QuoteBatches withMaxBatchSize(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + size);
    }
    return new QuoteBatches(modelLocation, device, precision, size, torchThreads, workerThreads);
  }

  /** PyTorch intra-op threads per call, as the run would set them; 0 leaves DJL's default. */
  public QuoteBatches withTorchThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("torch threads must be >= 0, got " + threads);
    }
    return new QuoteBatches(modelLocation, device, precision, maxBatchSize, threads, workerThreads);
  }

  /**
   * The run's generation threads (its parallelism; default 1): the warm-up is timed on as many new
   * threads at once as the run would warm up, {@code min(threads, batches)}.
   */
  public QuoteBatches withWorkerThreads(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("worker threads must be >= 1, got " + threads);
    }
    return new QuoteBatches(modelLocation, device, precision, maxBatchSize, torchThreads, threads);
  }

  @Override
  public PCollection<BatchCost> expand(
      PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> batches) {
    // The distinct shapes (a combine: nothing per image or per batch is held in one place), then
    // all of them together to one calibrating call, which times them in rounds
    // (CostCalibration.predictAll) and knows how many threads the run would warm up. A plan has
    // O(tiers × batch sizes) shapes.
    return batches
        .apply("BatchShapes", ParDo.of(new ShapeFn(maxBatchSize)))
        .apply("CountShapes", Combine.perKey(new SumBatchesFn()))
        .apply("Shapes", Values.create())
        .apply("OneKey", WithKeys.of(0))
        .apply("AllShapes", GroupByKey.create())
        .apply(
            "Calibrate",
            ParDo.of(
                new CalibrateFn(
                    modelLocation, device, precision, maxBatchSize, torchThreads, workerThreads)));
  }

  /** The threads a run warms up: one per worker thread that gets a batch. */
  static int warmUpThreads(int workerThreads, long batches) {
    return (int) Math.max(1, Math.min(workerThreads, batches));
  }

  /** The key of a batch shape: {@code <tier label>#<images>}. */
  static String shapeKey(String tierLabel, int size) {
    return tierLabel + "#" + size;
  }

  static final class ShapeFn
      extends DoFn<KV<ShardedKey<String>, Iterable<ImageTask>>, KV<String, BatchCost>> {
    private static final long serialVersionUID = 1L;
    private final int maxBatchSize;

    ShapeFn(int maxBatchSize) {
      this.maxBatchSize = maxBatchSize;
    }

    @ProcessElement
    public void process(
        @Element KV<ShardedKey<String>, Iterable<ImageTask>> batch,
        OutputReceiver<KV<String, BatchCost>> out) {
      ImageTask first = null;
      int size = 0;
      for (ImageTask t : batch.getValue()) {
        if (first == null) {
          first = t;
        }
        size++;
      }
      String label = first.getRequest().getTierLabel();
      out.output(
          KV.of(
              shapeKey(label, size),
              BatchCost.newBuilder()
                  .setTierLabel(label)
                  .setTier(first.getRequest().getTier())
                  .setBatchSize(size)
                  .setMaxBatchSize(Math.max(maxBatchSize, size))
                  .setBatches(1)
                  .build()));
    }
  }

  static final class SumBatchesFn extends Combine.BinaryCombineFn<BatchCost> {
    private static final long serialVersionUID = 1L;

    @Override
    public BatchCost apply(BatchCost left, BatchCost right) {
      return left.toBuilder().setBatches(left.getBatches() + right.getBatches()).build();
    }
  }

  static final class CalibrateFn extends DoFn<KV<Integer, Iterable<BatchCost>>, BatchCost> {
    private static final long serialVersionUID = 1L;
    private final String modelLocation;
    private final String device;
    private final String precision;
    private final int maxBatchSize;
    private final int torchThreads;
    private final int workerThreads;
    private transient Sampler sampler;
    private transient CostCalibration calibration;
    private transient WarmUp warmUp;
    private transient String deviceName;

    CalibrateFn(
        String modelLocation,
        String device,
        String precision,
        int maxBatchSize,
        int torchThreads,
        int workerThreads) {
      this.modelLocation = modelLocation;
      this.device = device;
      this.precision = precision;
      this.maxBatchSize = maxBatchSize;
      this.torchThreads = torchThreads;
      this.workerThreads = workerThreads;
    }

    @Setup
    public void setup() {
      TorchThreads.configure(torchThreads);
      LoadedModel model =
          Models.shared(
              modelLocation, device, precision.isEmpty() ? null : Precision.parse(precision));
      sampler = model.sampler();
      calibration = CostCalibration.of(sampler, model.config().numClasses());
      warmUp = WarmUp.shared(model, maxBatchSize);
      deviceName = model.device().toString();
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Iterable<BatchCost>> all, OutputReceiver<BatchCost> out) {
      List<BatchCost> shapes = new ArrayList<>();
      all.getValue().forEach(shapes::add);
      shapes.sort(
          Comparator.comparing(BatchCost::getTierLabel).thenComparingInt(BatchCost::getBatchSize));
      long batches = shapes.stream().mapToLong(BatchCost::getBatches).sum();
      List<CostCalibration.Shape> calibrated =
          shapes.stream()
              .map(b -> new CostCalibration.Shape(Tier.fromProto(b.getTier()), b.getBatchSize()))
              .toList();
      // The run's worker threads warm up together in this fresh process, as the run's do, and go
      // straight on into calibrating, as the run's go on into their first batches.
      int threads = warmUpThreads(workerThreads, batches);
      WarmUp.Together<List<CostCalibration.Prediction>> started =
          warmUp.quoteTogether(threads, i -> calibration.predictAll(calibrated));
      WarmUp.Cost warm = started.warmUp();
      List<CostCalibration.Prediction> predictions = CostCalibration.mean(started.results());
      long earlyCalls = (long) threads * CostCalibration.firstPassCalls(calibrated);
      for (int i = 0; i < shapes.size(); i++) {
        CostCalibration.Prediction p = predictions.get(i);
        out.output(
            shapes.get(i).toBuilder()
                .setDeviceNanos(p.deviceNanos())
                .setFirstDeviceNanos(p.firstDeviceNanos())
                .setEarlyCalls(earlyCalls)
                .setVelocityEvaluations(p.velocityEvaluations())
                .setBlockEvaluations(p.blockEvaluations())
                .setWarmUpNanos(warm.nanos())
                .setWarmUpThreads(warm.threads())
                .setMethod(p.method())
                .setDevice(deviceName)
                .setDeviceClock(sampler.deviceClock().describe())
                .setCalibrationSeconds(p.calibrationNanos() / 1e9)
                .build());
      }
    }
  }
}
