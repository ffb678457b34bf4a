package dev.odelt.transforms.inference;

import com.google.protobuf.ByteString;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.Tier;
import dev.odelt.model.cost.WarmUp;
import dev.odelt.model.sample.BatchSplitter;
import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.SampleBatch;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.model.sample.Sampler;
import dev.odelt.proto.v1.BatchStats;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.proto.v1.TierSpec;
import dev.odelt.transforms.accounting.Progress;
import dev.odelt.transforms.accounting.ProgressSnapshots;
import dev.odelt.transforms.io.PngImages;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;
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
    private final Counter images = Metrics.counter(GenerateImages.class, "images_generated");
    private final Counter blockEvaluations =
        Metrics.counter(GenerateImages.class, "block_evaluations");
    private final Distribution batchSizes =
        Metrics.distribution(GenerateImages.class, "batch_size");
    private final Distribution batchMillis =
        Metrics.distribution(GenerateImages.class, "batch_millis");
    private transient Sampler sampler;
    private transient WarmUp warmUp;
    private transient String deviceName;
    private transient int nullClass;

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
      LoadedModel model =
          Models.shared(
              modelLocation, device, precision.isEmpty() ? null : Precision.parse(precision));
      sampler = model.sampler();
      warmUp = maxBatchSize > 0 ? WarmUp.shared(model, maxBatchSize) : null;
      deviceName = model.device().toString();
      nullClass = model.config().nullClass();
    }

    @ProcessElement
    public void process(
        @Element KV<ShardedKey<String>, Iterable<ImageTask>> batch, MultiOutputReceiver out) {
      List<ImageTask> tasks = new ArrayList<>();
      batch.getValue().forEach(tasks::add);
      tasks.sort(
          Comparator.comparing((ImageTask t) -> t.getRequest().getRequestId())
              .thenComparingLong(ImageTask::getIndex));
      ImageTask first = tasks.get(0);
      String label = first.getRequest().getTierLabel();
      for (ImageTask t : tasks) {
        if (!t.getRequest().getTierLabel().equals(label)) {
          throw new IllegalStateException(
              "A batch mixes tiers " + label + " and " + t.getRequest().getTierLabel());
        }
      }
      Tier tier = Tier.fromProto(first.getRequest().getTier());
      List<SampleItem> items = new ArrayList<>(tasks.size());
      for (ImageTask t : tasks) {
        // No class: a request to an unconditional model, sampled with the null label.
        int classId = t.getRequest().hasClassId() ? t.getRequest().getClassId() : nullClass;
        items.add(new SampleItem(classId, t.getSeed()));
      }
      if (warmUp != null) {
        warmUp
            .onThisThread()
            .ifPresent(
                stats ->
                    out.get(STATS)
                        .output(
                            batchStats(
                                    warmUp.tier().label(),
                                    warmUp.tier().toProto(),
                                    warmUp.batchSize(),
                                    maxBatchSize,
                                    stats)
                                .setWarmUp(true)
                                .build()));
      }
      List<BatchSplitter.Part<SampleItem, SampleBatch>> parts =
          BatchSplitter.run(items, sub -> sampler.sample(sub, tier));
      for (BatchSplitter.Part<SampleItem, SampleBatch> part : parts) {
        SampleStats stats = part.result().stats();
        int n = part.items().size();
        out.get(STATS)
            .output(
                batchStats(label, first.getRequest().getTier(), n, Math.max(maxBatchSize, n), stats)
                    .build());
        double seconds = stats.deviceNanos() / 1e9 / n;
        for (int i = 0; i < n; i++) {
          GeneratedImage image = part.result().images().get(i);
          out.get(IMAGES)
              .output(
                  RenderedImage.newBuilder()
                      .setTask(tasks.get(part.offset() + i))
                      .setPng(
                          ByteString.copyFrom(
                              PngImages.encode(
                                  image.width(), image.height(), image.channels(), image.pixels())))
                      .setWidth(image.width())
                      .setHeight(image.height())
                      .setChannels(image.channels())
                      .setDeviceSeconds(seconds)
                      .setDecodeSeconds(stats.decodeNanos() / 1e9 / n)
                      .setBlockEvaluations((double) stats.blockEvaluations() / n)
                      .setVelocityEvaluations((double) stats.velocityEvaluations() / n)
                      .setDevice(deviceName)
                      .build());
        }
        images.inc(n);
        blockEvaluations.inc(stats.blockEvaluations());
        batchSizes.update(n);
        batchMillis.update(stats.wallNanos() / 1_000_000);
      }
      Progress.global().done(label, tasks.size());
    }

    /** The record of one sampler call of {@code batchSize} images at {@code tier}. */
    private static BatchStats.Builder batchStats(
        String label, TierSpec tier, int batchSize, int maxBatchSize, SampleStats stats) {
      return BatchStats.newBuilder()
          .setTierLabel(label)
          .setTier(tier)
          .setBatchSize(batchSize)
          .setMaxBatchSize(maxBatchSize)
          .setVelocityEvaluations(stats.velocityEvaluations())
          .setBlockEvaluations(stats.blockEvaluations())
          .setDeviceNanos(stats.deviceNanos())
          .setWallNanos(stats.wallNanos())
          .setDecodeNanos(stats.decodeNanos())
          .setDevice(stats.device());
    }

    @FinishBundle
    public void finishBundle() {
      snapshots.flush();
    }
  }
}
