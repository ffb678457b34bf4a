package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;

/**
 * diffusers' ResnetBlock2D without time embedding: GN → SiLU → conv 3×3 (C_in → C_out) → GN → SiLU
 * → conv 3×3 (C_out → C_out), plus the input, through a 1×1 {@code conv_shortcut} when C_in ≠
 * C_out. GroupNorm with G groups, eps 1e-6; dropout is inactive in inference; output scale 1.
 */
public final class ResnetBlock extends VaeBlock {

  private final int inChannels;
  private final int outChannels;
  private final int groups;
  private final Parameter norm1W;
  private final Parameter norm1B;
  private final Parameter conv1W;
  private final Parameter conv1B;
  private final Parameter norm2W;
  private final Parameter norm2B;
  private final Parameter conv2W;
  private final Parameter conv2B;
  private final Parameter shortcutW;
  private final Parameter shortcutB;

  /**
   * @param inChannels C_in
   * @param outChannels C_out
   * @param groups G, dividing both
   */
  public ResnetBlock(int inChannels, int outChannels, int groups) {
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    norm1W = param("norm1.weight", Parameter.Type.GAMMA, inChannels);
    norm1B = param("norm1.bias", Parameter.Type.BETA, inChannels);
    conv1W = param("conv1.weight", Parameter.Type.WEIGHT, outChannels, inChannels, 3, 3);
    conv1B = param("conv1.bias", Parameter.Type.BIAS, outChannels);
    norm2W = param("norm2.weight", Parameter.Type.GAMMA, outChannels);
    norm2B = param("norm2.bias", Parameter.Type.BETA, outChannels);
    conv2W = param("conv2.weight", Parameter.Type.WEIGHT, outChannels, outChannels, 3, 3);
    conv2B = param("conv2.bias", Parameter.Type.BIAS, outChannels);
    if (inChannels != outChannels) {
      shortcutW =
          param("conv_shortcut.weight", Parameter.Type.WEIGHT, outChannels, inChannels, 1, 1);
      shortcutB = param("conv_shortcut.bias", Parameter.Type.BIAS, outChannels);
    } else {
      shortcutW = null;
      shortcutB = null;
    }
  }

  /**
   * @param x (B, C_in, H, W), left intact
   * @return (B, C_out, H, W)
   */
  @Override
  public NDArray apply(NDArray x) {
    NDArray h;
    try (NDArray a = VaeOps.siluInPlace(VaeOps.groupNorm(x, groups, norm1W, norm1B))) {
      h = VaeOps.conv(a, conv1W, conv1B, 1); // (B, C_out, H, W)
    }
    NDArray out;
    try (NDArray a = VaeOps.siluInPlace(VaeOps.groupNorm(h, groups, norm2W, norm2B))) {
      h.close();
      out = VaeOps.conv(a, conv2W, conv2B, 1); // (B, C_out, H, W)
    }
    if (shortcutW == null) {
      return out.addi(x);
    }
    try (NDArray shortcut = VaeOps.conv(x, shortcutW, shortcutB, 0)) {
      return out.addi(shortcut);
    }
  }

  public int inChannels() {
    return inChannels;
  }

  public int outChannels() {
    return outChannels;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    return new Shape[] {new Shape(s.get(0), outChannels, s.get(2), s.get(3))};
  }
}
