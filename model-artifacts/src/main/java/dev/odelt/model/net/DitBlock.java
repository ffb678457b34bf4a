package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A DiT block with adaLN-zero conditioning, as in the reference: {@code Linear(SiLU(cb)) → 6D}
 * split into shift/scale/gate for attention then MLP; LayerNorm without affine (eps 1e-6);
 * attention with separate k, q, v projections, q scaled by 1/head_dim (not 1/√head_dim), softmax
 * in fp32; MLP with the tanh GELU. Inputs: tokens (B, N, D) and conditioning cb (B, D).
 */
public final class DitBlock extends NetBlock {

  private final int hidden;
  private final int heads;
  private final Parameter modW;
  private final Parameter modB;
  private final Parameter kW;
  private final Parameter kB;
  private final Parameter qW;
  private final Parameter qB;
  private final Parameter vW;
  private final Parameter vB;
  private final Parameter projW;
  private final Parameter projB;
  private final Parameter fc1W;
  private final Parameter fc1B;
  private final Parameter fc2W;
  private final Parameter fc2B;

  public DitBlock(int hidden, int heads, int mlpHidden) {
    this.hidden = hidden;
    this.heads = heads;
    modW = param("adaLN_modulation.1.weight", Parameter.Type.WEIGHT, 6L * hidden, hidden);
    modB = param("adaLN_modulation.1.bias", Parameter.Type.BIAS, 6L * hidden);
    kW = param("attn.k.weight", Parameter.Type.WEIGHT, hidden, hidden);
    kB = param("attn.k.bias", Parameter.Type.BIAS, hidden);
    qW = param("attn.q.weight", Parameter.Type.WEIGHT, hidden, hidden);
    qB = param("attn.q.bias", Parameter.Type.BIAS, hidden);
    vW = param("attn.v.weight", Parameter.Type.WEIGHT, hidden, hidden);
    vB = param("attn.v.bias", Parameter.Type.BIAS, hidden);
    projW = param("attn.proj.weight", Parameter.Type.WEIGHT, hidden, hidden);
    projB = param("attn.proj.bias", Parameter.Type.BIAS, hidden);
    fc1W = param("mlp.fc1.weight", Parameter.Type.WEIGHT, mlpHidden, hidden);
    fc1B = param("mlp.fc1.bias", Parameter.Type.BIAS, mlpHidden);
    fc2W = param("mlp.fc2.weight", Parameter.Type.WEIGHT, hidden, mlpHidden);
    fc2B = param("mlp.fc2.bias", Parameter.Type.BIAS, hidden);
  }

  /**
   * @param x (B, N, D) tokens
   * @param cb (B, D) conditioning (c + block-count embedding)
   * @param ones (D) constant ones, {@code zeros} (D) constant zeros, for the affine-free LayerNorm
   * @return (B, N, D)
   */
  public NDArray apply(
      ParameterStore ps, NDArray x, NDArray cb, NDArray ones, NDArray zeros, boolean training) {
    NDList mod =
        Ops.linear(Ops.silu(cb), value(ps, modW, x, training), value(ps, modB, x, training))
            .split(6, 1); // 6 × (B, D)
    NDArray shiftMsa = mod.get(0);
    NDArray scaleMsa = mod.get(1);
    NDArray gateMsa = mod.get(2);
    NDArray shiftMlp = mod.get(3);
    NDArray scaleMlp = mod.get(4);
    NDArray gateMlp = mod.get(5);

    NDArray h = Ops.modulate(Ops.layerNorm(x, ones, zeros), shiftMsa, scaleMsa);
    NDArray attn = attention(ps, h, training); // (B, N, D)
    x = x.add(attn.mul(gateMsa.expandDims(1)));

    NDArray h2 = Ops.modulate(Ops.layerNorm(x, ones, zeros), shiftMlp, scaleMlp);
    NDArray mlp =
        Ops.linear(
            Ops.geluTanh(
                Ops.linear(h2, value(ps, fc1W, x, training), value(ps, fc1B, x, training))),
            value(ps, fc2W, x, training),
            value(ps, fc2B, x, training)); // (B, N, D)
    return x.add(mlp.mul(gateMlp.expandDims(1)));
  }

  /** Multi-head self-attention on (B, N, D). */
  NDArray attention(ParameterStore ps, NDArray h, boolean training) {
    Shape s = h.getShape();
    long b = s.get(0);
    long n = s.get(1);
    int headDim = hidden / heads;
    NDArray k = heads(Ops.linear(h, value(ps, kW, h, training), value(ps, kB, h, training)), b, n);
    NDArray q =
        heads(Ops.linear(h, value(ps, qW, h, training), value(ps, qB, h, training)), b, n)
            .mul(Ops.scalar(h, 1f / headDim)); // the reference: 1/head_dim, not 1/√head_dim
    NDArray v = heads(Ops.linear(h, value(ps, vW, h, training), value(ps, vB, h, training)), b, n);
    NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)); // (B, H, N, N)
    NDArray weights =
        scores.getDataType() == DataType.FLOAT32
            ? scores.softmax(-1)
            : scores.toType(DataType.FLOAT32, false).softmax(-1).toType(h.getDataType(), false);
    NDArray out = weights.matMul(v).transpose(0, 2, 1, 3).reshape(b, n, hidden); // (B, N, D)
    return Ops.linear(out, value(ps, projW, h, training), value(ps, projB, h, training));
  }

  /** (B, N, D) → (B, H, N, head_dim). */
  private NDArray heads(NDArray x, long b, long n) {
    return x.reshape(b, n, heads, hidden / heads).transpose(0, 2, 1, 3);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray ones = x.getManager().ones(new Shape(hidden), x.getDataType());
    NDArray zeros = x.getManager().zeros(new Shape(hidden), x.getDataType());
    return new NDList(apply(ps, x, inputs.get(1), ones, zeros, training));
  }
}
