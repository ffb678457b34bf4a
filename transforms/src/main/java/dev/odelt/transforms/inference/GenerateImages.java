package dev.odelt.transforms.inference;

import dev.odelt.model.Precision;
import dev.odelt.model.sample.Sampler;
import dev.odelt.proto.v1.BatchStats;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.transforms.accounting.Progress;
import dev.odelt.transforms.accounting.ProgressSnapshots;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Generates the images of tier batches with the model's {@link Sampler}.
 *
 * <p>The model package is loaded once per JVM, device and precision ({@link Models#shared}) and
 * shared by all DoFn instances and threads; it outlives DoFn instances (no per-instance teardown)
 * and is freed with the worker JVM. Each batch runs as one sampler call in (request id, index)
 * order; a batch that runs the device out of memory is split and retried ({@link BatchSplitter}).
 * Outputs: {@link #IMAGES} — one PNG per task with its equal share of its call's device seconds and
 * evaluations; {@link #STATS} — one {@link BatchStats} per sampler call. Images depend only on
 * (class, seed, tier, model), never on the batch.
 *
 * <p>Before its first batch, each worker thread makes one warm-up call ({@link WarmUp}: the largest
 * working set a batch of at most {@code maxBatchSize} can have), so that the one-off costs of the
 * process and of the thread land on no batch; its stats go to {@link #STATS} marked {@code warm_up}
 * (no images), for the accounting to charge to the run, not to a tier. Without a batch capacity
 * ({@link #withMaxBatchSize}) there is no warm-up. Failures (device, model) throw: the runner
 * retries the bundle; no work is dropped silently.
 */
public final class GenerateImages
    extends PTransform<PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>>, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<RenderedImage> IMAGES = new TupleTag<RenderedImage>() {};
  public static final TupleTag<BatchStats> STATS = new TupleTag<BatchStats>() {};

  private final String modelLocation;
  private final String device;
  private final String precision;
  private final int maxBatchSize;
  private final int torchThreads;
  private final long progressSeconds;
  private final ProgressSnapshots snapshots;

  private GenerateImages(
      String modelLocation,
      String device,
      String precision,
      int maxBatchSize,
      int torchThreads,
      long progressSeconds,
      ProgressSnapshots snapshots) {
    this.modelLocation = modelLocation;
    this.device = device;
    this.precision = precision;
    this.maxBatchSize = maxBatchSize;
    this.torchThreads = torchThreads;
    this.progressSeconds = progressSeconds;
    this.snapshots = snapshots;
  }

  /** Generates with the model package at this location, on device {@code auto}. */
  public static GenerateImages using(String modelLocation) {
    if (modelLocation == null || modelLocation.isEmpty()) {
      throw new IllegalArgumentException("model location must not be empty");
    }
    return new GenerateImages(modelLocation, "auto", "", 0, 0, 5, ProgressSnapshots.none());
  }

  /** {@code auto}, {@code cpu}, {@code gpu} or {@code gpu:N}. */
  public GenerateImages onDevice(String newDevice) {
    return new GenerateImages(
        modelLocation,
        newDevice,
        precision,
        maxBatchSize,
        torchThreads,
        progressSeconds,
        snapshots);
  }

  /**
   * Inference precision, {@code fp32} or {@code bf16} ({@link Precision}); empty (the default) uses
   * the one the model package recommends, fp32 when it names none.
   *
   * @throws IllegalArgumentException for any other value
   */
  public GenerateImages withPrecision(String newPrecision) {
    String value = newPrecision == null ? "" : newPrecision.trim();
    if (!value.isEmpty()) {
      Precision.parse(value);
    }
    return new GenerateImages(
        modelLocation, device, value, maxBatchSize, torchThreads, progressSeconds, snapshots);
  }

  /** The batch capacity, recorded in the stats to compute batch fill. */
  public GenerateImages withMaxBatchSize(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + size);
    }
    return new GenerateImages(
        modelLocation, device, precision, size, torchThreads, progressSeconds, snapshots);
  }

  /** PyTorch intra-op threads per call (see {@link TorchThreads}); 0 leaves DJL's default. */
  public GenerateImages withTorchThreads(int threads) {
    return new GenerateImages(
        modelLocation, device, precision, maxBatchSize, threads, progressSeconds, snapshots);
  }

  /** Seconds between progress lines in the log; 0 turns them off. */
  public GenerateImages withProgressEvery(long seconds) {
    return new GenerateImages(
        modelLocation, device, precision, maxBatchSize, torchThreads, seconds, snapshots);
  }

  /** Publishes the done counts for the launcher's cluster-wide progress. */
  public GenerateImages withProgressSnapshots(ProgressSnapshots where) {
    if (where == null) {
      throw new IllegalArgumentException("where must not be null (ProgressSnapshots.none())");
    }
    return new GenerateImages(
        modelLocation, device, precision, maxBatchSize, torchThreads, progressSeconds, where);
  }

  @Override
  public PCollectionTuple expand(PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> batches) {
    return batches.apply(
        "Sample",
        ParDo.of(
                new GenerateBatchFn(
                    modelLocation,
                    device,
                    precision,
                    maxBatchSize,
                    torchThreads,
                    progressSeconds,
                    snapshots))
            .withOutputTags(IMAGES, TupleTagList.of(STATS)));
  }

  static final class GenerateBatchFn
      extends DoFn<KV<ShardedKey<String>, Iterable<ImageTask>>, RenderedImage> {
    private static final long serialVersionUID = 1L;

    private final String modelLocation;
    private final String device;
    private final String precision;
    private final int maxBatchSize;
    private final int torchThreads;
    private final long progressSeconds;
    private final ProgressSnapshots snapshots;
    private transient ImageRenderer renderer;

    GenerateBatchFn(
        String modelLocation,
        String device,
        String precision,
        int maxBatchSize,
        int torchThreads,
        long progressSeconds,
        ProgressSnapshots snapshots) {
      this.modelLocation = modelLocation;
      this.device = device;
      this.precision = precision;
      this.maxBatchSize = maxBatchSize;
      this.torchThreads = torchThreads;
      this.progressSeconds = progressSeconds;
      this.snapshots = snapshots;
    }

    @Setup
    public void setup() {
      TorchThreads.configure(torchThreads);
      Progress.global().startReporting(progressSeconds);
      snapshots.start();
      renderer = ImageRenderer.load(modelLocation, device, precision, maxBatchSize);
    }

    @ProcessElement
    public void process(
        @Element KV<ShardedKey<String>, Iterable<ImageTask>> batch, MultiOutputReceiver out) {
      List<ImageTask> tasks = new ArrayList<>();
      batch.getValue().forEach(tasks::add);
      tasks.sort(ImageRenderer.TASK_ORDER);
      renderer.render(tasks, out.get(STATS)::output, out.get(IMAGES)::output);
      Progress.global().done(tasks.get(0).getRequest().getTierLabel(), tasks.size());
    }

    @FinishBundle
    public void finishBundle() {
      snapshots.flush();
    }
  }
}
