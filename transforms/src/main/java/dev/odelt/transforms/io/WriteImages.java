package dev.odelt.transforms.io;

import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.storage.ObjectStore;
import java.io.IOException;
import java.util.Map;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * Writes each generated PNG to {@code <output>/<image_path>} (atomically: temporary name, then
 * move, so a retry rewrites identical bytes under the same name) and emits its {@link ImageRecord}.
 * Resumed images are not written again; their record is still emitted. Storage failures throw so
 * the runner retries.
 */
public final class WriteImages
    extends PTransform<PCollection<RenderedImage>, PCollection<ImageRecord>> {

  private static final long serialVersionUID = 1L;

  private final String outputRoot;

  private WriteImages(String outputRoot) {
    this.outputRoot = outputRoot;
  }

  public static WriteImages to(String outputRoot) {
    if (outputRoot == null || outputRoot.isEmpty()) {
      throw new IllegalArgumentException("outputRoot must not be empty");
    }
    return new WriteImages(outputRoot);
  }

  @Override
  public PCollection<ImageRecord> expand(PCollection<RenderedImage> images) {
    return images.apply("WritePng", ParDo.of(new WritePngFn(outputRoot)));
  }

  /** The record of an image, whose bytes hash to {@code sha256}. */
  public static ImageRecord recordOf(RenderedImage image, String sha256) {
    ImageTask task = image.getTask();
    ResolvedRequest r = task.getRequest();
    ImageRecord.Builder b = ImageRecord.newBuilder();
    if (r.hasClassId()) {
      b.setClassId(r.getClassId());
    }
    return b.setRequestId(r.getRequestId())
        .setIndex(task.getIndex())
        .setClassLabel(r.getClassLabel())
        .setPrompt(r.getPrompt())
        .setSeed(task.getSeed())
        .setTierLabel(r.getTierLabel())
        .setTier(r.getTier())
        .setModelName(r.getModelName())
        .setModelVersion(r.getModelVersion())
        .setImagePath(task.getImagePath())
        .setSha256(sha256)
        .setWidth(image.getWidth())
        .setHeight(image.getHeight())
        .setChannels(image.getChannels())
        .setDeviceSeconds(image.getDeviceSeconds())
        .setDecodeSeconds(image.getDecodeSeconds())
        .setBlockEvaluations(image.getBlockEvaluations())
        .setVelocityEvaluations(image.getVelocityEvaluations())
        .setDevice(image.getDevice())
        .setResumed(image.getResumed())
        .putAllTags(r.getTagsMap())
        .build();
  }

  static final class WritePngFn extends DoFn<RenderedImage, ImageRecord> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private transient ObjectStore store;

    WritePngFn(String outputRoot) {
      this.outputRoot = outputRoot;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(@Element RenderedImage image, OutputReceiver<ImageRecord> out)
        throws IOException {
      byte[] png = image.getPng().toByteArray();
      if (!image.getResumed()) {
        ImageTask task = image.getTask();
        store.write(
            OutputLayout.location(outputRoot, task.getImagePath()),
            png,
            "image/png",
            Map.of(
                "request_id", task.getRequest().getRequestId(),
                "index", Long.toString(task.getIndex()),
                "seed", Long.toString(task.getSeed()),
                "tier", task.getRequest().getTierLabel()));
      }
      out.output(recordOf(image, Hashes.sha256(png)));
    }
  }
}
