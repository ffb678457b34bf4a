package dev.odelt.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (decoupled weight decay) with global-norm gradient clipping, updating parameter arrays in
 * place. Weight decay applies to every parameter (as optax.adamw without a mask, the reference's
 * optimizer) or, when built so, to matrices and convolution kernels only, not to biases or
 * embedding tables. Its moment arrays are named like the parameters so a checkpoint can hold them.
 */
public final class AdamW {

  private static final NDIndex ALL = new NDIndex("...");

  private final float beta1;
  private final float beta2;
  private final float eps;
  private final float weightDecay;
  private final boolean decayAll;
  private final NDManager manager;
  private final Map<String, NDArray> params;
  private final Map<String, NDArray> m = new LinkedHashMap<>();
  private final Map<String, NDArray> v = new LinkedHashMap<>();
  private final java.util.List<String> nonFinite = new java.util.ArrayList<>();

  /** Decays matrices and kernels only. */
  public AdamW(Map<String, NDArray> params, NDManager manager, float weightDecay) {
    this(params, manager, 0.9f, 0.999f, 1e-8f, weightDecay, false);
  }

  /** {@code decayAll}: decay every parameter (the reference), else matrices and kernels only. */
  public AdamW(
      Map<String, NDArray> params, NDManager manager, float weightDecay, boolean decayAll) {
    this(params, manager, 0.9f, 0.999f, 1e-8f, weightDecay, decayAll);
  }

  public AdamW(
      Map<String, NDArray> params,
      NDManager manager,
      float beta1,
      float beta2,
      float eps,
      float weightDecay,
      boolean decayAll) {
    this.params = params;
    this.decayAll = decayAll;
    this.manager = manager;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    for (Map.Entry<String, NDArray> e : params.entrySet()) {
      m.put(e.getKey(), manager.zeros(e.getValue().getShape()));
      v.put(e.getKey(), manager.zeros(e.getValue().getShape()));
    }
  }

  /** First moments by parameter name (for checkpoints). */
  public Map<String, NDArray> firstMoments() {
    return m;
  }

  /** Second moments by parameter name (for checkpoints). */
  public Map<String, NDArray> secondMoments() {
    return v;
  }

  private boolean decays(String name) {
    return decayAll || (name.endsWith(".weight") && !name.endsWith("embedding_table.weight"));
  }

  /**
   * One update from the gradients currently attached to the parameters.
   *
   * @param step 1-based step count (bias correction)
   * @param clipNorm clip the global gradient norm to this (≤ 0: no clipping)
   * @return the global gradient norm before clipping; when it is not finite nothing is updated
   */
  public float step(int step, float learningRate, float clipNorm) {
    // Temporaries created from parameters belong to the parameters' manager; each is attached
    // to a scratch manager right away so it is freed with it. That includes the gradient
    // handles: getGradient() is a new reference to the parameter's .grad, which backward
    // accumulates into in place, so closing the handle frees nothing the parameter still uses.
    try (NDManager scratch = manager.newSubManager()) {
      Map<String, NDArray> grads = new LinkedHashMap<>();
      double sumSquares = 0;
      for (Map.Entry<String, NDArray> e : params.entrySet()) {
        NDArray g = scoped(scratch, e.getValue().getGradient());
        grads.put(e.getKey(), g);
        sumSquares += scoped(scratch, scoped(scratch, g.square()).sum()).getFloat();
      }
      float norm = (float) Math.sqrt(sumSquares);
      if (!Float.isFinite(norm)) {
        nonFinite.clear();
        for (Map.Entry<String, NDArray> e : grads.entrySet()) {
          NDArray g = e.getValue();
          if (!Float.isFinite(scoped(scratch, scoped(scratch, g.abs()).max()).getFloat())) {
            nonFinite.add(e.getKey());
          }
          // In place: set(float[]) would swap .grad's storage for a Java buffer owned by this
          // handle, freed once the handle is closed while the parameter still points at it.
          g.set(ALL, scratch.zeros(new Shape())); // subi would keep NaN - NaN
        }
        return norm; // no update from a non-finite gradient
      }
      float scale = clipNorm > 0 && norm > clipNorm ? clipNorm / (norm + 1e-6f) : 1f;
      float bc1 = 1f - (float) Math.pow(beta1, step);
      float bc2 = 1f - (float) Math.pow(beta2, step);
      for (Map.Entry<String, NDArray> e : params.entrySet()) {
        String name = e.getKey();
        NDArray p = e.getValue();
        NDArray mi = m.get(name);
        NDArray vi = v.get(name);
        NDArray g = scoped(scratch, grads.get(name).mul(scale));
        NDArray g2 = scoped(scratch, g.square());
        mi.muli(beta1).addi(g.muli(1f - beta1));
        vi.muli(beta2).addi(g2.muli(1f - beta2));
        if (weightDecay > 0 && decays(name)) {
          p.muli(1f - learningRate * weightDecay);
        }
        NDArray denom = scoped(scratch, scoped(scratch, vi.div(bc2)).sqrt()).addi(eps);
        NDArray update = scoped(scratch, mi.div(bc1)).divi(denom).muli(learningRate);
        p.subi(update);
      }
      for (NDArray g : grads.values()) {
        g.subi(g); // PyTorch accumulates gradients across backward calls
      }
      return norm;
    }
  }

  /** Parameters whose gradient was not finite in the last skipped step. */
  public java.util.List<String> nonFiniteGradients() {
    return java.util.List.copyOf(nonFinite);
  }

  private static NDArray scoped(NDManager scratch, NDArray temporary) {
    temporary.attach(scratch);
    return temporary;
  }
}
