package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.ImageChunk;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.storage.ObjectStore;
import dev.odelt.transforms.accounting.Progress;
import dev.odelt.transforms.accounting.ProgressSnapshots;
import dev.odelt.transforms.io.OutputLayout;
import dev.odelt.transforms.io.RetryingStore;
import java.io.IOException;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Expands each request into one {@link ImageTask} per image, with the per-image seed {@link
 * Seeds#forImage}(request seed, index) and the image path of {@link OutputLayout#imagePath}.
 * Requests are first cut into chunks of at most {@code chunkSize} images that are redistributed, so
 * a request for a million images spreads over all workers.
 *
 * <p>With {@link #withResume(boolean) resume}, a task whose image already exists under the output
 * root goes to {@link #RESUMED} instead of {@link #TASKS}; it is not generated again.
 */
public final class ExpandRequests
    extends PTransform<PCollection<ResolvedRequest>, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<ImageTask> TASKS = new TupleTag<ImageTask>() {};
  public static final TupleTag<ImageTask> RESUMED = new TupleTag<ImageTask>() {};

  /** Default images per chunk. */
  public static final int DEFAULT_CHUNK_SIZE = 256;

  private final String outputRoot;
  private final int chunkSize;
  private final boolean resume;
  private final ProgressSnapshots snapshots;

  private ExpandRequests(
      String outputRoot, int chunkSize, boolean resume, ProgressSnapshots snapshots) {
    this.outputRoot = outputRoot;
    this.chunkSize = chunkSize;
    this.resume = resume;
    this.snapshots = snapshots;
  }

  /** Expands for an output root (used for image paths and resume checks). */
  public static ExpandRequests into(String outputRoot) {
    if (outputRoot == null || outputRoot.isEmpty()) {
      throw new IllegalArgumentException("outputRoot must not be empty");
    }
    return new ExpandRequests(outputRoot, DEFAULT_CHUNK_SIZE, false, ProgressSnapshots.none());
  }

  public ExpandRequests withChunkSize(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("chunk size must be >= 1, got " + size);
    }
    return new ExpandRequests(outputRoot, size, resume, snapshots);
  }

  public ExpandRequests withResume(boolean enabled) {
    return new ExpandRequests(outputRoot, chunkSize, enabled, snapshots);
  }

  /** Publishes the planned counts for the launcher's cluster-wide progress. */
  public ExpandRequests withProgressSnapshots(ProgressSnapshots where) {
    if (where == null) {
      throw new IllegalArgumentException("where must not be null (ProgressSnapshots.none())");
    }
    return new ExpandRequests(outputRoot, chunkSize, resume, where);
  }

  @Override
  public PCollectionTuple expand(PCollection<ResolvedRequest> requests) {
    return requests
        .apply("SplitIntoChunks", ParDo.of(new SplitIntoChunksFn(chunkSize)))
        .apply("SpreadChunks", Reshuffle.<ImageChunk>viaRandomKey())
        .apply(
            "ExpandChunks",
            ParDo.of(new ExpandChunkFn(outputRoot, resume, snapshots))
                .withOutputTags(TASKS, TupleTagList.of(RESUMED)));
  }

  static final class SplitIntoChunksFn extends DoFn<ResolvedRequest, ImageChunk> {
    private static final long serialVersionUID = 1L;
    private final int chunkSize;

    SplitIntoChunksFn(int chunkSize) {
      this.chunkSize = chunkSize;
    }

    @ProcessElement
    public void process(@Element ResolvedRequest request, OutputReceiver<ImageChunk> out) {
      for (long first = 0; first < request.getNumImages(); first += chunkSize) {
        long count = Math.min(chunkSize, request.getNumImages() - first);
        out.output(
            ImageChunk.newBuilder()
                .setRequest(request)
                .setFirstIndex(first)
                .setCount(count)
                .build());
      }
    }
  }

  static final class ExpandChunkFn extends DoFn<ImageChunk, ImageTask> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final boolean resume;
    private final ProgressSnapshots snapshots;
    private transient ObjectStore store;

    ExpandChunkFn(String outputRoot, boolean resume, ProgressSnapshots snapshots) {
      this.outputRoot = outputRoot;
      this.resume = resume;
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
    public void process(@Element ImageChunk chunk, MultiOutputReceiver out) throws IOException {
      ResolvedRequest request = chunk.getRequest();
      long planned = 0;
      for (long i = chunk.getFirstIndex(); i < chunk.getFirstIndex() + chunk.getCount(); i++) {
        String path = OutputLayout.imagePath(request.getTierLabel(), request.getRequestId(), i);
        ImageTask task =
            ImageTask.newBuilder()
                .setRequest(request)
                .setIndex(i)
                .setSeed(Seeds.forImage(request.getSeed(), i))
                .setImagePath(path)
                .build();
        if (resume && store.exists(OutputLayout.location(outputRoot, path))) {
          out.get(RESUMED).output(task);
        } else {
          out.get(TASKS).output(task);
          planned++;
        }
      }
      Progress.global().planned(request.getTierLabel(), planned);
    }
  }
}
