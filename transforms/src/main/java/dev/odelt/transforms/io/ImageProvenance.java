package dev.odelt.transforms.io;

import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.RunSummary;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What made an output's images: the model package (name, version and the sha256 of its {@code
 * manifest.json} bytes, which pins the weights' sha256), the latent decoder's sha256, the
 * precision, the device kind and the job's version. The same values go into {@code run.json}, every
 * image record and every image's metadata ({@link #metadata}); {@code --resume} compares them
 * ({@link #conflicts}).
 *
 * <p>Images are a pure function of (class, seed, tier, model, precision): only the model digest,
 * the decoder digest and the precision decide whether two runs' images belong in one dataset. The
 * device kind and job version are recorded for the reader, not compared.
 *
 * @param modelDigest lowercase hex sha256 of the model package's {@code manifest.json} bytes
 * @param decoderDigest the decoder's sha256 as the manifest pins it (latent models); else empty
 * @param precision {@code fp32}, {@code bf16}
 * @param deviceKind {@code cpu}, {@code gpu}
 * @param jobVersion the job's version (its {@code version.properties}, e.g. {@code 0.1.0})
 */
public record ImageProvenance(
    String modelName,
    String modelVersion,
    String modelDigest,
    String decoderDigest,
    String precision,
    String deviceKind,
    String jobVersion)
    implements Serializable {

  /** Metadata key of the model digest on every written image. */
  public static final String MODEL_DIGEST = "model_digest";

  /** Metadata key of the decoder digest (latent models). */
  public static final String DECODER_DIGEST = "decoder_digest";

  /** Metadata key of the precision. */
  public static final String PRECISION = "precision";

  static final String MODEL_NAME = "model_name";
  static final String MODEL_VERSION = "model_version";
  static final String DEVICE_KIND = "device_kind";
  static final String JOB_VERSION = "job_version";

  public ImageProvenance {
    modelName = nonNull(modelName);
    modelVersion = nonNull(modelVersion);
    modelDigest = nonNull(modelDigest);
    decoderDigest = nonNull(decoderDigest);
    precision = nonNull(precision);
    deviceKind = nonNull(deviceKind);
    jobVersion = nonNull(jobVersion);
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }

  /** The provenance recorded in a {@code run.json}; empty digest for one written before it was. */
  public static ImageProvenance of(RunSummary run) {
    String precision = run.getPrecision();
    if (precision.isEmpty()) {
      // run.json of a job from before provenance: the precision was only an option.
      precision = run.getOptionsOrDefault("precision", "");
    }
    return new ImageProvenance(
        run.getModelName(),
        run.getModelVersion(),
        run.getModelDigest(),
        run.getDecoderDigest(),
        precision,
        run.getDeviceKind(),
        run.getJobVersion());
  }

  /** The provenance in an image's metadata; empty when it records none (older or no metadata). */
  public static Optional<ImageProvenance> fromMetadata(Map<String, String> metadata) {
    String digest = metadata.get(MODEL_DIGEST);
    if (digest == null || digest.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new ImageProvenance(
            metadata.get(MODEL_NAME),
            metadata.get(MODEL_VERSION),
            digest,
            metadata.get(DECODER_DIGEST),
            metadata.get(PRECISION),
            metadata.get(DEVICE_KIND),
            metadata.get(JOB_VERSION)));
  }

  /** The metadata entries written with each image (no empty values). */
  public Map<String, String> metadata() {
    Map<String, String> m = new TreeMap<>();
    putIfSet(m, MODEL_NAME, modelName);
    putIfSet(m, MODEL_VERSION, modelVersion);
    putIfSet(m, MODEL_DIGEST, modelDigest);
    putIfSet(m, DECODER_DIGEST, decoderDigest);
    putIfSet(m, PRECISION, precision);
    putIfSet(m, DEVICE_KIND, deviceKind);
    putIfSet(m, JOB_VERSION, jobVersion);
    return m;
  }

  private static void putIfSet(Map<String, String> m, String key, String value) {
    if (!value.isEmpty()) {
      m.put(key, value);
    }
  }

  /** Sets the provenance fields of a record. */
  public ImageRecord.Builder addTo(ImageRecord.Builder record) {
    return record
        .setModelDigest(modelDigest)
        .setDecoderDigest(decoderDigest)
        .setPrecision(precision)
        .setDeviceKind(deviceKind)
        .setJobVersion(jobVersion);
  }

  /** Sets the provenance fields of a run summary. */
  public RunSummary.Builder addTo(RunSummary.Builder run) {
    return run.setModelDigest(modelDigest)
        .setDecoderDigest(decoderDigest)
        .setPrecision(precision)
        .setDeviceKind(deviceKind)
        .setJobVersion(jobVersion);
  }

  /**
   * What differs between this run's provenance and the one an output was {@code made} with, in
   * words ({@code model digest 1a2b… here, 3c4d… in the output}); empty when the images of both
   * belong in one dataset. When {@code made} records no digest (a {@code run.json} from before
   * provenance), name, version and precision are compared instead.
   */
  public List<String> conflicts(ImageProvenance made) {
    List<String> out = new ArrayList<>();
    if (!made.modelDigest.isEmpty()) {
      differ(out, "model digest", modelDigest, made.modelDigest);
      differ(out, "decoder digest", decoderDigest, made.decoderDigest);
    } else {
      differ(out, "model name", modelName, made.modelName);
      differ(out, "model version", modelVersion, made.modelVersion);
    }
    if (!made.precision.isEmpty()) {
      differ(out, "precision", precision, made.precision);
    }
    return out;
  }

  private static void differ(List<String> out, String what, String here, String there) {
    if (!here.equals(there)) {
      out.add(what + " " + orNone(here) + " (this run) vs " + orNone(there) + " (the output)");
    }
  }

  private static String orNone(String s) {
    return s.isEmpty() ? "none" : s;
  }

  /** {@code odelt-mnist 1.0.0 (model sha256 1a2b3c4d5e6f, fp32)}, for messages. */
  public String describe() {
    String digest = modelDigest.length() > 12 ? modelDigest.substring(0, 12) : modelDigest;
    StringBuilder s = new StringBuilder(modelName + " " + modelVersion + " (");
    if (!digest.isEmpty()) {
      s.append("manifest sha256 ").append(digest).append(", ");
    }
    if (!decoderDigest.isEmpty()) {
      s.append("decoder sha256 ")
          .append(decoderDigest, 0, Math.min(12, decoderDigest.length()))
          .append(", ");
    }
    return s.append(precision.isEmpty() ? "precision unknown" : precision).append(')').toString();
  }
}
