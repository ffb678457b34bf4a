package dev.odelt.transforms.io;

import com.google.protobuf.ByteString;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.storage.ObjectStore;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For tasks that {@code --resume} skipped: reads the image already under the output root and
 * verifies it before keeping it ({@link WrittenFiles#pngProblem}: it decodes whole, has the size
 * and the sha256 recorded in its metadata when it was written). A good image goes to {@link
 * #IMAGES} (resumed, cost shares 0) so its record can be written again; a damaged or vanished one
 * goes to {@link #DAMAGED} as its task marked {@code repair}, to be generated again (the same bytes
 * as the original, since an image is a pure function of its task and the model) and counted as
 * repaired. The first few damaged paths of each worker are logged with the reason. Storage faults
 * other than a missing object throw so the runner retries.
 */
public final class ReadExistingImages extends PTransform<PCollection<ImageTask>, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  /** Verified images, resumed. */
  public static final TupleTag<RenderedImage> IMAGES = new TupleTag<RenderedImage>() {};

  /** Tasks of damaged images, with {@code repair} set: to generate again. */
  public static final TupleTag<ImageTask> DAMAGED = new TupleTag<ImageTask>() {};

  /** Damaged paths logged per JVM (the run's console shows the first few of all). */
  static final int LOGGED_PER_WORKER = 5;

  private static final Logger LOG = LoggerFactory.getLogger(ReadExistingImages.class);
  private static final AtomicInteger LOGGED = new AtomicInteger();

  private final String outputRoot;

  private ReadExistingImages(String outputRoot) {
    this.outputRoot = outputRoot;
  }

  public static ReadExistingImages from(String outputRoot) {
    return new ReadExistingImages(outputRoot);
  }

  @Override
  public PCollectionTuple expand(PCollection<ImageTask> tasks) {
    return tasks.apply(
        "VerifyImage",
        ParDo.of(new ReadFn(outputRoot)).withOutputTags(IMAGES, TupleTagList.of(DAMAGED)));
  }

  static final class ReadFn extends DoFn<ImageTask, RenderedImage> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final Counter damaged = Metrics.counter(ReadExistingImages.class, "images_damaged");
    private transient ObjectStore store;

    ReadFn(String outputRoot) {
      this.outputRoot = outputRoot;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(@Element ImageTask task, MultiOutputReceiver out) throws IOException {
      String location = OutputLayout.location(outputRoot, task.getImagePath());
      Optional<ObjectStore.Stat> stat = store.stat(location);
      Map<String, String> metadata = stat.map(ObjectStore.Stat::metadata).orElse(Map.of());
      byte[] png;
      try {
        png = store.readAllBytes(location);
      } catch (FileNotFoundException | NoSuchFileException gone) {
        repair(task, "vanished after the resume check", out);
        return;
      }
      Optional<String> problem = WrittenFiles.pngProblem(png, metadata, 0, 0);
      if (problem.isPresent()) {
        repair(task, problem.get(), out);
        return;
      }
      int[] size = PngImages.size(png);
      out.get(IMAGES)
          .output(
              RenderedImage.newBuilder()
                  .setTask(task)
                  .setPng(ByteString.copyFrom(png))
                  .setWidth(size[0])
                  .setHeight(size[1])
                  .setChannels(PngImages.channels(png))
                  .setResumed(true)
                  .build());
    }

    private void repair(ImageTask task, String problem, MultiOutputReceiver out) {
      damaged.inc();
      if (LOGGED.getAndIncrement() < LOGGED_PER_WORKER) {
        LOG.warn(
            "Damaged image {} {}: generating it again",
            OutputLayout.location(outputRoot, task.getImagePath()),
            problem);
      }
      out.get(DAMAGED).output(task.toBuilder().setRepair(true).build());
    }
  }
}
