package dev.odelt.model.train;

import ai.djl.ndarray.NDArray;

/**
 * Regression targets of the three training terms (DESIGN.md §1). All arrays are (B, C, H, W)
 * except times and levels (B). Time runs from noise (t = 0) to data (t = 1).
 */
public final class Targets {

  private Targets() {}

  /** x_t = (1 − t) x₀ + t x₁ for noise x₀ and data x₁. */
  public static NDArray interpolate(NDArray noise, NDArray data, NDArray t) {
    NDArray tb = broadcastable(t, noise);
    return noise.mul(tb.neg().add(1f)).add(data.mul(tb));
  }

  /** Flow matching: the instantaneous velocity x₁ − x₀, learned at the finest step level. */
  public static NDArray flowMatching(NDArray noise, NDArray data) {
    return data.sub(noise);
  }

  /**
   * Time self-consistency: one step of size 2^−d at level d equals two half steps at level d + 1
   * of the teacher. Returns the average velocity of the two half steps, (v₁ + v₂) / 2, where v₁ =
   * T(x_t, t, d+1) and v₂ = T(x_t + v₁·2^−(d+1), t + 2^−(d+1), d+1).
   *
   * @param level (B) step levels d of the student, each below the finest level
   */
  public static NDArray selfConsistency(
      Teacher teacher, NDArray xt, NDArray t, NDArray level, NDArray labels, int blocks) {
    NDArray finer = level.add(1f);
    NDArray half = finer.neg().mul((float) Math.log(2)).exp(); // 2^−(d+1), (B)
    NDArray v1 = teacher.velocity(xt, t, finer, labels, blocks);
    NDArray xMid = xt.add(v1.mul(broadcastable(half, xt)));
    NDArray v2 = teacher.velocity(xMid, t.add(half), finer, labels, blocks);
    return v1.add(v2).mul(0.5f);
  }

  /**
   * Length consistency: the teacher's velocity at a deeper block count is the target for a
   * student running fewer blocks at the same (x_t, t, d, y).
   */
  public static NDArray lengthConsistency(
      Teacher teacher, NDArray xt, NDArray t, NDArray level, NDArray labels, int teacherBlocks) {
    return teacher.velocity(xt, t, level, labels, teacherBlocks);
  }

  /**
   * A classifier-free-guided teacher: v_u + w (v_c − v_u), with v_c at the rows' labels and v_u
   * at the null label, both at the same (x, t, d, L). Used for the guided half of the
   * self-consistency rows, so one shortcut step learns the guided trajectory. (The reference
   * evaluates the conditional velocity of the second half step at the unguided midpoint; here
   * both velocities of a half step are taken at the same, guided, midpoint: a consistent guided
   * ODE step.)
   */
  public static Teacher guided(Teacher teacher, float guidance, int nullClass) {
    return (x, t, level, labels, blocks) -> {
      NDArray conditional = teacher.velocity(x, t, level, labels, blocks);
      NDArray unconditional =
          teacher.velocity(x, t, level, labels.zerosLike().add(nullClass), blocks);
      return unconditional.add(conditional.sub(unconditional).mul(guidance));
    };
  }

  /** (B) → (B, 1, 1, 1) so it broadcasts against an image batch. */
  static NDArray broadcastable(NDArray perItem, NDArray like) {
    long[] shape = new long[like.getShape().dimension()];
    java.util.Arrays.fill(shape, 1);
    shape[0] = perItem.getShape().get(0);
    return perItem.reshape(shape);
  }
}
