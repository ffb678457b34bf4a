package dev.odelt.model.solver;

import ai.djl.ndarray.NDArray;

/**
 * Integrates dx/dt = v(x, t) from t = 0 (noise) to t = 1 (data) for a batch of items.
 *
 * <p>Every solver keeps items independent: an item's result depends on its own start state and
 * conditioning only, never on which other items share the batch (up to float rounding of batched
 * kernels). Intermediate arrays are freed step by step, so memory does not grow with the step
 * count.
 */
public interface OdeSolver {

  /**
   * Solves the ODE.
   *
   * @param field the velocity
   * @param x0 start states at t = 0, shape (B, …); left untouched
   * @return x(1) (owned by the manager of {@code x0}) with per-item evaluation counts
   */
  OdeSolution solve(VelocityField field, NDArray x0);

  /** A short name such as {@code euler} or {@code dopri5}. */
  String name();
}
