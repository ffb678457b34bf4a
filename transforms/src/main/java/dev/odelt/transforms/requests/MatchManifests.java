package dev.odelt.transforms.requests;

import dev.odelt.storage.Globs;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Expands {@code --requests}: comma-separated globs (commas inside {@code {a,b}} belong to the
 * glob) over any {@link ObjectStore}, to a sorted, duplicate-free list of manifest locations. Done
 * once when the job starts, so a typo fails at once instead of producing an empty run.
 */
public final class MatchManifests {

  private MatchManifests() {}

  /**
   * The manifests the globs match.
   *
   * @throws IllegalArgumentException when a glob matches nothing (naming it)
   * @throws IOException when a store cannot be listed
   */
  public static List<String> match(String globs) throws IOException {
    TreeSet<String> out = new TreeSet<>();
    for (String glob : split(globs)) {
      ObjectStore store = ObjectStores.forLocation(glob);
      List<String> matched = new ArrayList<>();
      try (Stream<String> found = store.list(glob)) {
        found.forEach(matched::add);
      }
      if (matched.isEmpty() && !Globs.hasWildcard(glob) && store.exists(glob)) {
        matched.add(glob);
      }
      if (matched.isEmpty()) {
        throw new IllegalArgumentException("--requests: nothing matches '" + glob + "'");
      }
      out.addAll(matched);
    }
    return new ArrayList<>(out);
  }

  /** Splits at commas outside braces; trims; drops empty parts. */
  static List<String> split(String globs) {
    List<String> parts = new ArrayList<>();
    StringBuilder sb = new StringBuilder();
    int depth = 0;
    for (char c : globs.toCharArray()) {
      if (c == '{') {
        depth++;
      } else if (c == '}' && depth > 0) {
        depth--;
      }
      if (c == ',' && depth == 0) {
        parts.add(sb.toString().trim());
        sb.setLength(0);
      } else {
        sb.append(c);
      }
    }
    parts.add(sb.toString().trim());
    parts.removeIf(String::isEmpty);
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("--requests is empty");
    }
    return parts;
  }
}
