package dev.odelt.model.io;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Precision;
import dev.odelt.proto.v1.ModelManifest;
import java.util.Map;

/**
 * A verified model package held in memory: its manifest, where it was read from, and its weights
 * (every tensor present with the shape the architecture needs, nothing extra).
 *
 * @param location the manifest's location
 * @param manifest the parsed manifest
 * @param config the architecture of the manifest, validated
 * @param tensors the weights by parameter name, in file order
 */
public record ModelPackage(
    String location, ModelManifest manifest, ModelConfig config, Map<String, Tensor> tensors) {

  public ModelPackage {
    tensors = Map.copyOf(tensors);
  }

  /**
   * The inference precision the manifest recommends ({@code precision}), {@link Precision#FP32}
   * when it names none. {@link ModelPackages#read} has checked the value.
   */
  public Precision recommendedPrecision() {
    return recommendedPrecision(manifest);
  }

  /**
   * The precision a manifest recommends, {@link Precision#FP32} when it names none.
   *
   * @throws IllegalArgumentException for a value other than fp32 or bf16
   */
  public static Precision recommendedPrecision(ModelManifest manifest) {
    return manifest.getPrecision().isEmpty()
        ? Precision.FP32
        : Precision.parse(manifest.getPrecision());
  }
}
