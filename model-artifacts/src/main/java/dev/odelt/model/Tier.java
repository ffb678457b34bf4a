package dev.odelt.model;

import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.TierSpec;
import java.math.BigDecimal;
import java.util.Locale;

/**
 * A cost tier: S time steps with a solver, L transformer blocks, a guidance weight and (for the
 * adaptive solver) a tolerance. Immutable; {@link #label()} is a stable, readable name used in
 * output paths, e.g. {@code s4-b6}, {@code s8-b4-heun}, {@code s16-b6-g2}, {@code
 * s8-b6-dopri5-tol0.0001}.
 *
 * @param steps S ≥ 1 (for {@link Solver#DOPRI5}, the initial step count)
 * @param blocks L, one of {@link ModelConfig#allowedBlocks()}
 * @param solver never {@link Solver#SOLVER_UNSPECIFIED} (normalised to EULER)
 * @param guidance classifier-free guidance weight w ≥ 0; 1 means a single conditional pass, 0 a
 *     single pass with the null label
 * @param tolerance rtol = atol for DOPRI5; ignored (and normalised to the default) otherwise
 */
public record Tier(int steps, int blocks, Solver solver, float guidance, float tolerance) {

  public static final float DEFAULT_GUIDANCE = 1f;
  public static final float DEFAULT_TOLERANCE = 1e-3f;

  public Tier {
    if (solver == null || solver == Solver.SOLVER_UNSPECIFIED || solver == Solver.UNRECOGNIZED) {
      solver = Solver.EULER;
    }
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }
    if (blocks < 1) {
      throw new IllegalArgumentException("blocks must be >= 1, got " + blocks);
    }
    if (!(guidance >= 0) || Float.isInfinite(guidance)) {
      throw new IllegalArgumentException("guidance must be a finite number >= 0, got " + guidance);
    }
    if (solver != Solver.DOPRI5) {
      tolerance = DEFAULT_TOLERANCE;
    } else if (!(tolerance > 0) || tolerance >= 1) {
      throw new IllegalArgumentException("tolerance must be in (0, 1), got " + tolerance);
    }
  }

  /** An Euler tier with guidance 1. */
  public static Tier of(int steps, int blocks) {
    return new Tier(steps, blocks, Solver.EULER, DEFAULT_GUIDANCE, DEFAULT_TOLERANCE);
  }

  public Tier withSolver(Solver newSolver) {
    return new Tier(steps, blocks, newSolver, guidance, tolerance);
  }

  public Tier withGuidance(float newGuidance) {
    return new Tier(steps, blocks, solver, newGuidance, tolerance);
  }

  public Tier withTolerance(float newTolerance) {
    return new Tier(steps, blocks, solver, guidance, newTolerance);
  }

  /** Reads a tier from its proto form; unset guidance is 1, unset tolerance 1e-3. */
  public static Tier fromProto(TierSpec spec) {
    return new Tier(
        spec.getSteps(),
        spec.getBlocks(),
        spec.getSolver(),
        spec.hasGuidance() ? spec.getGuidance() : DEFAULT_GUIDANCE,
        spec.hasTolerance() ? spec.getTolerance() : DEFAULT_TOLERANCE);
  }

  public TierSpec toProto() {
    TierSpec.Builder b = TierSpec.newBuilder().setSteps(steps).setBlocks(blocks).setSolver(solver);
    if (guidance != DEFAULT_GUIDANCE) {
      b.setGuidance(guidance);
    }
    if (solver == Solver.DOPRI5 && tolerance != DEFAULT_TOLERANCE) {
      b.setTolerance(tolerance);
    }
    return b.build();
  }

  /**
   * Whether classifier-free guidance needs both halves (w ∉ {0, 1}). w = 1 is one conditional pass;
   * w = 0 is exactly the unconditional velocity, one pass with the null label.
   */
  public boolean usesGuidance() {
    return guidance != 1f && guidance != 0f;
  }

  /**
   * Network passes per velocity evaluation: 2 when both halves run (batched in one call), 1 for w =
   * 1 (conditional only) and w = 0 (null label only).
   */
  public int guidanceFactor() {
    return usesGuidance() ? 2 : 1;
  }

  /** The stable label: {@code s<steps>-b<blocks>[-<solver>][-g<w>][-tol<t>]}. */
  public String label() {
    StringBuilder sb = new StringBuilder().append('s').append(steps).append("-b").append(blocks);
    if (solver != Solver.EULER) {
      sb.append('-').append(solver.name().toLowerCase(Locale.ROOT));
    }
    if (guidance != DEFAULT_GUIDANCE) {
      sb.append("-g").append(plain(guidance));
    }
    if (solver == Solver.DOPRI5 && tolerance != DEFAULT_TOLERANCE) {
      sb.append("-tol").append(plain(tolerance));
    }
    return sb.toString();
  }

  /**
   * Parses a label as {@link #label()} writes it: {@code s<steps>-b<blocks>} then optional parts
   * {@code -euler|-heun|-midpoint|-rk4|-dopri5}, {@code -g<guidance>}, {@code -tol<tolerance>}.
   *
   * @throws IllegalArgumentException naming the label and what is wrong with it
   */
  public static Tier parse(String label) {
    String[] parts = label.trim().toLowerCase(Locale.ROOT).split("-");
    if (parts.length < 2 || !parts[0].startsWith("s") || !parts[1].startsWith("b")) {
      throw new IllegalArgumentException(
          "Tier '" + label + "' must look like s<steps>-b<blocks>[-solver][-g<w>][-tol<t>]");
    }
    try {
      int steps = Integer.parseInt(parts[0].substring(1));
      int blocks = Integer.parseInt(parts[1].substring(1));
      Solver solver = Solver.EULER;
      float guidance = DEFAULT_GUIDANCE;
      float tolerance = DEFAULT_TOLERANCE;
      for (int i = 2; i < parts.length; i++) {
        String part = parts[i];
        if (part.startsWith("tol")) {
          tolerance = Float.parseFloat(part.substring(3));
        } else if (part.startsWith("g") && part.length() > 1 && !part.equals("gpu")) {
          guidance = Float.parseFloat(part.substring(1));
        } else {
          solver = Solver.valueOf(part.toUpperCase(Locale.ROOT));
        }
      }
      return new Tier(steps, blocks, solver, guidance, tolerance);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Tier '" + label + "': " + e.getMessage(), e);
    }
  }

  private static String plain(float value) {
    return new BigDecimal(Float.toString(value)).stripTrailingZeros().toPlainString();
  }

  @Override
  public String toString() {
    return label();
  }
}
