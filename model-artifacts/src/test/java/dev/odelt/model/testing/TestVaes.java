package dev.odelt.model.testing;

import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.io.VaePackages;
import dev.odelt.model.vae.ImageDecoder;
import dev.odelt.model.vae.VaeConfig;
import dev.odelt.proto.v1.VaeManifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tiny random VAE decoders for tests of this and downstream modules: diffusers folders in either
 * attention naming and dtype, and VAE packages.
 */
public final class TestVaes {

  /** Channels 8/16, one layer per block, 4 groups: f = 2, about 20k parameters. */
  public static final VaeConfig TINY = new VaeConfig(List.of(8, 16), 1, 4, 3, 4, 0.18215f);

  /** An AutoencoderTiny of 16 channels in 4 stages of 1, 2, 1, 1 blocks: f = 8 like TAESD. */
  public static final VaeConfig TAESD_SMALL =
      VaeConfig.tiny(List.of(16, 16, 16, 16), List.of(1, 2, 1, 1), 4, 3, 1f);

  /** Channels 8/8/16/16, one layer per block, 4 groups: f = 8 like Stable Diffusion. */
  public static final VaeConfig SMALL = new VaeConfig(List.of(8, 8, 16, 16), 1, 4, 3, 4, 0.18215f);

  /** How a diffusers file names (and shapes) the mid-block attention. */
  public enum Naming {
    /** to_q, to_k, to_v, to_out.0 with (C, C) weights. */
    NEW,
    /** query, key, value, proj_attn with (C, C) weights. */
    OLD,
    /** query, key, value, proj_attn with (C, C, 1, 1) weights. */
    OLD_CONV
  }

  private static final String ATTENTION = "decoder.mid_block.attentions.0.";
  private static final Map<String, String> OLD_NAMES =
      Map.of("to_q.", "query.", "to_k.", "key.", "to_v.", "value.", "to_out.0.", "proj_attn.");

  private TestVaes() {}

