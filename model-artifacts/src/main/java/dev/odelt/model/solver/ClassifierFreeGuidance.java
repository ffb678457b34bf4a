package dev.odelt.model.solver;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;

/**
 * Classifier-free guidance as a {@link VelocityField}: v = v_u + w·(v_c − v_u), where v_c is the
 * velocity for each item's class and v_u the one for the null label.
 *
 * <p>Passes per evaluation: w = 1 is exactly v_c (one conditional pass); w = 0 is exactly v_u (one
 * pass with the null label); any other w runs the conditional and unconditional halves concatenated
 * in <b>one</b> batched call of 2B items. This matches {@link
 * dev.odelt.model.Tier#guidanceFactor()}.
 */
public final class ClassifierFreeGuidance implements VelocityField {

  private final ConditionalVelocity velocity;
  private final int[] labels;
  private final int nullLabel;
  private final float guidance;

  private ClassifierFreeGuidance(
      ConditionalVelocity velocity, int[] labels, int nullLabel, float guidance) {
    this.velocity = velocity;
    this.labels = labels;
    this.nullLabel = nullLabel;
    this.guidance = guidance;
  }

  /**
   * @param velocity the conditional velocity
   * @param labels class id per batch item
   * @param nullLabel the model's null label
   * @param guidance w ≥ 0
   */
  public static ClassifierFreeGuidance of(
      ConditionalVelocity velocity, int[] labels, int nullLabel, float guidance) {
    if (!(guidance >= 0) || Float.isInfinite(guidance)) {
      throw new IllegalArgumentException("guidance must be a finite number >= 0, got " + guidance);
    }
    return new ClassifierFreeGuidance(velocity, labels.clone(), nullLabel, guidance);
  }

  /** Network passes (in items) per item and evaluation: 1 for w ∈ {0, 1}, else 2. */
  public int passesPerEvaluation() {
    return guidance == 0f || guidance == 1f ? 1 : 2;
  }

  @Override
  public NDArray evaluate(NDArray x, NDArray t, int stepLevel) {
    int batch = Math.toIntExact(x.getShape().get(0));
    if (batch != labels.length) {
      throw new IllegalArgumentException(
          "batch of " + batch + " items but " + labels.length + " labels");
    }
    int[] nulls = new int[batch];
    java.util.Arrays.fill(nulls, nullLabel);
    if (guidance == 1f) {
      return velocity.evaluate(x, t, stepLevel, labels);
    }
    if (guidance == 0f) {
      return velocity.evaluate(x, t, stepLevel, nulls);
    }
    int[] both = new int[2 * batch];
    System.arraycopy(labels, 0, both, 0, batch);
    System.arraycopy(nulls, 0, both, batch, batch);
    NDArray xx = NDArrays.concat(new NDList(x, x)); // (2B, …)
    NDArray tt = NDArrays.concat(new NDList(t, t)); // (2B)
    NDList halves = velocity.evaluate(xx, tt, stepLevel, both).split(2);
    NDArray conditional = halves.get(0); // (B, …)
    NDArray unconditional = halves.get(1); // (B, …)
    return unconditional.add(conditional.sub(unconditional).mul(guidance));
  }

  @Override
  public VelocityField restrict(int[] items) {
    int[] subset = new int[items.length];
    for (int j = 0; j < items.length; j++) {
      subset[j] = labels[items[j]];
    }
    return new ClassifierFreeGuidance(velocity, subset, nullLabel, guidance);
  }
}
