package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.odelt.model.Precision;
import dev.odelt.model.io.InputLimits;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.storage.ObjectStores;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes a file of latents with a VAE package, for parity checks against other implementations:
 * reads {@value #LATENTS} float32 (B, h, w, L) NHWC from a safetensors file, scaled as the DiT
 * outputs them, and writes {@value #IMAGES} float32 (B, f·h, f·w, out_channels) NHWC, the raw
 * decoder output before any clipping. The output is written once, whole, after every image decoded;
 * bad input writes nothing.
 */
public final class DecodeLatents {

  /** The input tensor's name. */
  public static final String LATENTS = "latents";

  /** The output tensor's name. */
  public static final String IMAGES = "images";

  private DecodeLatents() {}

  /**
   * What {@link #run} did.
   *
   * @param images B
   * @param height f·h
   * @param width f·w
   * @param seconds wall time of the decoding alone (not reading or writing)
   */
  public record Summary(int images, int height, int width, double seconds) {}

  /** As {@link #run(String, String, String, String, int, Precision)} in float32. */
  public static Summary run(
      String vaeLocation, String latentsFile, String outputFile, String device, int batchSize)
      throws IOException {
    return run(vaeLocation, latentsFile, outputFile, device, batchSize, Precision.FP32);
  }

  /**
   * Loads a VAE package (a private copy) in {@code precision}, decodes the latents of {@code
   * latentsFile} in batches of at most {@code batchSize} images, writes {@code outputFile} (float32
   * whatever the precision) and frees the VAE.
   *
   * @param device {@code cpu} for float32 CPU parity; see {@link dev.odelt.model.Models}
   * @throws InvalidModelPackageException for a bad package or latents file (naming it and the
   *     tensor); nothing is written then
   * @throws IllegalArgumentException for {@code batchSize} &lt; 1 or an unknown device
   * @throws IOException when a store fails
   */
  public static Summary run(
      String vaeLocation,
      String latentsFile,
      String outputFile,
      String device,
      int batchSize,
      Precision precision)
      throws IOException {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
    }
    Tensor latents = readLatents(latentsFile);
    try (LoadedVae vae = Vaes.load(vaeLocation, device, precision)) {
      checkLatents(latents, vae.config(), latentsFile);
      long start = System.nanoTime();
      Tensor images = decode(vae, latents, batchSize);
      double seconds = (System.nanoTime() - start) / 1e9;
      Map<String, String> metadata = new LinkedHashMap<>();
      metadata.put("vae", vae.manifest().getName() + " " + vae.manifest().getVersion());
      metadata.put("vae_weights_sha256", vae.manifest().getWeights().getSha256());
      metadata.put("layout", "NHWC");
      metadata.put("precision", precision.label());
      ObjectStores.forLocation(outputFile)
          .write(
              outputFile,
              SafeTensors.write(Map.of(IMAGES, images), metadata),
              "application/octet-stream",
              Map.of());
      long[] s = images.shape();
      return new Summary((int) s[0], (int) s[1], (int) s[2], seconds);
    }
  }

  /**
   * Reads the {@value #LATENTS} tensor of a safetensors file: float32, 4-D (B, h, w, L).
   *
   * @throws InvalidModelPackageException naming the file when it is missing, malformed, lacks the
   *     tensor or the tensor is not 4-D with positive sizes
   */
  public static Tensor readLatents(String file) throws IOException {
    InputLimits.checkRegularFile(file, "latents file");
    Tensor latents;
    try (InputStream in = ObjectStores.forLocation(file).open(file)) {
      latents = SafeTensors.read(in, file, InputLimits.localSize(file)).tensors().get(LATENTS);
    } catch (FileNotFoundException | NoSuchFileException e) {
      throw new InvalidModelPackageException(
          Problem.MISSING, file, "latents file does not exist", e);
    }
    if (latents == null) {
      throw new InvalidModelPackageException(
          Problem.MISSING_TENSOR, file, "has no tensor '" + LATENTS + "' (B, h, w, channels)");
    }
    long[] s = latents.shape();
    if (s.length != 4 || latents.size() == 0) {
      throw new InvalidModelPackageException(
          Problem.WRONG_SHAPE,
          file,
          "tensor '"
              + LATENTS
              + "' has shape "
              + Arrays.toString(s)
              + ", need (B, h, w, channels)");
    }
    InputLimits.checkRange(file, "tensor 'latents' batch", s[0], 1, InputLimits.MAX_BATCH);
    // The decoder attends over all h·w positions at once; larger latents would need tiling.
    InputLimits.checkRange(
        file, "tensor 'latents' height", s[1], 1, InputLimits.MAX_DECODE_LATENT_SIDE);
    InputLimits.checkRange(
        file, "tensor 'latents' width", s[2], 1, InputLimits.MAX_DECODE_LATENT_SIDE);
    InputLimits.checkFinite(file, Map.of(LATENTS, latents));
    return latents;
  }

  private static void checkLatents(Tensor latents, VaeConfig config, String file)
      throws InvalidModelPackageException {
    long[] s = latents.shape();
    if (s[3] != config.latentChannels()) {
      throw new InvalidModelPackageException(
          Problem.WRONG_SHAPE,
          file,
          "tensor '"
              + LATENTS
              + "' has shape "
              + Arrays.toString(s)
              + ", this VAE needs (B, h, w, "
              + config.latentChannels()
              + ")");
    }
    long side = Math.max(s[1], s[2]) * config.upsampling();
    long perImage = s[1] * s[2] * config.upsampling() * config.upsampling() * config.outChannels();
    if (side > 16384 || s[0] * perImage > Integer.MAX_VALUE / 4) {
      throw new InvalidModelPackageException(
          Problem.WRONG_SHAPE,
          file,
          "tensor '"
              + LATENTS
              + "' of shape "
              + Arrays.toString(s)
              + " decodes to too large images");
    }
  }

  /**
   * Decodes NHWC latents into NHWC images on the VAE's device, {@code batchSize} images at a time
   * (each batch in its own sub-manager of the VAE's manager). Each image depends only on its own
   * latent: the same result whatever the batching, up to float rounding of the kernels.
   *
   * @param latents (B, h, w, L)
   * @return (B, f·h, f·w, out_channels)
   */
  public static Tensor decode(LoadedVae vae, Tensor latents, int batchSize) {
    long[] s = latents.shape();
    VaeConfig config = vae.config();
    int count = (int) s[0];
    int h = (int) s[1];
    int w = (int) s[2];
    int channels = (int) s[3];
    int f = config.upsampling();
    int out = config.outChannels();
    int latentSize = h * w * channels;
    int imageSize = f * h * f * w * out;
    float[] values = latents.data();
    float[] images = new float[count * imageSize];
    for (int first = 0; first < count; first += batchSize) {
      int n = Math.min(batchSize, count - first);
      // The layout changes happen here, on the heap, so the decoder sees contiguous NCHW arrays
      // (PyTorch would carry a permuted layout through every convolution).
      float[] chunk = toChannelsFirst(values, first * latentSize, n, h * w, channels);
      float[] result;
      try (NDManager call = vae.manager().newSubManager()) {
        NDArray nchw = call.create(chunk, new Shape(n, channels, h, w)); // (n, L, h, w)
        result = vae.decode(nchw).toFloatArray(); // (n, out, f·h, f·w)
      }
      toChannelsLast(result, n, f * h * f * w, out, images, first * imageSize);
    }
    return new Tensor(new long[] {count, (long) f * h, (long) f * w, out}, images);
  }

  /** (n, P, C) values at {@code offset} → a new (n, C, P) array. */
  static float[] toChannelsFirst(float[] values, int offset, int n, int positions, int channels) {
    float[] out = new float[n * positions * channels];
    for (int i = 0; i < n; i++) {
      int base = i * positions * channels;
      for (int p = 0; p < positions; p++) {
        for (int c = 0; c < channels; c++) {
          out[base + c * positions + p] = values[offset + base + p * channels + c];
        }
      }
    }
    return out;
  }

  /** (n, C, P) values → (n, P, C) written into {@code out} at {@code offset}. */
  static void toChannelsLast(
      float[] values, int n, int positions, int channels, float[] out, int offset) {
    for (int i = 0; i < n; i++) {
      int base = i * positions * channels;
      for (int c = 0; c < channels; c++) {
        for (int p = 0; p < positions; p++) {
          out[offset + base + p * channels + c] = values[base + c * positions + p];
        }
      }
    }
  }
}
