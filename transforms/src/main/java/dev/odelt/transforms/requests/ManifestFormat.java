package dev.odelt.transforms.requests;

import java.util.Locale;
import java.util.Optional;

/** The manifest formats, chosen by file extension. */
public enum ManifestFormat {
  /** {@code .jsonl}: one proto3-JSON {@code GenerationRequest} per line. */
  JSONL,
  /** {@code .csv}: a class manifest with a header row. */
  CSV,
  /** {@code .txt}: one prompt per line. */
  TXT;

  /** The format of a location by its extension (case-insensitive), if it is a known one. */
  public static Optional<ManifestFormat> of(String location) {
    String lower = location.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) {
      return Optional.of(JSONL);
    }
    if (lower.endsWith(".csv")) {
      return Optional.of(CSV);
    }
    if (lower.endsWith(".txt")) {
      return Optional.of(TXT);
    }
    return Optional.empty();
  }
}
