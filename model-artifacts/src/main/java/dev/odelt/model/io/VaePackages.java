package dev.odelt.model.io;

import ai.djl.ndarray.types.Shape;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.vae.ImageDecoder;
import dev.odelt.model.vae.VaeConfig;
import dev.odelt.model.vae.VaeDecoder;
import dev.odelt.proto.v1.VaeManifest;
import dev.odelt.storage.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes VAE decoder packages: {@code manifest.json} (a proto3-JSON {@link VaeManifest})
 * beside {@code weights.safetensors} (float32, diffusers names, see {@link VaeDecoder}), on any
 * location {@link dev.odelt.storage.ObjectStores#forLocation} serves.
 *
 * <p>{@link #read} verifies, as {@link ModelPackages#read} does for networks: the manifest exists
 * and parses with a valid architecture; the weights file exists with the manifest's size and
 * sha256; its safetensors structure is sound; every tensor the decoder needs is present with its
 * exact shape and no other is. Each failure is an {@link InvalidModelPackageException} naming the
 * file and the problem.
 */
public final class VaePackages {

  private VaePackages() {}

  /**
   * Reads and verifies a VAE package.
   *
   * @param location the manifest ({@code …/manifest.json}) or the package directory
   * @throws InvalidModelPackageException when the package is missing or invalid
   * @throws IOException when the store fails
   */
  public static VaePackage read(String location) throws IOException {
    String manifestAt = ModelPackages.manifestLocation(location);
    VaeManifest manifest = readManifest(manifestAt);
    VaeConfig config;
    try {
      config = VaeConfig.fromProto(manifest.getArchitecture());
    } catch (IllegalArgumentException e) {
      throw new InvalidModelPackageException(Problem.MALFORMED, manifestAt, e.getMessage(), e);
    }
    InputLimits.checkVae(manifestAt, config);
    SafeTensors file = ModelPackages.readWeights(manifestAt, manifest.getWeights());
    ModelPackages.verifyTensors(
        file.tensors(),
        ImageDecoder.parameterShapes(config),
        ModelPackages.sibling(manifestAt, manifest.getWeights().getFile()));
    InputLimits.checkFinite(
        ModelPackages.sibling(manifestAt, manifest.getWeights().getFile()), file.tensors());
    return new VaePackage(manifestAt, manifest, config, file.tensors());
  }

  /** Reads and parses a VAE manifest without touching the weights. */
  public static VaeManifest readManifest(String location) throws IOException {
    String manifestAt = ModelPackages.manifestLocation(location);
    byte[] json = ModelPackages.readOrMissing(manifestAt, "VAE manifest");
    StrictJson.parse(json, manifestAt);
    VaeManifest.Builder builder = VaeManifest.newBuilder();
    try {
      JsonFormat.parser().merge(new String(json, StandardCharsets.UTF_8), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, manifestAt, "not a valid VaeManifest: " + e.getMessage(), e);
    }
    return builder.build();
  }

  /**
   * Writes a package: the tensors (checked against {@code config}'s decoder first, in the decoder's
   * parameter order) as {@code weights.safetensors}, then {@code manifest.json} with {@code
   * architecture} and {@code weights} filled in. Each file is written atomically and the manifest
   * last, so a reader never sees a manifest without its weights.
   *
   * @param dir the package directory (any writable store location)
   * @param manifest name, version, provenance, sources; architecture and weights are set here
   * @return the manifest as written
   * @throws InvalidModelPackageException when a tensor is missing, extra or misshapen (nothing is
   *     written then)
   */
  public static VaeManifest write(
      String dir, VaeManifest manifest, VaeConfig config, Map<String, Tensor> tensors)
      throws IOException {
    String manifestAt = ObjectStore.resolve(dir, ModelPackages.MANIFEST);
    Map<String, Shape> shapes = ImageDecoder.parameterShapes(config);
    ModelPackages.verifyTensors(tensors, shapes, "tensors for " + manifestAt);
    Map<String, Tensor> ordered = new LinkedHashMap<>();
    for (String name : shapes.keySet()) {
      ordered.put(name, tensors.get(name));
    }
    VaeManifest complete =
        manifest.toBuilder()
            .setArchitecture(config.toProto())
            .setWeights(
                ModelPackages.writeWeights(manifestAt, manifest.getWeights().getFile(), ordered))
            .build();
    ModelPackages.writeManifest(manifestAt, JsonFormat.printer().print(complete));
    return complete;
  }
}
