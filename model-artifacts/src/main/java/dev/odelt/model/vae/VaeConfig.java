package dev.odelt.model.vae;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.proto.v1.VaeArchitecture;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * The hyper-parameters of a VAE decoder, validated once, named as in the diffusers {@code
 * config.json}: an AutoencoderKL decoder ({@link VaeDecoder}) or, when {@code tinyBlocks} is not
 * empty, an AutoencoderTiny (TAESD) decoder ({@link TinyDecoder}).
 *
 * <p>Symbols: channels c_0 … c_{n−1} = {@code blockOutChannels} (AutoencoderKL: the encoder's
 * order, the decoder walks them in reverse; AutoencoderTiny: {@code decoder_block_out_channels},
 * one per decoder stage in order), L = {@code latentChannels}, G = {@code normNumGroups} (every c_i
 * is a multiple of G), scaling factor s. A latent (B, L, h, w) decodes to an image (B, {@code
 * outChannels}, f·h, f·w) with f = 2^(n−1) ({@link #upsampling()}).
 *
 * @param blockOutChannels c_0 … c_{n−1}, n ≥ 1
 * @param layersPerBlock resnets per encoder block; each decoder up block holds one more
 *     (AutoencoderKL; 0 for AutoencoderTiny)
 * @param latentChannels L
 * @param outChannels image channels (3 for RGB)
 * @param normNumGroups G (AutoencoderKL; 1 for AutoencoderTiny, which has no GroupNorm)
 * @param scalingFactor s: the decoder divides its input by s first
 * @param tinyBlocks AutoencoderTiny's {@code num_decoder_blocks}, one per stage; empty for
 *     AutoencoderKL
 */
public record VaeConfig(
    List<Integer> blockOutChannels,
    int layersPerBlock,
    int latentChannels,
    int outChannels,
    int normNumGroups,
    float scalingFactor,
    List<Integer> tinyBlocks) {

  /** The diffusers class this decoder implements. */
  public static final String CLASS_NAME = "AutoencoderKL";

  /** The diffusers class of the tiny decoder (TAESD). */
  public static final String TINY_CLASS_NAME = "AutoencoderTiny";

  /** diffusers' default {@code scaling_factor}, used when an older config.json has none. */
  public static final float DEFAULT_SCALING_FACTOR = 0.18215f;

  /** An AutoencoderKL decoder. */
  public VaeConfig(
      List<Integer> blockOutChannels,
      int layersPerBlock,
      int latentChannels,
      int outChannels,
      int normNumGroups,
      float scalingFactor) {
    this(
        blockOutChannels,
        layersPerBlock,
        latentChannels,
        outChannels,
        normNumGroups,
        scalingFactor,
        List.of());
  }

  public VaeConfig {
    blockOutChannels = List.copyOf(blockOutChannels);
    tinyBlocks = List.copyOf(tinyBlocks);
    require(!blockOutChannels.isEmpty(), "block_out_channels is empty");
    require(blockOutChannels.size() <= 8, "more than 8 block_out_channels");
    require(normNumGroups > 0, "norm_num_groups must be positive, got " + normNumGroups);
    for (int c : blockOutChannels) {
      require(c > 0, "block_out_channels must be positive, got " + blockOutChannels);
      require(
          c % normNumGroups == 0,
          "block_out_channels "
              + blockOutChannels
              + " are not all multiples of norm_num_groups "
              + normNumGroups);
    }
    require(
        layersPerBlock >= 0 && layersPerBlock <= 16,
        "layers_per_block must be in [0, 16], got " + layersPerBlock);
    require(latentChannels > 0, "latent_channels must be positive, got " + latentChannels);
    require(outChannels > 0, "out_channels must be positive, got " + outChannels);
    require(
        Float.isFinite(scalingFactor) && scalingFactor > 0,
        "scaling_factor must be a positive number, got " + scalingFactor);
    if (!tinyBlocks.isEmpty()) {
      require(
          tinyBlocks.size() == blockOutChannels.size(),
          "num_decoder_blocks "
              + tinyBlocks
              + " must have one entry per decoder_block_out_channels "
              + blockOutChannels);
      for (int n : tinyBlocks) {
        require(n >= 0 && n <= 16, "num_decoder_blocks must be in [0, 16], got " + tinyBlocks);
      }
    }
  }

  /**
   * An AutoencoderTiny (TAESD) decoder: {@code channels} and {@code blocks} per stage, no
   * GroupNorm.
   */
  public static VaeConfig tiny(
      List<Integer> channels,
      List<Integer> blocks,
      int latentChannels,
      int outChannels,
      float scalingFactor) {
    return new VaeConfig(channels, 0, latentChannels, outChannels, 1, scalingFactor, blocks);
  }

  /** TAESD as diffusers ships it: 64 channels in 4 stages of 3, 3, 3, 1 blocks, s = 1. */
  public static VaeConfig taesd() {
    return tiny(List.of(64, 64, 64, 64), List.of(3, 3, 3, 1), 4, 3, 1f);
  }

  /** Whether this is an AutoencoderTiny (TAESD) decoder. */
  public boolean isTiny() {
    return !tinyBlocks.isEmpty();
  }

  /** The diffusers class: {@value #CLASS_NAME} or {@value #TINY_CLASS_NAME}. */
  public String className() {
    return isTiny() ? TINY_CLASS_NAME : CLASS_NAME;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("Invalid VAE architecture: " + message);
    }
  }

  /** The Stable Diffusion VAE (sd-vae-ft-mse): 128/256/512/512, 2 layers, 32 groups, 0.18215. */
  public static VaeConfig stableDiffusion() {
    return new VaeConfig(List.of(128, 256, 512, 512), 2, 4, 3, 32, DEFAULT_SCALING_FACTOR);
  }

  /** f = 2^(n−1): how many pixels one latent position becomes along each side. */
  public int upsampling() {
    return 1 << (blockOutChannels.size() - 1);
  }

  /** c_{n−1}: the widest channels, those of the mid block. */
  public int topChannels() {
    return blockOutChannels.get(blockOutChannels.size() - 1);
  }

  /** Resnets per decoder up block: {@code layersPerBlock + 1}. */
  public int resnetsPerUpBlock() {
    return layersPerBlock + 1;
  }

  /**
   * The manifest's architecture. An AutoencoderKL leaves {@code class_name} empty, so its manifest
   * (and its sha256, which latent models record) is the same as before the tiny decoder existed.
   */
  public VaeArchitecture toProto() {
    VaeArchitecture.Builder b =
        VaeArchitecture.newBuilder()
            .addAllBlockOutChannels(blockOutChannels)
            .setLayersPerBlock(layersPerBlock)
            .setLatentChannels(latentChannels)
            .setOutChannels(outChannels)
            .setNormNumGroups(normNumGroups)
            .setScalingFactor(scalingFactor);
    if (isTiny()) {
      b.setClassName(TINY_CLASS_NAME).addAllNumDecoderBlocks(tinyBlocks);
    }
    return b.build();
  }

  /**
   * Reads a manifest's architecture.
   *
   * @throws IllegalArgumentException when it is invalid
   */
  public static VaeConfig fromProto(VaeArchitecture a) {
    String name = a.getClassName();
    if (name.equals(TINY_CLASS_NAME)) {
      require(a.getNumDecoderBlocksCount() > 0, "an AutoencoderTiny needs num_decoder_blocks");
      return tiny(
          a.getBlockOutChannelsList(),
          a.getNumDecoderBlocksList(),
          a.getLatentChannels(),
          a.getOutChannels(),
          a.getScalingFactor());
    }
    require(
        name.isEmpty() || name.equals(CLASS_NAME),
        "class_name \"" + name + "\" is neither " + CLASS_NAME + " nor " + TINY_CLASS_NAME);
    require(a.getNumDecoderBlocksCount() == 0, "num_decoder_blocks is for AutoencoderTiny only");
    return new VaeConfig(
        a.getBlockOutChannelsList(),
        a.getLayersPerBlock(),
        a.getLatentChannels(),
        a.getOutChannels(),
        a.getNormNumGroups(),
        a.getScalingFactor());
  }

  /**
   * Parses a diffusers AutoencoderKL or AutoencoderTiny {@code config.json} (the latter: see {@code
   * fromTinyJson}). An AutoencoderKL requires {@code block_out_channels}, {@code layers_per_block},
   * {@code latent_channels} and {@code norm_num_groups}; {@code out_channels} defaults to 3 and
   * {@code scaling_factor} to 0.18215 (diffusers' defaults; configs older than diffusers 0.10 have
   * no scaling_factor). Options this decoder does not implement are rejected rather than ignored:
   * an {@code act_fn} other than silu, up block types other than UpDecoderBlock2D, a {@code
   * norm_type} other than group, {@code mid_block_add_attention} or {@code use_post_quant_conv}
   * false, a non-zero {@code shift_factor}, and {@code latents_mean}/{@code latents_std}. Other
   * keys (encoder settings, sample_size, versions) do not concern the decoder and are ignored.
   *
   * @param json the file's text
   * @param file its location, for messages
   * @throws InvalidModelPackageException ({@link Problem#MALFORMED}) naming the file and the key
   */
  public static VaeConfig fromDiffusersJson(String json, String file)
      throws InvalidModelPackageException {
    JsonObject o;
    try {
      JsonElement root = JsonParser.parseString(json);
      if (!root.isJsonObject()) {
        throw malformed(file, "is not a JSON object");
      }
      o = root.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, file, "is not valid JSON: " + e.getMessage(), e);
    }
    String className = string(o, "_class_name", file, null);
    if (className == null) {
      throw malformed(file, "has no _class_name; expected \"" + CLASS_NAME + "\"");
    }
    if (className.equals(TINY_CLASS_NAME)) {
      return fromTinyJson(o, file);
    }
    if (!className.equals(CLASS_NAME)) {
      throw malformed(
          file,
          "describes a "
              + className
              + "; only the diffusers "
              + CLASS_NAME
              + " (the Stable Diffusion VAE) and "
              + TINY_CLASS_NAME
              + " (TAESD) are supported");
    }
    String act = string(o, "act_fn", file, "silu");
    if (!act.equals("silu")) {
      throw malformed(file, "act_fn \"" + act + "\" is not supported (only silu)");
    }
    String norm = string(o, "norm_type", file, "group");
    if (!norm.equals("group")) {
      throw malformed(file, "norm_type \"" + norm + "\" is not supported (only group)");
    }
    for (String flag : new String[] {"mid_block_add_attention", "use_post_quant_conv"}) {
      if (present(o, flag) && !bool(o, flag, file)) {
        throw malformed(file, flag + " false is not supported (the decoder always has it)");
      }
    }
    if (present(o, "shift_factor") && number(o, "shift_factor", file).doubleValue() != 0) {
      throw malformed(file, "shift_factor " + o.get("shift_factor") + " is not supported");
    }
    for (String key : new String[] {"latents_mean", "latents_std"}) {
      if (present(o, key)) {
        throw malformed(file, key + " is not supported (per-channel latent statistics)");
      }
    }
    List<Integer> channels = intList(o, "block_out_channels", file);
    if (present(o, "up_block_types")) {
      List<String> types = stringList(o, "up_block_types", file);
      if (types.size() != channels.size()) {
        throw malformed(
            file,
            "has "
                + types.size()
                + " up_block_types but "
                + channels.size()
                + " block_out_channels");
      }
      for (String t : types) {
        if (!t.equals("UpDecoderBlock2D")) {
          throw malformed(file, "up block type \"" + t + "\" is not supported (UpDecoderBlock2D)");
        }
      }
    }
    int layers = integer(o, "layers_per_block", file, null);
    int latent = integer(o, "latent_channels", file, null);
    int out = integer(o, "out_channels", file, 3);
    int groups = integer(o, "norm_num_groups", file, null);
    float scaling =
        present(o, "scaling_factor")
            ? number(o, "scaling_factor", file).floatValue()
            : DEFAULT_SCALING_FACTOR;
    try {
      return new VaeConfig(channels, layers, latent, out, groups, scaling);
    } catch (IllegalArgumentException e) {
      throw new InvalidModelPackageException(Problem.MALFORMED, file, e.getMessage(), e);
    }
  }

  /**
   * An AutoencoderTiny {@code config.json}: {@code decoder_block_out_channels} and {@code
   * num_decoder_blocks} (required, one entry per stage), {@code latent_channels} (default 4),
   * {@code out_channels} (3), {@code scaling_factor} (1.0). Rejected rather than ignored: an {@code
   * act_fn} other than relu, an {@code upsample_fn} other than nearest, an {@code
   * upsampling_scaling_factor} other than 2, a non-zero {@code shift_factor}. Encoder settings
   * ({@code encoder_block_out_channels}, {@code num_encoder_blocks}, {@code latent_magnitude},
   * {@code latent_shift}, …) do not concern the decoder and are ignored.
   */
  private static VaeConfig fromTinyJson(JsonObject o, String file)
      throws InvalidModelPackageException {
    String act = string(o, "act_fn", file, "relu");
    if (!act.equals("relu")) {
      throw malformed(file, "act_fn \"" + act + "\" is not supported (only relu)");
    }
    String upsample = string(o, "upsample_fn", file, "nearest");
    if (!upsample.equals("nearest")) {
      throw malformed(file, "upsample_fn \"" + upsample + "\" is not supported (only nearest)");
    }
    if (present(o, "upsampling_scaling_factor")
        && integer(o, "upsampling_scaling_factor", file, null) != 2) {
      throw malformed(
          file,
          "upsampling_scaling_factor "
              + o.get("upsampling_scaling_factor")
              + " is not supported (only 2)");
    }
    if (present(o, "shift_factor") && number(o, "shift_factor", file).doubleValue() != 0) {
      throw malformed(file, "shift_factor " + o.get("shift_factor") + " is not supported");
    }
    List<Integer> channels = intList(o, "decoder_block_out_channels", file);
    List<Integer> blocks = intList(o, "num_decoder_blocks", file);
    int latent = integer(o, "latent_channels", file, 4);
    int out = integer(o, "out_channels", file, 3);
    float scaling =
        present(o, "scaling_factor") ? number(o, "scaling_factor", file).floatValue() : 1f;
    try {
      return tiny(channels, blocks, latent, out, scaling);
    } catch (IllegalArgumentException e) {
      throw new InvalidModelPackageException(Problem.MALFORMED, file, e.getMessage(), e);
    }
  }

  private static InvalidModelPackageException malformed(String file, String detail) {
    return new InvalidModelPackageException(Problem.MALFORMED, file, detail);
  }

  private static boolean present(JsonObject o, String key) {
    return o.has(key) && !o.get(key).isJsonNull();
  }

  private static String string(JsonObject o, String key, String file, String fallback)
      throws InvalidModelPackageException {
    if (!present(o, key)) {
      return fallback;
    }
    JsonElement e = o.get(key);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
      throw malformed(file, key + " must be a string, got " + e);
    }
    return e.getAsString();
  }

  private static boolean bool(JsonObject o, String key, String file)
      throws InvalidModelPackageException {
    JsonElement e = o.get(key);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
      throw malformed(file, key + " must be true or false, got " + e);
    }
    return e.getAsBoolean();
  }

  private static BigDecimal number(JsonObject o, String key, String file)
      throws InvalidModelPackageException {
    JsonElement e = o.get(key);
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw malformed(file, key + " must be a number, got " + e);
    }
    return e.getAsBigDecimal();
  }

  private static int integer(JsonObject o, String key, String file, Integer fallback)
      throws InvalidModelPackageException {
    if (!present(o, key)) {
      if (fallback == null) {
        throw malformed(file, "has no " + key);
      }
      return fallback;
    }
    return toInt(number(o, key, file), key, file);
  }

  private static int toInt(BigDecimal value, String key, String file)
      throws InvalidModelPackageException {
    try {
      return value.intValueExact();
    } catch (ArithmeticException e) {
      throw malformed(file, key + " must be an integer, got " + value);
    }
  }

  private static List<Integer> intList(JsonObject o, String key, String file)
      throws InvalidModelPackageException {
    if (!present(o, key) || !o.get(key).isJsonArray()) {
      throw malformed(
          file, present(o, key) ? key + " must be a list of integers" : "has no " + key);
    }
    List<Integer> out = new ArrayList<>();
    for (JsonElement e : o.getAsJsonArray(key)) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
        throw malformed(file, key + " must be a list of integers, got " + o.get(key));
      }
      out.add(toInt(e.getAsBigDecimal(), key, file));
    }
    return out;
  }

  private static List<String> stringList(JsonObject o, String key, String file)
      throws InvalidModelPackageException {
    if (!o.get(key).isJsonArray()) {
      throw malformed(file, key + " must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonElement e : o.getAsJsonArray(key)) {
      if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
        throw malformed(file, key + " must be a list of strings, got " + o.get(key));
      }
      out.add(e.getAsString());
    }
    return out;
  }
}
