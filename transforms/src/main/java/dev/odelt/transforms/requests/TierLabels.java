package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.RequestedTier;
import dev.odelt.proto.v1.Solver;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads tier labels as {@link dev.odelt.model.Tier#label()} writes them: {@code
 * s<steps>-b<blocks>[-<solver>][-g<guidance>][-tol<tolerance>]}, e.g. {@code s4-b6}, {@code
 * s8-b4-heun}, {@code s16-b6-g2}. Range checks happen later, against the model.
 */
public final class TierLabels {

  private static final Pattern LABEL =
      Pattern.compile(
          "s(\\d{1,9})-b(\\d{1,9})(?:-(euler|heun|midpoint|rk4|dopri5))?"
              + "(?:-g(\\d+(?:\\.\\d+)?))?(?:-tol(\\d*\\.?\\d+(?:[eE]-?\\d+)?))?");

  private TierLabels() {}

  /** The tier a label spells, or empty when the text is not a tier label. */
  public static Optional<RequestedTier> parse(String label) {
    Matcher m = LABEL.matcher(label.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      return Optional.empty();
    }
    RequestedTier.Builder b =
        RequestedTier.newBuilder()
            .setSteps(Integer.parseInt(m.group(1)))
            .setBlocks(Integer.parseInt(m.group(2)))
            .setSolver(
                m.group(3) == null
                    ? Solver.EULER
                    : Solver.valueOf(m.group(3).toUpperCase(Locale.ROOT)));
    if (m.group(4) != null) {
      b.setGuidance(Float.parseFloat(m.group(4)));
    }
    if (m.group(5) != null) {
      b.setTolerance(Float.parseFloat(m.group(5)));
    }
    return Optional.of(b.build());
  }
}