  /**
   * Random decoder tensors under the package's (newer) names: kernels N(0, 1/fan_in), norm scales 1
   * + N(0, 0.1²), biases N(0, 0.1²).
   */
  public static Map<String, Tensor> randomTensors(VaeConfig config, long seed) {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    SplittableRandom rng = new SplittableRandom(seed);
    for (Map.Entry<String, Shape> e : ImageDecoder.parameterShapes(config).entrySet()) {
      Shape shape = e.getValue();
      float[] v = new float[Math.toIntExact(shape.size())];
      boolean kernel = shape.dimension() >= 2;
      boolean normScale = e.getKey().contains("norm") && e.getKey().endsWith("weight");
      double std = kernel ? Math.sqrt(1.0 / (shape.size() / shape.get(0))) : 0.1;
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (gaussian(rng) * std + (normScale ? 1 : 0));
      }
      tensors.put(e.getKey(), new Tensor(shape.getShape(), v));
    }
    return tensors;
  }

  /**
   * The tensors with every value rounded to a multiple of 1/{@code stepsPerUnit}: with 256 (and
   * |values| &lt; 8) they are exact in F16, with 32 also in BF16.
   */
  public static Map<String, Tensor> quantized(Map<String, Tensor> tensors, int stepsPerUnit) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      float[] v = e.getValue().data();
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) (Math.rint((double) v[i] * stepsPerUnit) / stepsPerUnit);
      }
      out.put(e.getKey(), new Tensor(e.getValue().shape(), v));
    }
    return out;
  }

  private static double gaussian(SplittableRandom rng) {
    double u1 = 1 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Writes a VAE package of random weights; returns its manifest location. */
  public static String writeRandomPackage(Path dir, VaeConfig config, long seed)
      throws IOException {
    VaePackages.write(
        dir.toString(),
        VaeManifest.newBuilder().setName("test-vae").setVersion(Long.toString(seed)).build(),
        config,
        randomTensors(config, seed));
    return ModelPackages.manifestIn(dir);
  }

  /** The diffusers config.json of a configuration (AutoencoderKL or AutoencoderTiny). */
  public static JsonObject diffusersConfig(VaeConfig config) {
    if (config.isTiny()) {
      return tinyDiffusersConfig(config);
    }
    JsonObject o = new JsonObject();
    o.addProperty("_class_name", "AutoencoderKL");
    o.addProperty("_diffusers_version", "0.21.0");
    o.addProperty("act_fn", "silu");
    JsonArray channels = new JsonArray();
    JsonArray up = new JsonArray();
    JsonArray down = new JsonArray();
    for (int c : config.blockOutChannels()) {
      channels.add(c);
      up.add("UpDecoderBlock2D");
      down.add("DownEncoderBlock2D");
    }
    o.add("block_out_channels", channels);
    o.add("down_block_types", down);
    o.add("up_block_types", up);
    o.addProperty("in_channels", 3);
    o.addProperty("latent_channels", config.latentChannels());
    o.addProperty("layers_per_block", config.layersPerBlock());
    o.addProperty("norm_num_groups", config.normNumGroups());
    o.addProperty("out_channels", config.outChannels());
    o.addProperty("sample_size", 256);
    o.addProperty("scaling_factor", config.scalingFactor());
    return o;
  }

  /** The config.json of an AutoencoderTiny, with the encoder settings TAESD's file has. */
  private static JsonObject tinyDiffusersConfig(VaeConfig config) {
    JsonObject o = new JsonObject();
    o.addProperty("_class_name", "AutoencoderTiny");
    o.addProperty("_diffusers_version", "0.21.0");
    o.addProperty("act_fn", "relu");
    JsonArray channels = new JsonArray();
    JsonArray blocks = new JsonArray();
    for (int i = 0; i < config.blockOutChannels().size(); i++) {
      channels.add(config.blockOutChannels().get(i));
      blocks.add(config.tinyBlocks().get(i));
    }
    o.add("decoder_block_out_channels", channels);
    o.add("encoder_block_out_channels", channels);
    o.add("num_decoder_blocks", blocks);
    o.add("num_encoder_blocks", blocks);
    o.addProperty("in_channels", 3);
    o.addProperty("latent_channels", config.latentChannels());
    o.addProperty("latent_magnitude", 3);
    o.addProperty("latent_shift", 0.5);
    o.addProperty("out_channels", config.outChannels());
    o.addProperty("scaling_factor", config.scalingFactor());
    o.addProperty("upsample_fn", "nearest");
    o.addProperty("upsampling_scaling_factor", 2);
    o.addProperty("force_upcast", false);
    return o;
  }

  /**
   * Writes a diffusers AutoencoderKL or AutoencoderTiny folder holding {@code tensors} (package
   * names) in the given naming and dtype (F32, F16 or BF16; values must be exact in it), plus two
   * encoder and (for an AutoencoderKL) two quant_conv tensors an importer must drop.
   */
  public static void writeDiffusersFolder(
      Path dir, VaeConfig config, Map<String, Tensor> tensors, Naming naming, String dtype)
      throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), new Gson().toJson(diffusersConfig(config)));
    Map<String, Tensor> file = new LinkedHashMap<>();
    int c0 = config.blockOutChannels().get(0);
    int l2 = 2 * config.latentChannels();
    String encoderIn = config.isTiny() ? "encoder.layers.0." : "encoder.conv_in.";
    file.put(encoderIn + "weight", new Tensor(new long[] {c0, 3, 3, 3}, new float[c0 * 27]));
    file.put(encoderIn + "bias", new Tensor(new long[] {c0}, new float[c0]));
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String name = e.getKey();
      Tensor t = e.getValue();
      if (naming != Naming.NEW && name.startsWith(ATTENTION)) {
        for (Map.Entry<String, String> o : OLD_NAMES.entrySet()) {
          if (name.startsWith(ATTENTION + o.getKey())) {
            name = ATTENTION + o.getValue() + name.substring((ATTENTION + o.getKey()).length());
            long[] s = t.shape();
            if (naming == Naming.OLD_CONV && s.length == 2) {
              t = new Tensor(new long[] {s[0], s[1], 1, 1}, t.data());
            }
          }
        }
      }
      file.put(name, t);
    }
    if (!config.isTiny()) {
      file.put("quant_conv.weight", new Tensor(new long[] {l2, l2, 1, 1}, new float[l2 * l2]));
      file.put("quant_conv.bias", new Tensor(new long[] {l2}, new float[l2]));
    }
    Path weights = dir.resolve("diffusion_pytorch_model.safetensors");
    if (dtype.equals("F32")) {
      Files.write(weights, SafeTensors.write(file, Map.of("format", "pt")));
    } else {
      Files.write(weights, writeHalf(file, dtype));
    }
  }

  /** A safetensors file of 2-byte tensors (F16 or BF16); values must be exact in that type. */
  public static byte[] writeHalf(Map<String, Tensor> tensors, String dtype) {
    JsonObject header = new JsonObject();
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      JsonObject entry = new JsonObject();
      entry.addProperty("dtype", dtype);
      JsonArray shape = new JsonArray();
      for (long d : e.getValue().shape()) {
        shape.add(d);
      }
      entry.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offset += 2L * e.getValue().size();
      offsets.add(offset);
      entry.add("data_offsets", offsets);
      header.add(e.getKey(), entry);
    }
    byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer out = ByteBuffer.allocate(8 + padded + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded).put(json);
    for (int i = json.length; i < padded; i++) {
      out.put((byte) ' ');
    }
    for (Tensor t : tensors.values()) {
      for (float v : t.data()) {
        out.putShort(dtype.equals("BF16") ? toBfloat16Exact(v) : toFloat16Exact(v));
      }
    }
    return out.array();
  }

  /** float → bfloat16 bits; fails unless exact. */
  public static short toBfloat16Exact(float v) {
    int bits = Float.floatToRawIntBits(v);
    if ((bits & 0xffff) != 0) {
      throw new IllegalArgumentException(v + " is not exact in BF16");
    }
    return (short) (bits >>> 16);
  }

  /** float → binary16 bits for zero and normal half values; fails unless exact. */
  public static short toFloat16Exact(float v) {
    int bits = Float.floatToRawIntBits(v);
    int sign = (bits >>> 16) & 0x8000;
    if ((bits & 0x7fffffff) == 0) {
      return (short) sign;
    }
    int exponent = ((bits >>> 23) & 0xff) - 112;
    int mantissa = bits & 0x7fffff;
    if (exponent <= 0 || exponent >= 31 || (mantissa & 0x1fff) != 0) {
      throw new IllegalArgumentException(v + " is not an exact normal F16 value");
    }
    return (short) (sign | (exponent << 10) | (mantissa >>> 13));
  }
}
