package dev.odelt.model.solver;

import ai.djl.ndarray.NDArray;

/** A class-conditional velocity v(x, t | y), typically one network forward pass. */
@FunctionalInterface
public interface ConditionalVelocity {

  /**
   * @param x states, shape (B, …)
   * @param t times per item, shape (B)
   * @param stepLevel the time step level d
   * @param labels class id per item (the model's null label for the unconditional velocity)
   * @return velocities, shape (B, …)
   */
  NDArray evaluate(NDArray x, NDArray t, int stepLevel, int[] labels);
}
