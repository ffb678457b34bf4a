package dev.odelt.model.solver;

import ai.djl.ndarray.NDArray;

/**
 * A velocity v(x, t) for a batch of independent items, as the solvers see it.
 *
 * <p>Items never interact: row i of the result depends only on row i of {@code x} and {@code t}
 * (and on whatever per-item conditioning the field carries, such as a class label). That is what
 * lets an adaptive solver give each item its own time and evaluate only the items still running.
 */
@FunctionalInterface
public interface VelocityField {

  /**
   * Evaluates the velocity.
   *
   * @param x states, shape (B, …)
   * @param t times in [0, 1] per item, shape (B), same data type as {@code x}
   * @param stepLevel the time step level d the network is conditioned on (d = log2 of the step
   *     count it was trained for; {@link StepLevels})
   * @return velocities, shape (B, …), owned by the manager of {@code x}
   */
  NDArray evaluate(NDArray x, NDArray t, int stepLevel);

  /**
   * The same field restricted to some of its items: row j of a call on the result is row {@code
   * items[j]} of this field. The default returns {@code this}, which is right only for fields
   * without per-item conditioning; fields that carry per-item data (labels) override it.
   */
  default VelocityField restrict(int[] items) {
    return this;
  }
}
