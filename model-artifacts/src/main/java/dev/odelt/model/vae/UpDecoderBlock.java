package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * diffusers' UpDecoderBlock2D: {@code resnets.0 … resnets.R−1} (the first C_in → C_out, the rest
 * C_out → C_out), then, except in the last block of the decoder, {@code upsamplers.0}: nearest ×2
 * upsampling and a 3×3 convolution C_out → C_out.
 */
public final class UpDecoderBlock extends VaeBlock {

  private final List<ResnetBlock> resnets;
  private final int outChannels;
  private final Parameter upConvW;
  private final Parameter upConvB;

  /**
   * @param resnetCount R
   * @param upsample whether the block ends with ×2 upsampling
   */
  public UpDecoderBlock(
      int inChannels, int outChannels, int resnetCount, int groups, boolean upsample) {
    this.outChannels = outChannels;
    List<ResnetBlock> list = new ArrayList<>();
    for (int j = 0; j < resnetCount; j++) {
      list.add(
          child(
              "resnets." + j,
              new ResnetBlock(j == 0 ? inChannels : outChannels, outChannels, groups)));
    }
    resnets = Collections.unmodifiableList(list);
    if (upsample) {
      upConvW =
          param("upsamplers.0.conv.weight", Parameter.Type.WEIGHT, outChannels, outChannels, 3, 3);
      upConvB = param("upsamplers.0.conv.bias", Parameter.Type.BIAS, outChannels);
    } else {
      upConvW = null;
      upConvB = null;
    }
  }

  /**
   * @param x (B, C_in, H, W), left intact
   * @return (B, C_out, 2H, 2W) with upsampling, else (B, C_out, H, W)
   */
  @Override
  public NDArray apply(NDArray x) {
    NDArray h = x;
    for (ResnetBlock resnet : resnets) {
      NDArray next = resnet.apply(h);
      if (h != x) {
        h.close();
      }
      h = next;
    }
    if (upConvW == null) {
      return h == x ? h.duplicate() : h;
    }
    try (NDArray up = VaeOps.upsampleNearest2x(h)) { // (B, C_out, 2H, 2W)
      if (h != x) {
        h.close();
      }
      return VaeOps.conv(up, upConvW, upConvB, 1);
    }
  }

  public List<ResnetBlock> resnets() {
    return resnets;
  }

  public boolean upsamples() {
    return upConvW != null;
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape s = inputShapes[0];
    int f = upsamples() ? 2 : 1;
    return new Shape[] {new Shape(s.get(0), outChannels, f * s.get(2), f * s.get(3))};
  }
}
