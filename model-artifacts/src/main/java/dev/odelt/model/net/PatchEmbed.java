package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/** Patchify: a p×p, stride-p convolution from (B, C, H, W) to N = (H/p)(W/p) tokens of width D. */
public final class PatchEmbed extends NetBlock {

  private final int patch;
  private final Parameter weight;
  private final Parameter bias;

  public PatchEmbed(int channels, int patch, int hidden) {
    this.patch = patch;
    weight = param("proj.weight", Parameter.Type.WEIGHT, hidden, channels, patch, patch);
    bias = param("proj.bias", Parameter.Type.BIAS, hidden);
  }

  /**
   * @param x (B, C, H, W)
   * @return (B, N, D), tokens in row-major (h, w) order
   */
  public NDArray embed(ParameterStore ps, NDArray x, boolean training) {
    NDArray w = value(ps, weight, x, training);
    NDArray y =
        Conv2d.conv2d(
                Ops.castLike(x, w), // the network's number format on entry
                w,
                value(ps, bias, x, training),
                new Shape(patch, patch))
            .singletonOrThrow(); // (B, D, h, w)
    Shape s = y.getShape();
    return y.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1); // (B, N, D)
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(embed(ps, inputs.singletonOrThrow(), training));
  }
}
