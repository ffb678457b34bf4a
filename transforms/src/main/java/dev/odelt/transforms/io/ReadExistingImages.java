package dev.odelt.transforms.io;

import com.google.protobuf.ByteString;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.storage.ObjectStore;
import java.io.IOException;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * For tasks that {@code --resume} skipped: reads the image already under the output root so its
 * record (hash, size) can be written again. Cost shares are 0 and {@code resumed} is true. A
 * missing or unreadable image fails the bundle (it existed a moment ago; that is a storage fault).
 */
public final class ReadExistingImages
    extends PTransform<PCollection<ImageTask>, PCollection<RenderedImage>> {

  private static final long serialVersionUID = 1L;

  private final String outputRoot;

  private ReadExistingImages(String outputRoot) {
    this.outputRoot = outputRoot;
  }

  public static ReadExistingImages from(String outputRoot) {
    return new ReadExistingImages(outputRoot);
  }

  @Override
  public PCollection<RenderedImage> expand(PCollection<ImageTask> tasks) {
    return tasks.apply("ReadImage", ParDo.of(new ReadFn(outputRoot)));
  }

  static final class ReadFn extends DoFn<ImageTask, RenderedImage> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private transient ObjectStore store;

    ReadFn(String outputRoot) {
      this.outputRoot = outputRoot;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(@Element ImageTask task, OutputReceiver<RenderedImage> out)
        throws IOException {
      byte[] png = store.readAllBytes(OutputLayout.location(outputRoot, task.getImagePath()));
      int[] size = PngImages.size(png);
      out.output(
          RenderedImage.newBuilder()
              .setTask(task)
              .setPng(ByteString.copyFrom(png))
              .setWidth(size[0])
              .setHeight(size[1])
              .setChannels(PngImages.channels(png))
              .setResumed(true)
              .build());
    }
  }
}
