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
import dev.odelt.transforms.io.PngImages;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Metrics;

/**
 * What a DoFn that makes images holds after {@code @Setup}: the shared model's sampler and warm-up,
 * and the one way tasks become PNGs with their cost shares. Used by {@link GenerateImages} (a batch
 * per element) and by the dataset writer (a shard's batches one after another), so both charge,
 * warm up and split batches alike. Not serializable: build it in {@code @Setup}.
 */
public final class ImageRenderer {

  /** Orders tasks as every sampler call and shard does: (request id, index). */
  public static final Comparator<ImageTask> TASK_ORDER =
      Comparator.comparing((ImageTask t) -> t.getRequest().getRequestId())
          .thenComparingLong(ImageTask::getIndex);

  private final Sampler sampler;
  private final WarmUp warmUp;
  private final String deviceName;
  private final int nullClass;
  private final int maxBatchSize;
  private final Counter images = Metrics.counter(GenerateImages.class, "images_generated");
  private final Counter blockEvaluations =
      Metrics.counter(GenerateImages.class, "block_evaluations");
  private final Distribution batchSizes = Metrics.distribution(GenerateImages.class, "batch_size");
  private final Distribution batchMillis =
      Metrics.distribution(GenerateImages.class, "batch_millis");

  private ImageRenderer(LoadedModel model, int maxBatchSize) {
    this.sampler = model.sampler();
    this.warmUp = maxBatchSize > 0 ? WarmUp.shared(model, maxBatchSize) : null;
    this.deviceName = model.device().toString();
    this.nullClass = model.config().nullClass();
    this.maxBatchSize = maxBatchSize;
  }

  /**
   * Loads (or finds, {@link Models#shared}) the model; {@code precision} empty means the package's
   * recommendation; {@code maxBatchSize} 0 means no warm-up and no batch capacity.
   */
  public static ImageRenderer load(
      String modelLocation, String device, String precision, int maxBatchSize) {
    LoadedModel model =
        Models.shared(
            modelLocation, device, precision.isEmpty() ? null : Precision.parse(precision));
    return new ImageRenderer(model, maxBatchSize);
  }

  /**
   * Renders tasks of one tier, already in {@link #TASK_ORDER}, as one sampler call (split and
   * retried when it runs the device out of memory). Before this thread's first call it makes its
   * warm-up call, reported to {@code stats} marked {@code warm_up}. Each image gets an equal share of
   * its call's device seconds and evaluations.
   *
   * @throws IllegalStateException when the tasks mix tiers
   */
  public void render(
      List<ImageTask> tasks, Consumer<BatchStats> stats, Consumer<RenderedImage> out) {
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
              s ->
                  stats.accept(
                      batchStats(
                              warmUp.tier().label(),
                              warmUp.tier().toProto(),
                              warmUp.batchSize(),
                              maxBatchSize,
                              s)
                          .setWarmUp(true)
                          .build()));
    }
    List<BatchSplitter.Part<SampleItem, SampleBatch>> parts =
        BatchSplitter.run(items, sub -> sampler.sample(sub, tier));
    for (BatchSplitter.Part<SampleItem, SampleBatch> part : parts) {
      SampleStats s = part.result().stats();
      int n = part.items().size();
      stats.accept(
          batchStats(label, first.getRequest().getTier(), n, Math.max(maxBatchSize, n), s)
              .build());
      double seconds = s.deviceNanos() / 1e9 / n;
      for (int i = 0; i < n; i++) {
        GeneratedImage image = part.result().images().get(i);
        out.accept(
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
                .setDecodeSeconds(s.decodeNanos() / 1e9 / n)
                .setBlockEvaluations((double) s.blockEvaluations() / n)
                .setVelocityEvaluations((double) s.velocityEvaluations() / n)
                .setDevice(deviceName)
                .build());
      }
      images.inc(n);
      blockEvaluations.inc(s.blockEvaluations());
      batchSizes.update(n);
      batchMillis.update(s.wallNanos() / 1_000_000);
    }
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
}
