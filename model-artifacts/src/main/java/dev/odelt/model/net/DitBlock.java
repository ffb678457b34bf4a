package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.odelt.model.Precision;

/**
 * A DiT block with adaLN-zero conditioning, as in the reference: {@code Linear(SiLU(cb)) → 6D}
 * split into shift/scale/gate for attention then MLP; LayerNorm without affine (eps 1e-6);
 * attention with separate k, q, v projection parameters (run as one fused product), q scaled by
 * 1/head_dim (not 1/√head_dim), softmax in fp32; MLP with the tanh GELU. Inputs: tokens (B, N, D)
 * and conditioning cb (B, D).
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

    // When nothing records gradients (inference: the Sampler turns PyTorch's grad mode off; the
    // EMA teacher) the element-wise steps work in place on fresh activations: the same arithmetic
    // in the same order, fewer batch-sized allocations. DJL's in-place ops do not record autograd
    // history, so any other call keeps the out-of-place path.
    boolean inPlace = !training && !recordingGradients(x);
    NDArray h = Ops.modulate(Ops.layerNorm(x, ones, zeros), shiftMsa, scaleMsa, inPlace);
    NDArray attn = attention(ps, h, training); // (B, N, D)
    x = Ops.gatedResidual(x, attn, gateMsa, inPlace);

    NDArray h2 = Ops.modulate(Ops.layerNorm(x, ones, zeros), shiftMlp, scaleMlp, inPlace);
    NDArray hidden1 = Ops.linear(h2, value(ps, fc1W, x, training), value(ps, fc1B, x, training));
    NDArray mlp =
        Ops.linear(
            inPlace ? Ops.geluTanhInPlace(hidden1) : Ops.geluTanh(hidden1),
            value(ps, fc2W, x, training),
            value(ps, fc2B, x, training)); // (B, N, D)
    return Ops.gatedResidual(x, mlp, gateMlp, inPlace);
  }

  /**
   * Multi-head self-attention on (B, N, D). The k, q and v projections run as one (D → 3D) matrix
   * multiply on weights concatenated per call (their parameters stay separate, so names, files and
   * gradients are unchanged): one larger product is cheaper on CPU than three small ones.
   */
  NDArray attention(ParameterStore ps, NDArray h, boolean training) {
    Shape s = h.getShape();
    long b = s.get(0);
    long n = s.get(1);
    int headDim = hidden / heads;
    NDManager scope = h.getManager();
    // Concatenation results belong to the first operand's (the weights') manager: move them to
    // the call's scope so they are freed with it.
    NDArray weight =
        NDArrays.concat(
            new NDList(
                value(ps, kW, h, training), value(ps, qW, h, training), value(ps, vW, h, training)),
            0); // (3D, D)
    weight.attach(scope);
    NDArray bias =
        NDArrays.concat(
            new NDList(
                value(ps, kB, h, training), value(ps, qB, h, training), value(ps, vB, h, training)),
            0); // (3D)
    bias.attach(scope);
    NDList kqv =
        Ops.linear(h, weight, bias)
            .reshape(b, n, 3, heads, headDim)
            .transpose(2, 0, 3, 1, 4) // (3, B, H, N, head_dim)
            .split(3, 0);
    NDArray k = kqv.get(0).squeeze(0); // (B, H, N, head_dim)
    NDArray q = kqv.get(1).squeeze(0).mul(Ops.scalar(h, 1f / headDim)); // the reference: 1/head_dim
    NDArray v = kqv.get(2).squeeze(0);
    NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)); // (B, H, N, N)
    Precision precision = Precision.of(scores);
    NDArray weights =
        precision == Precision.FP32
            ? scores.softmax(-1)
            : precision.cast(scores.toType(DataType.FLOAT32, false).softmax(-1)); // fp32 softmax
    NDArray out = weights.matMul(v).transpose(0, 2, 1, 3).reshape(b, n, hidden); // (B, N, D)
    return Ops.linear(out, value(ps, projW, h, training), value(ps, projB, h, training));
  }

  /** Whether PyTorch would record autograd history for ops on {@code x} now. */
  private static boolean recordingGradients(NDArray x) {
    return "PyTorch".equals(x.getManager().getEngine().getEngineName()) && JniUtils.isGradMode();
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.get(0);
    NDArray ones = Ops.castLike(x.getManager().ones(new Shape(hidden)), x);
    NDArray zeros = Ops.castLike(x.getManager().zeros(new Shape(hidden)), x);
    return new NDList(apply(ps, x, inputs.get(1), ones, zeros, training));
  }
}
