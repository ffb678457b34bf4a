package dev.odelt.transforms.io;

import com.google.protobuf.ByteString;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.storage.ObjectStore;
import dev.odelt.transforms.accounting.Progress;
import dev.odelt.transforms.accounting.ProgressSnapshots;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.metrics.Counter;
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
 * Drops from each tier batch the images that an earlier attempt of this same run already wrote, so
 * that a Flink region restarted after a lost worker regenerates only what is missing.
 *
 * <p>An image counts as written by this run when its object exists under its final name, belongs to
 * this run and decodes as a PNG. It belongs to this run when the run recorded with it ({@link
 * WriteImages#RUN_STARTED} in its metadata) is this one; where the store keeps no metadata, when it
 * was last modified at or after the run started ({@code runStarted}). Older objects belong to an
 * earlier run and are regenerated and overwritten, as without {@code --resume}. Writes are atomic
 * ({@link ObjectStore#write}), so an object under its final name is whole; the decode check catches
 * anything else. The bytes are read back so the record carries their sha256, exactly as for {@code
 * --resume} ({@link ReadExistingImages}).
 *
 * <p>Outputs: {@link #BATCHES}, the batches with the written images removed (a batch left empty is
 * dropped); {@link #WRITTEN}, the written images as <em>recovered</em> {@link RenderedImage}s: not
 * resumed (this run generated them), with the cost shares the writing attempt recorded in the
 * image's metadata ({@link WriteImages#DEVICE_SECONDS} …), so the run's device seconds count every
 * image once even when the attempt that made it was lost. Where the store keeps no metadata their
 * costs are 0 (counted in the {@code images_recovered_without_cost} counter). Runs in the
 * generation region, after the batch shuffle, so a restart of that region goes through it. Costs
 * one metadata look-up per image (one get on object storage).
 */
public final class SkipWrittenImages
    extends PTransform<PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>>, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<KV<ShardedKey<String>, Iterable<ImageTask>>> BATCHES =
      new TupleTag<KV<ShardedKey<String>, Iterable<ImageTask>>>() {};
  public static final TupleTag<RenderedImage> WRITTEN = new TupleTag<RenderedImage>() {};

  private final String outputRoot;
  private final Instant runStarted;
  private final ProgressSnapshots snapshots;

  private SkipWrittenImages(String outputRoot, Instant runStarted, ProgressSnapshots snapshots) {
    this.outputRoot = outputRoot;
    this.runStarted = runStarted;
    this.snapshots = snapshots;
  }

  /** Skips images under {@code outputRoot} written at or after {@code runStarted}. */
  public static SkipWrittenImages since(String outputRoot, Instant runStarted) {
    if (outputRoot == null || outputRoot.isEmpty()) {
      throw new IllegalArgumentException("outputRoot must not be empty");
    }
    if (runStarted == null) {
      throw new IllegalArgumentException("runStarted must not be null");
    }
    return new SkipWrittenImages(outputRoot, runStarted, ProgressSnapshots.none());
  }

  /** Publishes the skipped images as done for the launcher's cluster-wide progress. */
  public SkipWrittenImages withProgressSnapshots(ProgressSnapshots where) {
    if (where == null) {
      throw new IllegalArgumentException("where must not be null (ProgressSnapshots.none())");
    }
    return new SkipWrittenImages(outputRoot, runStarted, where);
  }

  @Override
  public PCollectionTuple expand(PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> batches) {
    Coder<KV<ShardedKey<String>, Iterable<ImageTask>>> coder = batches.getCoder();
    PCollectionTuple out =
        batches.apply(
            "SkipWritten",
            ParDo.of(new SkipFn(outputRoot, runStarted, snapshots))
                .withOutputTags(BATCHES, TupleTagList.of(WRITTEN)));
    out.get(BATCHES).setCoder(coder);
    return out;
  }

  static final class SkipFn
      extends DoFn<
          KV<ShardedKey<String>, Iterable<ImageTask>>,
          KV<ShardedKey<String>, Iterable<ImageTask>>> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final long runStartedMillis;
    private final String runStartedText;
    private final ProgressSnapshots snapshots;
    private final Counter skipped = Metrics.counter(SkipWrittenImages.class, "images_skipped");
    private final Counter withoutCost =
        Metrics.counter(SkipWrittenImages.class, "images_recovered_without_cost");
    private transient ObjectStore store;

    SkipFn(String outputRoot, Instant runStarted, ProgressSnapshots snapshots) {
      this.outputRoot = outputRoot;
      this.runStartedMillis = runStarted.toEpochMilli();
      this.runStartedText = runStarted.toString();
      this.snapshots = snapshots;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
      snapshots.start();
    }

    @FinishBundle
    public void finishBundle() {
      snapshots.flush();
    }

    @ProcessElement
    public void process(
        @Element KV<ShardedKey<String>, Iterable<ImageTask>> batch, MultiOutputReceiver out)
        throws IOException {
      List<ImageTask> missing = new ArrayList<>();
      long written = 0;
      String tier = null;
      for (ImageTask task : batch.getValue()) {
        tier = task.getRequest().getTierLabel();
        Optional<RenderedImage> image = writtenImage(task);
        if (image.isPresent()) {
          out.get(WRITTEN).output(image.get());
          written++;
        } else {
          missing.add(task);
        }
      }
      if (written > 0) {
        skipped.inc(written);
        Progress.global().done(tier, written);
      }
      if (!missing.isEmpty()) {
        out.get(BATCHES).output(KV.of(batch.getKey(), missing));
      }
    }

    private Optional<RenderedImage> writtenImage(ImageTask task) throws IOException {
      String location = OutputLayout.location(outputRoot, task.getImagePath());
      Optional<ObjectStore.Stat> stat = store.stat(location);
      if (stat.isEmpty() || !writtenByThisRun(stat.get())) {
        return Optional.empty();
      }
      byte[] png = store.readAllBytes(location);
      int[] size;
      int channels;
      try {
        PngImages.read(png);
        size = PngImages.size(png);
        channels = PngImages.channels(png);
      } catch (IOException | RuntimeException notPng) {
        return Optional.empty();
      }
      RenderedImage.Builder image =
          RenderedImage.newBuilder()
              .setTask(task)
              .setPng(ByteString.copyFrom(png))
              .setWidth(size[0])
              .setHeight(size[1])
              .setChannels(channels)
              .setRecovered(true);
      if (!WriteImages.costsFrom(stat.get().metadata(), image)) {
        withoutCost.inc();
      }
      return Optional.of(image.build());
    }

    private boolean writtenByThisRun(ObjectStore.Stat stat) {
      String run = stat.metadata().get(WriteImages.RUN_STARTED);
      if (run != null) {
        return run.equals(runStartedText);
      }
      return stat.modified().toEpochMilli() >= runStartedMillis;
    }
  }
}
