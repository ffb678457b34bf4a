package dev.odelt.model.solver;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;

/**
 * The end state x(1) of a batch and how many velocity evaluations each item needed.
 *
 * <p>An evaluation is counted per item: evaluating the field on a batch of 5 items counts 1 for
 * each of them. Fixed-step solvers give every item the same count; Dormand–Prince does not.
 */
public final class OdeSolution {

  private final NDArray x;
  private final long[] evaluations;

  public OdeSolution(NDArray x, long[] evaluations) {
    if (x.getShape().get(0) != evaluations.length) {
      throw new IllegalArgumentException(
          "batch " + x.getShape() + " does not match " + evaluations.length + " counts");
    }
    this.x = x;
    this.evaluations = evaluations.clone();
  }

  /** The states at t = 1, shape (B, …), owned by the manager of the solver's input. */
  public NDArray x() {
    return x;
  }

  /** Velocity evaluations item {@code item} used. */
  public long evaluations(int item) {
    return evaluations[item];
  }

  /** Velocity evaluations per item, a copy. */
  public long[] evaluationsPerItem() {
    return evaluations.clone();
  }

  /** Sum of the per-item evaluations over the batch. */
  public long totalEvaluations() {
    return Arrays.stream(evaluations).sum();
  }
}
