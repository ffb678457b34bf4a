package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The tiny decoder TAESD (Bohan Ollin Boer, madebyollin/taesd), as diffusers' AutoencoderTiny
 * decoder ({@code DecoderTiny}) runs it: a distilled decoder for the same latents as the Stable
 * Diffusion VAE, about 1.2 M parameters and some 20× fewer operations than {@link VaeDecoder}.
 *
 * <p>Symbols: stages i = 0 … n−1 with c_i channels ({@code decoder_block_out_channels}) and n_i
 * blocks ({@code num_decoder_blocks}), L latent channels, s scaling factor (1.0 for TAESD: the
 * latents as the diffusion model emits them). In NCHW:
 *
 * <pre>
 *   x = 3·tanh((z / s) / 3) → conv 3×3 (L → c_0, bias) → ReLU
 *     → per stage i: n_i blocks, each ReLU(conv3(ReLU(conv2(ReLU(conv1(x))))) + x)
 *         (3×3 convolutions c_i → c_i with biases; the skip is the identity)
 *       then, except after the last stage, nearest ×2 upsampling and conv 3×3 (c_i → c_{i+1}, no
 *       bias); after the last stage conv 3×3 (c_{n−1} → out_channels, bias)
 *   → 2·x − 1
 * </pre>
 *
 * <p>Parameters carry diffusers' flat Sequential names, in which the ReLU and Upsample layers take
 * indices too: {@code decoder.layers.0} the first convolution, then per block {@code
 * decoder.layers.k.conv.0/2/4} (the three convolutions; DecoderTiny's blocks keep their channels,
 * so none has a {@code skip} convolution), per stage end {@code decoder.layers.k} the convolution
 * (TAESD: first convolution 0, blocks 2–4, 7–9, 12–14 and 17, stage convolutions 6, 11, 16, 18).
 */
public final class TinyDecoder extends ImageDecoder {

  /** The clamp of the input: x = {@value} · tanh(x / {@value}). */
  static final float CLAMP = 3f;

  private final Conv convIn;
  private final List<Layer> layers;

  /** One step of the Sequential after the first convolution and its ReLU. */
  private sealed interface Layer permits Conv, Block, Upsample {}

  private record Conv(Parameter weight, Parameter bias) implements Layer {}

  private record Block(Parameter[] weights, Parameter[] biases) implements Layer {}

  private record Upsample() implements Layer {}

  public TinyDecoder(VaeConfig config) {
    super(config);
    if (!config.isTiny()) {
      throw new IllegalArgumentException("an AutoencoderKL configuration needs VaeDecoder");
    }
    List<Integer> channels = config.blockOutChannels();
    List<Integer> blocks = config.tinyBlocks();
    int n = channels.size();
    convIn = conv(0, channels.get(0), config.latentChannels(), true);
    List<Layer> list = new ArrayList<>();
    int index = 2; // after the first convolution and its ReLU
    for (int i = 0; i < n; i++) {
      int c = channels.get(i);
      for (int j = 0; j < blocks.get(i); j++) {
        String p = "decoder.layers." + index + ".conv.";
        Parameter[] w = new Parameter[3];
        Parameter[] b = new Parameter[3];
        for (int k = 0; k < 3; k++) {
          w[k] = param(p + 2 * k + ".weight", Parameter.Type.WEIGHT, c, c, 3, 3);
          b[k] = param(p + 2 * k + ".bias", Parameter.Type.BIAS, c);
        }
        list.add(new Block(w, b));
        index++;
      }
      boolean last = i == n - 1;
      if (!last) {
        list.add(new Upsample());
        index++;
      }
      int out = last ? config.outChannels() : channels.get(i + 1);
      list.add(conv(index, out, c, last));
      index++;
    }
    layers = Collections.unmodifiableList(list);
    sealParameters();
  }

  private Conv conv(int index, int out, int in, boolean bias) {
    String p = "decoder.layers." + index + ".";
    Parameter w = param(p + "weight", Parameter.Type.WEIGHT, out, in, 3, 3);
    Parameter b = bias ? param(p + "bias", Parameter.Type.BIAS, out) : null;
    return new Conv(w, b);
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
    NDArray h;
    try (NDArray clamp = z.getManager().create(CLAMP);
        NDArray scaled = z.div(clamp)) { // (B, L, h, w), float32
      h = scaled.tanh().muli(clamp);
    }
    h = then(h, x -> relu(conv(x, convIn))); // (B, c_0, h, w)
    for (Layer layer : layers) {
      if (layer instanceof Conv c) {
        h = then(h, x -> conv(x, c));
      } else if (layer instanceof Block b) {
        h = then(h, x -> block(x, b));
      } else {
        h = then(h, VaeOps::upsampleNearest2x); // (B, c_i, 2h', 2w')
      }
    }
    NDArray out = VaeOps.float32(h); // (B, out_channels, f·h, f·w)
    if (out != h) {
      h.close();
    }
    try (NDArray two = out.getManager().create(2f);
        NDArray one = out.getManager().create(1f)) {
      return out.muli(two).subi(one);
    }
  }

  /** Applies {@code step} and frees its input. */
  private static NDArray then(NDArray x, UnaryOperator<NDArray> step) {
    try (x) {
      return step.apply(x);
    }
  }

  private static NDArray conv(NDArray x, Conv c) {
    return VaeOps.conv(x, c.weight(), c.bias(), 1);
  }

  /** ReLU(conv3(ReLU(conv2(ReLU(conv1(x))))) + x), all 3×3 c → c. */
  private static NDArray block(NDArray x, Block b) {
    NDArray h = then(VaeOps.conv(x, b.weights()[0], b.biases()[0], 1), TinyDecoder::relu);
    h = then(h, y -> relu(VaeOps.conv(y, b.weights()[1], b.biases()[1], 1)));
    h = then(h, y -> VaeOps.conv(y, b.weights()[2], b.biases()[2], 1));
    return then(h.addi(x), TinyDecoder::relu);
  }

  /** ReLU, a new array (DJL has no in-place ReLU). */
  private static NDArray relu(NDArray x) {
    return Activation.relu(x);
  }

  /**
   * The largest activation: a stage's channels at its resolution, the largest being the last stage
   * at f·h × f·w (or the upsampled input of a stage convolution).
   */
  @Override
  public long largestActivationBytes(long batch, long h, long w) {
    List<Integer> channels = config().blockOutChannels();
    long largest = batch * config().latentChannels() * h * w;
    long side = 1;
    for (int i = 0; i < channels.size(); i++) {
      largest = Math.max(largest, batch * channels.get(i) * h * w * side * side);
      if (i < channels.size() - 1) {
        side *= 2;
        largest = Math.max(largest, batch * channels.get(i) * h * w * side * side);
      }
    }
    return 4 * largest;
  }
}
