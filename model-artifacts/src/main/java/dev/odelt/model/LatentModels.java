package dev.odelt.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import dev.odelt.model.io.InputLimits;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.io.ModelPackage;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.VaePackage;
import dev.odelt.model.io.VaePackages;
import dev.odelt.model.sample.LatentDecoder;
import dev.odelt.model.vae.LoadedVae;
import dev.odelt.model.vae.Vaes;
import dev.odelt.proto.v1.DecoderRef;
import java.io.IOException;

/**
 * Finds, verifies and loads the decoder a latent model names ({@code normalization.space =
 * "latent"}, {@code decoder} in its manifest): the location is resolved against the model's
 * manifest when relative (a decoder bundled in the package) and taken as is when absolute; the
 * sha256 of the decoder package's manifest file must match {@link DecoderRef#getSha256()}, so an
 * image depends on (class, seed, tier, model, decoder) and nothing else.
 */
final class LatentModels {

  /** Normalization space of models that need a decoder. */
  static final String LATENT = "latent";

  private LatentModels() {}

  /** Whether the package is a latent model. */
  static boolean isLatent(ModelPackage pkg) {
    return LATENT.equals(pkg.manifest().getNormalization().getSpace());
  }

  /**
   * Loads the decoder of a latent model onto {@code device} in {@code precision} (the network's):
   * the JVM-wide copy when {@code shared}, else a private one its caller closes.
   *
   * @throws InvalidModelPackageException when the manifest names no decoder, the decoder's manifest
   *     does not match its sha256, or its latent channels are not the network's
   */
  static LoadedVae load(ModelPackage pkg, Device device, boolean shared, Precision precision)
      throws IOException {
    String manifestAt = ModelPackages.manifestLocation(pkg.location());
    String location = checkedLocation(pkg);
    LoadedVae vae =
        shared ? Vaes.shared(location, device, precision) : Vaes.load(location, device, precision);
    if (vae.config().latentChannels() != pkg.config().channels()) {
      if (!shared) {
        vae.close();
      }
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          manifestAt,
          "decoder "
              + location
              + " expects "
              + vae.config().latentChannels()
              + " latent channels; the network makes "
              + pkg.config().channels());
    }
    return vae;
  }

  /** The decoder's location, once its manifest matches the sha256 the model's manifest names. */
  private static String checkedLocation(ModelPackage pkg) throws IOException {
    String manifestAt = ModelPackages.manifestLocation(pkg.location());
    DecoderRef ref = pkg.manifest().getDecoder();
    if (ref.getLocation().isEmpty()) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          manifestAt,
          "a latent model (normalization.space \"latent\") must name its decoder"
              + " (decoder.location, decoder.sha256); import one with import-vae");
    }
    String location = resolve(manifestAt, ref.getLocation());
    String decoderManifest = ModelPackages.manifestLocation(location);
    String actual =
        ModelPackages.sha256(ModelPackages.readOrMissing(decoderManifest, "decoder manifest"));
    if (!actual.equals(ref.getSha256())) {
      throw new InvalidModelPackageException(
          Problem.CHECKSUM_MISMATCH,
          manifestAt,
          "decoder manifest "
              + decoderManifest
              + " has sha256 "
              + actual
              + ", the model's manifest says "
              + (ref.getSha256().isEmpty() ? "(none)" : ref.getSha256()));
    }
    return location;
  }

  /**
   * Checks a latent model's decoder without loading it onto a device: location, manifest sha256,
   * the VAE package itself and its latent channels.
   */
  static void verify(ModelPackage pkg) throws IOException {
    String manifestAt = ModelPackages.manifestLocation(pkg.location());
    // Its images are decoded whole: the decoder's limit bounds the model's side.
    InputLimits.checkRange(
        manifestAt,
        "architecture.image_size of a latent model",
        pkg.config().imageSize(),
        1,
        InputLimits.MAX_DECODE_LATENT_SIDE);
    String location = checkedLocation(pkg);
    VaePackage vae = VaePackages.read(location);
    if (vae.config().latentChannels() != pkg.config().channels()) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          manifestAt,
          "decoder "
              + location
              + " expects "
              + vae.config().latentChannels()
              + " latent channels; the network makes "
              + pkg.config().channels());
    }
  }

  /** A decoder location relative to the model's manifest, unless it is absolute. */
  static String resolve(String manifestAt, String location) {
    boolean absolute = location.startsWith("/") || location.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*");
    if (absolute) {
      return location;
    }
    int slash = manifestAt.lastIndexOf('/');
    return slash < 0 ? location : manifestAt.substring(0, slash + 1) + location;
  }

  /** The sampler's view of a loaded VAE. */
  static LatentDecoder decoder(LoadedVae vae) {
    String id =
        vae.manifest().getName() + " " + vae.manifest().getVersion() + " (" + vae.location() + ")";
    return new LatentDecoder() {
      @Override
      public NDArray decode(NDArray latents) {
        return vae.decode(latents);
      }

      @Override
      public int latentChannels() {
        return vae.config().latentChannels();
      }

      @Override
      public int imageChannels() {
        return vae.config().outChannels();
      }

      @Override
      public int upsampling() {
        return vae.config().upsampling();
      }

      @Override
      public String id() {
        return id;
      }
    };
  }
}
