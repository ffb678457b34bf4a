package dev.odelt.transforms.io;

import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.storage.ObjectStore;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;

/**
 * Writes each generated PNG to {@code <output>/<image_path>} (atomically: temporary name, then
 * move, so a retry rewrites identical bytes under the same name) and emits its {@link ImageRecord}.
 * Resumed and recovered images are not written again; their record is still emitted. Storage
 * failures throw so the runner retries.
 *
 * <p>Each image is written with user metadata (where the store keeps it: GCS object metadata, a
 * local file's extended attribute): request, index, seed, tier, the run it belongs to ({@value
 * #RUN_STARTED}, the run's start time, with {@link #forRun}) and its cost shares ({@value
 * #DEVICE_SECONDS}, decode seconds, evaluations, device), with {@link #withProvenance} what made it
 * ({@link ImageProvenance}: model digest, decoder digest, precision …), and the sha256 and size of
 * its bytes ({@link #SHA256}), which {@code --resume} checks before keeping it. The PNG bytes stay
 * a pure function of the request; the metadata lets a region restarted after a failover recognise
 * the images an earlier attempt of the same run wrote and account their device time ({@link
 * SkipWrittenImages}).
 */
public final class WriteImages
    extends PTransform<PCollection<RenderedImage>, PCollection<ImageRecord>> {

  private static final long serialVersionUID = 1L;

  /** Metadata key: the start time of the run that wrote the image ({@code run.json} started). */
  public static final String RUN_STARTED = "run_started";

  /** Metadata key: the image's share of its sampler call's device seconds. */
  public static final String DEVICE_SECONDS = "device_seconds";

  static final String DECODE_SECONDS = "decode_seconds";
  static final String BLOCK_EVALUATIONS = "block_evaluations";
  static final String VELOCITY_EVALUATIONS = "velocity_evaluations";
  static final String DEVICE = "device";

  /** Metadata key: the sha256 of the PNG bytes as written ({@link WrittenFiles#SHA256}). */
  public static final String SHA256 = WrittenFiles.SHA256;

  private final String outputRoot;
  private final String runStarted;
  private final ImageProvenance provenance;

  private WriteImages(String outputRoot, String runStarted, ImageProvenance provenance) {
    this.outputRoot = outputRoot;
    this.runStarted = runStarted;
    this.provenance = provenance;
  }

  public static WriteImages to(String outputRoot) {
    if (outputRoot == null || outputRoot.isEmpty()) {
      throw new IllegalArgumentException("outputRoot must not be empty");
    }
    return new WriteImages(outputRoot, "", null);
  }

  /** Records the run ({@code run.json} started) with every image written. */
  public WriteImages forRun(String started) {
    if (started == null || started.isEmpty()) {
      throw new IllegalArgumentException("started must not be empty");
    }
    return new WriteImages(outputRoot, started, provenance);
  }

  /**
   * Records what made the images in every record and in each written image's metadata (resumed
   * images keep the metadata they were written with; {@code --resume} checked it matches).
   */
  public WriteImages withProvenance(ImageProvenance made) {
    if (made == null) {
      throw new IllegalArgumentException("made must not be null");
    }
    return new WriteImages(outputRoot, runStarted, made);
  }

  @Override
  public PCollection<ImageRecord> expand(PCollection<RenderedImage> images) {
    return images.apply("WritePng", ParDo.of(new WritePngFn(outputRoot, runStarted, provenance)));
  }

  /** The metadata written with a generated image (see the class comment). */
  static Map<String, String> metadataOf(RenderedImage image, String runStarted) {
    return metadataOf(image, runStarted, null, null);
  }

  /**
   * The metadata written with a generated image: its task and costs, the run, the provenance (when
   * known) and the sha256 and size of its PNG bytes, which a later {@code --resume} checks ({@link
   * WrittenFiles#pngProblem}).
   */
  static Map<String, String> metadataOf(
      RenderedImage image, String runStarted, ImageProvenance provenance, String sha256) {
    ImageTask task = image.getTask();
    Map<String, String> m = new TreeMap<>();
    if (provenance != null) {
      m.putAll(provenance.metadata());
    }
    if (sha256 != null) {
      m.put(SHA256, sha256);
      m.put(WrittenFiles.WIDTH, Integer.toString(image.getWidth()));
      m.put(WrittenFiles.HEIGHT, Integer.toString(image.getHeight()));
    }
    m.put("request_id", task.getRequest().getRequestId());
    m.put("index", Long.toString(task.getIndex()));
    m.put("seed", Long.toString(task.getSeed()));
    m.put("tier", task.getRequest().getTierLabel());
    if (!runStarted.isEmpty()) {
      m.put(RUN_STARTED, runStarted);
    }
    m.put(DEVICE_SECONDS, Double.toString(image.getDeviceSeconds()));
    m.put(DECODE_SECONDS, Double.toString(image.getDecodeSeconds()));
    m.put(BLOCK_EVALUATIONS, Double.toString(image.getBlockEvaluations()));
    m.put(VELOCITY_EVALUATIONS, Double.toString(image.getVelocityEvaluations()));
    m.put(DEVICE, image.getDevice());
    return m;
  }

  /**
   * Sets the cost shares recorded in an image's metadata ({@link #metadataOf}) on {@code image};
   * false when they are missing or not finite numbers >= 0 (the image then keeps zero costs).
   */
  static boolean costsFrom(Map<String, String> metadata, RenderedImage.Builder image) {
    double[] values = new double[4];
    String[] keys = {DEVICE_SECONDS, DECODE_SECONDS, BLOCK_EVALUATIONS, VELOCITY_EVALUATIONS};
    for (int i = 0; i < keys.length; i++) {
      String text = metadata.get(keys[i]);
      try {
        values[i] = text == null ? Double.NaN : Double.parseDouble(text);
      } catch (NumberFormatException e) {
        values[i] = Double.NaN;
      }
      if (!(values[i] >= 0) || Double.isInfinite(values[i])) {
        return false;
      }
    }
    image
        .setDeviceSeconds(values[0])
        .setDecodeSeconds(values[1])
        .setBlockEvaluations(values[2])
        .setVelocityEvaluations(values[3])
        .setDevice(metadata.getOrDefault(DEVICE, ""));
    return true;
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
        .setRecovered(image.getRecovered())
        .setRepaired(task.getRepair())
        .putAllTags(r.getTagsMap())
        .build();
  }

  static final class WritePngFn extends DoFn<RenderedImage, ImageRecord> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final String runStarted;
    private final ImageProvenance provenance;
    private transient ObjectStore store;

    WritePngFn(String outputRoot, String runStarted, ImageProvenance provenance) {
      this.outputRoot = outputRoot;
      this.runStarted = runStarted;
      this.provenance = provenance;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(@Element RenderedImage image, OutputReceiver<ImageRecord> out)
        throws IOException {
      byte[] png = image.getPng().toByteArray();
      String sha256 = Hashes.sha256(png);
      if (!image.getResumed() && !image.getRecovered()) {
        store.write(
            OutputLayout.location(outputRoot, image.getTask().getImagePath()),
            png,
            "image/png",
            metadataOf(image, runStarted, provenance, sha256));
      }
      ImageRecord record = recordOf(image, sha256);
      if (provenance != null) {
        record = provenance.addTo(record.toBuilder()).build();
      }
      out.output(record);
    }
  }
}
