package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The output head: {@code Linear(SiLU(c)) → (shift, scale)}, LayerNorm without affine, modulate,
 * Linear(D → p·p·C). Fed the plain conditioning c, not c + block-count embedding.
 */
public final class FinalLayer extends NetBlock {

  private final int hidden;
  private final Parameter modW;
  private final Parameter modB;
  private final Parameter linW;
  private final Parameter linB;

  public FinalLayer(int hidden, int patchValues) {
    this.hidden = hidden;
    modW = param("adaLN_modulation.1.weight", Parameter.Type.WEIGHT, 2L * hidden, hidden);
    modB = param("adaLN_modulation.1.bias", Parameter.Type.BIAS, 2L * hidden);
    linW = param("linear.weight", Parameter.Type.WEIGHT, patchValues, hidden);
    linB = param("linear.bias", Parameter.Type.BIAS, patchValues);
  }

  /**
   * @param x (B, N, D)
   * @param c (B, D)
   * @return (B, N, p·p·C)
   */
  public NDArray apply(
      ParameterStore ps, NDArray x, NDArray c, NDArray ones, NDArray zeros, boolean training) {
    NDList mod =
        Ops.linear(Ops.silu(c), value(ps, modW, x, training), value(ps, modB, x, training))
            .split(2, 1);
    NDArray h = Ops.modulate(Ops.layerNorm(x, ones, zeros), mod.get(0), mod.get(1));
    return Ops.linear(h, value(ps, linW, x, training), value(ps, linB, x, training));
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray ones = Ops.castLike(x.getManager().ones(new Shape(hidden)), x);
    NDArray zeros = Ops.castLike(x.getManager().zeros(new Shape(hidden)), x);
    return new NDList(apply(ps, x, inputs.get(1), ones, zeros, training));
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    Shape x = inputShapes[0];
    return new Shape[] {new Shape(x.get(0), x.get(1), linW.getArray().getShape().get(0))};
  }
}
