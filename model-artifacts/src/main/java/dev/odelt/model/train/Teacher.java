package dev.odelt.model.train;

import ai.djl.ndarray.NDArray;

/** A velocity field used to build targets: the EMA network in training, an analytic one in tests. */
@FunctionalInterface
public interface Teacher {

  /**
   * @param x (B, C, H, W)
   * @param t (B) times
   * @param stepLevel (B) step levels d
   * @param labels (B) class ids (null label allowed)
   * @param blocks L
   * @return (B, C, H, W) velocity
   */
  NDArray velocity(NDArray x, NDArray t, NDArray stepLevel, NDArray labels, int blocks);
}
