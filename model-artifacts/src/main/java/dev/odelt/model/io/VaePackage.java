package dev.odelt.model.io;

import dev.odelt.model.vae.VaeConfig;
import dev.odelt.proto.v1.VaeManifest;
import java.util.Map;

/**
 * A verified VAE decoder package held in memory: its manifest, where it was read from, and the
 * decoder's weights (every tensor present with the shape the architecture needs, nothing extra).
 *
 * @param location the manifest's location
 * @param manifest the parsed manifest
 * @param config the decoder architecture of the manifest, validated
 * @param tensors the weights by diffusers parameter name, in file order
 */
public record VaePackage(
    String location, VaeManifest manifest, VaeConfig config, Map<String, Tensor> tensors) {

  public VaePackage {
    tensors = Map.copyOf(tensors);
  }
}
