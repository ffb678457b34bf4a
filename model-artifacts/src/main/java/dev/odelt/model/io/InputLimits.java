package dev.odelt.model.io;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.vae.VaeConfig;
import dev.odelt.proto.v1.Architecture;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.proto.v1.TierSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one set of limits on files from outside (checkpoints, model and VAE packages, diffusers
 * folders, tensor files) and on the tiers a package may preset; the limits table in
 * docs/models.md quotes these values. Every count, size, shape and offset read from such a file is checked against them
 * (and against the file's real size) before it is used to allocate, divide, loop or recurse.
 *
 * <p>Architecture values are far above any released model (DiT-XL/2: depth 28, width 1152, 16
 * heads, patch 2, 1000 classes, 4 latent channels, latent side 32) and far below what would exhaust
 * a worker: {@link #MAX_TOKENS} bounds the attention matrix a network builds.
 */
public final class InputLimits {

  // ---- tiers (requests and package presets alike) -------------------------------------------

  /** Steps S of a tier, explicit or preset: 1 ≤ S ≤ this. */
  public static final int MAX_STEPS = 1024;

  /** Guidance w of a tier, explicit or preset: 0 ≤ w ≤ this. */
  public static final float MAX_GUIDANCE = 100f;

  // ---- architecture (model manifests, checkpoints, velocity inputs) -------------------------

  /** Transformer blocks of a network. */
  public static final int MAX_DEPTH = 256;

  /** Hidden width of a network. */
  public static final int MAX_WIDTH = 16_384;

  /** Attention heads. */
  public static final int MAX_HEADS = 256;

  /** Patch side. */
  public static final int MAX_PATCH = 16;

  /** Classes of a conditional model (ImageNet-21k has 21,841). */
  public static final int MAX_CLASSES = 100_000;

  /** Image (latent or pixel) channels of a network or VAE. */
  public static final int MAX_CHANNELS = 64;

  /** Side of the network's images (latent side for latent models). */
  public static final int MAX_IMAGE_SIZE = 1024;

  /** Tokens (image_size / patch)² of one image: the attention matrix is this squared. */
  public static final int MAX_TOKENS = 4096;

  /** Images in one velocity or decode input file. */
  public static final int MAX_BATCH = 1024;

  /**
   * Latent side the VAE decoder accepts (64: 512 px, twice the paper's 256 px). Its mid-block
   * attention is over all h·w positions at once: (h·w)² scores per image, 64 MiB at this side, 1
   * GiB at 128 and 16 GiB at 256. Larger inputs would need tiled or sliced decoding, which this
   * decoder does not do, so they are refused (decode's latents, a latent model's image_size).
   */
  public static final int MAX_DECODE_LATENT_SIDE = 64;

  /** Channels of a VAE decoder block (the Stable Diffusion VAE: 128 to 512). */
  public static final int MAX_VAE_CHANNELS = 4096;

  /**
   * Resnet layers per VAE decoder block (the Stable Diffusion VAE: 2; 0 for the tiny decoder), and
   * the tiny decoder's blocks per stage (TAESD: 3).
   */
  public static final int MAX_VAE_LAYERS = 16;

  // ---- file structure -----------------------------------------------------------------------

  /** A JSON manifest or config (model, VAE, diffusers config.json, tier presets). */
  public static final int MAX_JSON_BYTES = 1 << 20;

  /** Nesting of JSON objects and arrays. */
  public static final int MAX_JSON_DEPTH = 64;

  /** Values (objects, arrays, strings, numbers …) in one JSON document, headers included. */
  public static final int MAX_JSON_VALUES = 1 << 20;

  /** A safetensors header. */
  public static final int MAX_HEADER_BYTES = 16 << 20;

  /** Tensors in one safetensors file (the SD VAE has 248, DiT-XL/2 about 700). */
  public static final int MAX_TENSORS = 20_000;

  /** Dimensions of a tensor. */
  public static final int MAX_RANK = 8;

  /** Elements of one tensor (what a Java array holds). */
  public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  /** Pickle: live objects on the stack, memo entries, and objects built in all. */
  public static final int MAX_PICKLE_OBJECTS = 1 << 22;

  /** Pickle: open MARKs (a real pickle nests them as deep as its data). */
  public static final int MAX_PICKLE_MARKS = 4096;

  /** Pickle: nesting of tuples (and so of dict keys and set items) and of the parameter tree. */
  public static final int MAX_PICKLE_DEPTH = 256;

  /** Pickle: arrays (leaves) in the parameter tree. */
  public static final int MAX_PICKLE_LEAVES = 100_000;

  private InputLimits() {}

  /**
   * Checks {@code value} of {@code field} in {@code file} against {@code [min, max]}.
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the file, the field and
   *     the limit
   */
  public static int checkRange(String file, String field, long value, long min, long max)
      throws InvalidModelPackageException {
    if (value < min || value > max) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          String.format(Locale.ROOT, "%s is %d, the limit is %d to %d", field, value, min, max));
    }
    return (int) value;
  }

  /**
   * The number of elements of {@code shape}, checked: dimensions ≥ 0, rank ≤ {@link #MAX_RANK} and
   * the product ≤ {@link #MAX_ELEMENTS} (computed without overflow).
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the tensor
   */
  public static long elements(String file, String tensor, long[] shape)
      throws InvalidModelPackageException {
    if (shape.length > MAX_RANK) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          "tensor '" + tensor + "' has " + shape.length + " dimensions, the limit is " + MAX_RANK);
    }
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED, file, "tensor '" + tensor + "' has a negative dimension " + d);
      }
      if (d != 0 && n > MAX_ELEMENTS / d) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED,
            file,
            "tensor '" + tensor + "' has more than " + MAX_ELEMENTS + " elements (the limit)");
      }
      n *= d;
    }
    return n;
  }

  /**
   * Checks an architecture (of a manifest, or read off a checkpoint's shapes) against the limits
   * above: depth, width, heads, patch, classes, channels, image size and tokens.
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the field and the limit
   */
  public static void checkArchitecture(
      String file,
      long imageSize,
      long channels,
      long patch,
      long width,
      long heads,
      long depth,
      long classes)
      throws InvalidModelPackageException {
    checkRange(file, "architecture.depth", depth, 1, MAX_DEPTH);
    checkRange(file, "architecture.hidden_size", width, 1, MAX_WIDTH);
    checkRange(file, "architecture.num_heads", heads, 1, MAX_HEADS);
    checkRange(file, "architecture.patch_size", patch, 1, MAX_PATCH);
    checkRange(file, "architecture.num_classes", classes, 1, MAX_CLASSES);
    checkRange(file, "architecture.channels", channels, 1, MAX_CHANNELS);
    checkRange(file, "architecture.image_size", imageSize, 1, MAX_IMAGE_SIZE);
    long side = imageSize / patch;
    checkRange(file, "tokens (image_size / patch_size)²", side * side, 1, MAX_TOKENS);
  }

  /**
   * Checks a model manifest's architecture, tier presets and default tier by the rules explicit
   * tiers follow: 1 ≤ steps ≤ {@link #MAX_STEPS}, blocks the model allows, 0 ≤ guidance ≤ {@link
   * #MAX_GUIDANCE} (1 for an unconditional model), DOPRI5 tolerance in (0, 1); preset names unique;
   * {@code default_tier} one of them.
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the preset and field
   */
  public static void checkManifest(String file, ModelManifest manifest, ModelConfig config)
      throws InvalidModelPackageException {
    Architecture a = manifest.getArchitecture();
    checkArchitecture(
        file,
        a.getImageSize(),
        a.getChannels(),
        a.getPatchSize(),
        a.getHiddenSize(),
        a.getNumHeads(),
        a.getDepth(),
        a.getNumClasses());
    if (!(a.getMlpRatio() >= 0 && a.getMlpRatio() <= 16)) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          "architecture.mlp_ratio is " + a.getMlpRatio() + ", the limit is 0 to 16");
    }
    checkRange(file, "classes", manifest.getClassesCount(), 0, (long) config.numClasses() + 1);
    Set<String> names = new HashSet<>();
    for (TierPreset p : manifest.getTiersList()) {
      String name = p.getName().trim().toLowerCase(Locale.ROOT);
      String field = "tiers preset '" + p.getName() + "'";
      if (name.isEmpty() || !names.add(name)) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED, file, field + ": preset names must be non-empty and unique");
      }
      TierSpec t = p.getTier();
      Solver solver = t.getSolver() == Solver.SOLVER_UNSPECIFIED ? Solver.EULER : t.getSolver();
      checkRange(file, field + " steps", t.getSteps(), 1, MAX_STEPS);
      if (!config.isAllowedBlocks(t.getBlocks())) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED,
            file,
            field + " blocks is " + t.getBlocks() + ", the model allows " + config.allowedBlocks());
      }
      float guidance = t.hasGuidance() ? t.getGuidance() : Tier.DEFAULT_GUIDANCE;
      if (!(guidance >= 0 && guidance <= MAX_GUIDANCE)
          || (manifest.getUnconditional() && guidance != 1f)) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED,
            file,
            field
                + " guidance is "
                + guidance
                + ", the limit is "
                + (manifest.getUnconditional()
                    ? "1 (unconditional model)"
                    : "0 to " + MAX_GUIDANCE));
      }
      if (solver == Solver.DOPRI5
          && t.hasTolerance()
          && !(t.getTolerance() > 0 && t.getTolerance() < 1)) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED,
            file,
            field + " tolerance is " + t.getTolerance() + ", the limit is (0, 1)");
      }
    }
    String defaultTier = manifest.getDefaultTier().trim().toLowerCase(Locale.ROOT);
    if (!defaultTier.isEmpty() && !names.contains(defaultTier)) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          "default_tier '" + manifest.getDefaultTier() + "' is not one of its presets " + names);
    }
  }

  /**
   * Checks a VAE decoder's configuration (of a diffusers config.json or a VAE manifest) against the
   * limits above.
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the field and the limit
   */
  public static void checkVae(String file, VaeConfig config) throws InvalidModelPackageException {
    for (int c : config.blockOutChannels()) {
      checkRange(file, "block_out_channels entry", c, 1, MAX_VAE_CHANNELS);
    }
    if (config.isTiny()) {
      for (int n : config.tinyBlocks()) {
        checkRange(file, "num_decoder_blocks entry", n, 0, MAX_VAE_LAYERS);
      }
    } else {
      checkRange(file, "layers_per_block", config.layersPerBlock(), 0, MAX_VAE_LAYERS);
      for (int n : config.tinyBlocks()) {
        checkRange(file, "num_decoder_blocks entry", n, 0, MAX_VAE_LAYERS);
      }
    }
    checkRange(file, "latent_channels", config.latentChannels(), 1, MAX_CHANNELS);
    checkRange(file, "out_channels", config.outChannels(), 1, MAX_CHANNELS);
    checkRange(file, "norm_num_groups", config.normNumGroups(), 1, MAX_VAE_CHANNELS);
    if (!(Float.isFinite(config.scalingFactor()) && config.scalingFactor() > 0)) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          "scaling_factor is " + config.scalingFactor() + ", need a finite number > 0");
    }
  }

  /**
   * Checks that every value of every tensor is finite: NaN or infinite weights would give black
   * images recorded as successes, NaN latents NaN images.
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the file, the tensor and
   *     the first bad element
   */
  public static void checkFinite(String file, Map<String, Tensor> tensors)
      throws InvalidModelPackageException {
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      float[] data = e.getValue().dataUnsafe();
      for (int i = 0; i < data.length; i++) {
        if (!Float.isFinite(data[i])) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED,
              file,
              "tensor '"
                  + e.getKey()
                  + "' holds "
                  + data[i]
                  + " at element "
                  + i
                  + "; only finite values are accepted");
        }
      }
    }
  }

  /**
   * Checks that a local file is a regular file, following no symbolic link to a device or pipe;
   * locations on other stores ({@code gs://}, {@code classpath:}) pass.
   *
   * @throws InvalidModelPackageException {@link Problem#MISSING} when it does not exist, {@link
   *     Problem#MALFORMED} when it is a directory, device, pipe or socket
   */
  public static void checkRegularFile(String location, String what)
      throws InvalidModelPackageException {
    if (location.contains("://") || location.startsWith("classpath:")) {
      return;
    }
    Path path = Path.of(location.startsWith("file:") ? location.substring(5) : location);
    if (!Files.exists(path)) {
      throw new InvalidModelPackageException(Problem.MISSING, location, what + " does not exist");
    }
    if (!Files.isRegularFile(path)) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          location,
          what
              + " is not a regular file ("
              + (Files.isDirectory(path) ? "a directory" : "a device, pipe or socket")
              + ")");
    }
  }

  /**
   * The size of a local regular file, or -1 for other stores.
   *
   * @throws IOException when the size cannot be read
   */
  public static long localSize(String location) throws IOException {
    if (location.contains("://") || location.startsWith("classpath:")) {
      return -1;
    }
    Path path = Path.of(location.startsWith("file:") ? location.substring(5) : location);
    return Files.isRegularFile(path) ? Files.size(path) : -1;
  }

  /**
   * Checks a file name a package manifest gives for one of its own files: relative, without {@code
   * ..}, {@code \}, a scheme or control characters, so it resolves inside the package.
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the manifest and field
   */
  public static void checkPackageRelative(String manifestAt, String field, String name)
      throws InvalidModelPackageException {
    boolean bad =
        name.isEmpty()
            || name.length() > 255
            || name.startsWith("/")
            || name.contains("\\")
            || name.contains(":")
            || name.chars().anyMatch(c -> c < 0x20 || c == 0x7f);
    for (String part : name.split("/", -1)) {
      bad |= part.equals("..") || part.equals(".") || part.isEmpty();
    }
    if (bad) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          manifestAt,
          field
              + " must name a file inside the package (relative, no '..', no scheme), got '"
              + (name.length() > 80 ? name.substring(0, 80) + "…" : name)
              + "'");
    }
  }
}
