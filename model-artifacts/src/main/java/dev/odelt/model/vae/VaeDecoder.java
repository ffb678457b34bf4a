package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The decoder of the Stable Diffusion VAE (diffusers' AutoencoderKL, Rombach et al., "High-
 * Resolution Image Synthesis with Latent Diffusion Models", arXiv 2112.10752): latents to images.
 *
 * <p>Symbols (see {@link VaeConfig}): B batch, L latent channels, (h, w) latent size, c_0 … c_{n−1}
 * block channels, G GroupNorm groups, s scaling factor, f = 2^(n−1). The decoder computes, in NCHW:
 *
 * <pre>
 *   z / s → post_quant_conv 1×1 (L → L) → decoder.conv_in 3×3 (L → c_{n−1})
 *     → mid_block: resnets.0, attentions.0 (single head over h·w positions), resnets.1
 *     → up_blocks.0 … n−1 over channels c_{n−1} … c_0 (each R = layers_per_block + 1 resnets,
 *       nearest ×2 upsampling + conv 3×3 after all but the last)
 *     → conv_norm_out GroupNorm(G, eps 1e-6) → SiLU → conv_out 3×3 (c_0 → out_channels)
 * </pre>
 *
 * <p>Parameters carry their diffusers names ({@code decoder.mid_block.attentions.0.to_q.weight};
 * convolutions (out, in, kh, kw), Linear weights (out, in)). A decoder is created empty, then
 * {@link #setParameters(Map)} or {@link #initialize} sets every array once; after that it is
 * read-only and {@link #decode} is safe to call from many threads at once.
 *
 * <p>Precision and the parameter life cycle: see {@link ImageDecoder}.
 */
public final class VaeDecoder extends ImageDecoder {

  private final VaeConfig config;
  private final Parameter postQuantW;
  private final Parameter postQuantB;
  private final Parameter convInW;
  private final Parameter convInB;
  private final ResnetBlock midResnet0;
  private final MidAttention midAttention;
  private final ResnetBlock midResnet1;
  private final List<UpDecoderBlock> upBlocks;
  private final Parameter normOutW;
  private final Parameter normOutB;
  private final Parameter convOutW;
  private final Parameter convOutB;

  public VaeDecoder(VaeConfig config) {
    super(config);
    if (config.isTiny()) {
      throw new IllegalArgumentException("an AutoencoderTiny configuration needs TinyDecoder");
    }
    this.config = config;
    int latent = config.latentChannels();
    int top = config.topChannels();
    int groups = config.normNumGroups();
    postQuantW = param("post_quant_conv.weight", Parameter.Type.WEIGHT, latent, latent, 1, 1);
    postQuantB = param("post_quant_conv.bias", Parameter.Type.BIAS, latent);
    convInW = param("decoder.conv_in.weight", Parameter.Type.WEIGHT, top, latent, 3, 3);
    convInB = param("decoder.conv_in.bias", Parameter.Type.BIAS, top);
    midResnet0 = child("decoder.mid_block.resnets.0", new ResnetBlock(top, top, groups));
    midAttention = child("decoder.mid_block.attentions.0", new MidAttention(top, groups));
    midResnet1 = child("decoder.mid_block.resnets.1", new ResnetBlock(top, top, groups));
    List<Integer> channels = config.blockOutChannels();
    int n = channels.size();
    List<UpDecoderBlock> list = new ArrayList<>();
    int previous = top;
    for (int i = 0; i < n; i++) {
      int out = channels.get(n - 1 - i); // reversed block_out_channels
      list.add(
          child(
              "decoder.up_blocks." + i,
              new UpDecoderBlock(previous, out, config.resnetsPerUpBlock(), groups, i < n - 1)));
      previous = out;
    }
    upBlocks = Collections.unmodifiableList(list);
    int bottom = channels.get(0);
    normOutW = param("decoder.conv_norm_out.weight", Parameter.Type.GAMMA, bottom);
    normOutB = param("decoder.conv_norm_out.bias", Parameter.Type.BETA, bottom);
    convOutW =
        param("decoder.conv_out.weight", Parameter.Type.WEIGHT, config.outChannels(), bottom, 3, 3);
    convOutB = param("decoder.conv_out.bias", Parameter.Type.BIAS, config.outChannels());
    sealParameters();
  }

  /**
   * The decoder on latents already divided by s, freeing every intermediate as soon as the next one
   * exists.
   *
   * @param z (B, L, h, w), left intact
   * @return (B, out_channels, f·h, f·w)
   */
  @Override
  NDArray apply(NDArray z) {
    NDArray h = VaeOps.conv(z, postQuantW, postQuantB, 0); // (B, L, h, w)
    h = then(h, x -> VaeOps.conv(x, convInW, convInB, 1)); // (B, c_{n−1}, h, w)
    h = then(h, midResnet0::apply);
    h = then(h, midAttention::apply);
    h = then(h, midResnet1::apply);
    for (UpDecoderBlock block : upBlocks) {
      h = then(h, block::apply); // (B, c, 2h', 2w') except after the last
    }
    h =
        then(
            h,
            x ->
                VaeOps.siluInPlace(
                    VaeOps.groupNorm(x, config.normNumGroups(), normOutW, normOutB)));
    return then(h, x -> VaeOps.conv(x, convOutW, convOutB, 1)); // (B, out_channels, f·h, f·w)
  }

  /** Applies {@code step} and frees its input. */
  private static NDArray then(NDArray x, UnaryOperator<NDArray> step) {
    try (x) {
      return step.apply(x);
    }
  }

  /**
   * Bytes of the largest single activation one decode of (B, L, h, w) latents creates (float32):
   * the output of the last upsampling convolution, or of the last block's resnets, whichever is
   * larger; the attention's (B, h·w, h·w) scores when they are. Peak memory is a small multiple of
   * it (a resnet holds its input, two intermediates and its output), for sizing decode batches.
   */
  @Override
  public long largestActivationBytes(long batch, long h, long w) {
    List<Integer> channels = config.blockOutChannels();
    int n = channels.size();
    long largest = batch * h * w * h * w; // attention scores
    long side = 1;
    for (int i = 0; i < n; i++) {
      long c = channels.get(n - 1 - i);
      largest = Math.max(largest, batch * c * h * w * side * side);
      if (i < n - 1) {
        side *= 2;
        largest = Math.max(largest, batch * c * h * w * side * side); // upsampled
      }
    }
    return 4 * largest;
  }

  public List<UpDecoderBlock> upBlocks() {
    return upBlocks;
  }

  public ResnetBlock midResnet(int index) {
    return index == 0 ? midResnet0 : midResnet1;
  }

  public MidAttention midAttention() {
    return midAttention;
  }
}
