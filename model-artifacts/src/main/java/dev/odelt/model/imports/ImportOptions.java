package dev.odelt.model.imports;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * What {@link CheckpointImporter#importCheckpoint} is asked to do. Immutable; {@code null} means
 * "not given" for every optional field. Hyper-parameters given here override the preset's.
 *
 * @param checkpoint the pickle file ({@code --checkpoint})
 * @param output the package directory to create; must not exist or be empty ({@code --output})
 * @param preset one of {@link CheckpointPreset#names()} ({@code --preset}), or null
 * @param imageSize H = W of the network's input (latent side), or null for the preset's
 * @param heads attention heads, or null for the preset's
 * @param depthMin fewest blocks a call may run, or null for the preset's
 * @param groupSize G, or null for the preset's
 * @param weights which parameter slot to import; null means {@link Weights#PARAMS}
 * @param labels a class-name file in the reference's ImageNet format ({@code --labels}), or null
 * @param name the package name, or null for the preset's (else the checkpoint's file name)
 * @param version the package version, or null for {@code 1.0.0}
 * @param vae a decoder package location (its manifest or directory) the package names, or null
 */
public record ImportOptions(
    Path checkpoint,
    Path output,
    String preset,
    Integer imageSize,
    Integer heads,
    Integer depthMin,
    Integer groupSize,
    Weights weights,
    Path labels,
    String name,
    String version,
    String vae) {

  /** The parameter slots of a checkpoint. The authors evaluate with {@code params}. */
  public enum Weights {
    PARAMS("params"),
    PARAMS_EMA("params_ema");

    private final String key;

    Weights(String key) {
      this.key = key;
    }

    /** The dict key in the checkpoint. */
    public String key() {
      return key;
    }

    /** Parses {@code params} or {@code params_ema} (case-insensitive). */
    public static Weights parse(String text) {
      for (Weights w : values()) {
        if (w.key.equals(text.trim().toLowerCase(Locale.ROOT))) {
          return w;
        }
      }
      throw new IllegalArgumentException(
          "--weights must be params or params_ema, got '" + text + "'");
    }
  }

  public ImportOptions {
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(output, "output");
    weights = weights == null ? Weights.PARAMS : weights;
  }

  /** Options with only the two required paths. */
  public static ImportOptions of(Path checkpoint, Path output) {
    return new ImportOptions(
        checkpoint, output, null, null, null, null, null, null, null, null, null, null);
  }

  public ImportOptions withPreset(String newPreset) {
    return new ImportOptions(
        checkpoint,
        output,
        newPreset,
        imageSize,
        heads,
        depthMin,
        groupSize,
        weights,
        labels,
        name,
        version,
        vae);
  }

  /** Sets the hyper-parameters the tree cannot tell (each may be null). */
  public ImportOptions withArchitecture(
      Integer newImageSize, Integer newHeads, Integer newDepthMin, Integer newGroupSize) {
    return new ImportOptions(
        checkpoint,
        output,
        preset,
        newImageSize,
        newHeads,
        newDepthMin,
        newGroupSize,
        weights,
        labels,
        name,
        version,
        vae);
  }

  public ImportOptions withWeights(Weights newWeights) {
    return new ImportOptions(
        checkpoint,
        output,
        preset,
        imageSize,
        heads,
        depthMin,
        groupSize,
        newWeights,
        labels,
        name,
        version,
        vae);
  }

  public ImportOptions withLabels(Path newLabels) {
    return new ImportOptions(
        checkpoint,
        output,
        preset,
        imageSize,
        heads,
        depthMin,
        groupSize,
        weights,
        newLabels,
        name,
        version,
        vae);
  }

  public ImportOptions withNameAndVersion(String newName, String newVersion) {
    return new ImportOptions(
        checkpoint,
        output,
        preset,
        imageSize,
        heads,
        depthMin,
        groupSize,
        weights,
        labels,
        newName,
        newVersion,
        vae);
  }

  public ImportOptions withVae(String newVae) {
    return new ImportOptions(
        checkpoint,
        output,
        preset,
        imageSize,
        heads,
        depthMin,
        groupSize,
        weights,
        labels,
        name,
        version,
        newVae);
  }
}
