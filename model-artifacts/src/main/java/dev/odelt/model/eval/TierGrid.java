package dev.odelt.model.eval;

import dev.odelt.model.Tier;
import dev.odelt.proto.v1.Solver;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * Tier lists for evaluation: labels as {@link Tier#label()} writes them ({@code
 * s<steps>-b<blocks>[-<solver>][-g<guidance>][-tol<tolerance>]}, e.g. {@code s4-b6}, {@code
 * s8-b4-heun}, {@code s16-b6-g2}) and cross products of steps × blocks × solvers × guidances. Lists
 * keep their order and drop repeats.
 */
public final class TierGrid {

  private TierGrid() {}

  /**
   * The tier a label spells ({@link Tier#parse}); {@code parseLabel(t.label()).equals(t)} for every
   * tier t.
   *
   * @throws IllegalArgumentException when the text is not a tier label or names an invalid tier
   */
  public static Tier parseLabel(String label) {
    return Tier.parse(label);
  }

  /** Comma-separated labels, e.g. {@code s1-b2,s4-b6}; blanks are ignored. */
  public static List<Tier> parseList(String labels) {
    LinkedHashSet<Tier> tiers = new LinkedHashSet<>();
    for (String part : labels.split(",")) {
      if (!part.isBlank()) {
        tiers.add(parseLabel(part));
      }
    }
    return List.copyOf(tiers);
  }

  /** Every combination, steps varying slowest, then blocks, solvers, guidances. */
  public static List<Tier> crossProduct(
      List<Integer> steps, List<Integer> blocks, List<Solver> solvers, List<Float> guidances) {
    LinkedHashSet<Tier> tiers = new LinkedHashSet<>();
    for (int s : steps) {
      for (int b : blocks) {
        for (Solver solver : solvers) {
          for (float g : guidances) {
            tiers.add(Tier.of(s, b).withSolver(solver).withGuidance(g));
          }
        }
      }
    }
    return List.copyOf(tiers);
  }

  /** Comma-separated integers. */
  static List<Integer> parseInts(String text) {
    List<Integer> out = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        out.add(Integer.parseInt(part.trim()));
      }
    }
    return out;
  }

  /** Comma-separated floats. */
  static List<Float> parseFloats(String text) {
    List<Float> out = new ArrayList<>();
    for (String part : text.split(",")) {
      if (!part.isBlank()) {
        out.add(Float.parseFloat(part.trim()));
      }
    }
    return out;
  }

  /** Comma-separated solver names (case-insensitive). */
  static List<Solver> parseSolvers(String text) {
    List<Solver> out = new ArrayList<>();
    for (String part : text.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      Solver solver;
      try {
        solver = Solver.valueOf(part.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("unknown solver '" + part.trim() + "'", e);
      }
      if (solver == Solver.SOLVER_UNSPECIFIED || solver == Solver.UNRECOGNIZED) {
        throw new IllegalArgumentException("unknown solver '" + part.trim() + "'");
      }
      out.add(solver);
    }
    return out;
  }
}
