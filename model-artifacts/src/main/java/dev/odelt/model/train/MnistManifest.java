package dev.odelt.model.train;

import dev.odelt.model.Tier;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Normalization;
import dev.odelt.proto.v1.Provenance;
import dev.odelt.proto.v1.QualityPoint;
import dev.odelt.proto.v1.TierPreset;
import java.util.List;
import java.util.Map;

/** The manifest of the shipped MNIST model: labels with synonyms, presets, provenance. */
public final class MnistManifest {

  /** Digit words used to resolve prompts ("a handwritten seven"); English first. */
  static final List<List<String>> SYNONYMS =
      List.of(
          List.of("zero", "nought", "naught", "null", "cero", "zéro"),
          List.of("one", "uno", "un", "eins"),
          List.of("two", "dos", "deux", "zwei"),
          List.of("three", "tres", "trois", "drei"),
          List.of("four", "cuatro", "quatre", "vier"),
          List.of("five", "cinco", "cinq", "fünf", "funf"),
          List.of("six", "seis", "sechs"),
          List.of("seven", "siete", "sept", "sieben"),
          List.of("eight", "ocho", "huit", "acht"),
          List.of("nine", "nueve", "neuf", "neun"));

  static final String DESCRIPTION =
      "Class-conditional MNIST digits (32×32, 1 channel) with ODE_t(ODE_l) time and length"
          + " shortcuts: 1–128 steps, 2/4/6 blocks. See MODEL_CARD.md.";

  private MnistManifest() {}

  /**
   * @param description empty for the standard description
   * @param presets preset name → tier, in order (the first named "standard" is the default)
   * @param quality measured quality per tier (may be empty)
   */
  public static ModelManifest build(
      String version,
      String description,
      Map<String, Tier> presets,
      Map<String, String> presetDescriptions,
      List<QualityPoint> quality,
      Provenance provenance) {
    ModelManifest.Builder b =
        ModelManifest.newBuilder()
            .setName("odelt-mnist")
            .setVersion(version)
            .setDescription(description.isEmpty() ? DESCRIPTION : description)
            .setNormalization(
                Normalization.newBuilder().setSpace("pixel").setScale(0.5f).setShift(0.5f))
            .setProvenance(provenance)
            .setDefaultTier("standard")
            .addAllQuality(quality);
    for (int k = 0; k < SYNONYMS.size(); k++) {
      b.addClasses(
          ClassLabel.newBuilder()
              .setId(k)
              .setLabel(Integer.toString(k))
              .addAllSynonyms(SYNONYMS.get(k)));
    }
    for (Map.Entry<String, Tier> e : presets.entrySet()) {
      b.addTiers(
          TierPreset.newBuilder()
              .setName(e.getKey())
              .setTier(e.getValue().toProto())
              .setDescription(presetDescriptions.getOrDefault(e.getKey(), "")));
    }
    return b.build();
  }
}
