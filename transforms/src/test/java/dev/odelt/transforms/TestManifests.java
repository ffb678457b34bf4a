package dev.odelt.transforms;

import dev.odelt.proto.v1.Architecture;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.QualityPoint;
import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.proto.v1.TierSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/** Hand-built model manifests and manifest files for tests. */
public final class TestManifests {

  private static final List<List<String>> SYNONYMS =
      List.of(
          List.of("zero", "nought"),
          List.of("one"),
          List.of("two"),
          List.of("three"),
          List.of("four"),
          List.of("five"),
          List.of("six"),
          List.of("seven", "sept"),
          List.of("eight"),
          List.of("nine"));

  private TestManifests() {}

  /**
   * A digits model: 10 classes "0".."9" with English synonyms, depth 6 with depth_min 2 and group 2
   * (allowed blocks 2, 4, 6), presets draft s2-b2, standard s4-b4, premium s8-b6.
   */
  public static ModelManifest digits() {
    ModelManifest.Builder b =
        ModelManifest.newBuilder()
            .setName("test-digits")
            .setVersion("1")
            .setArchitecture(
                Architecture.newBuilder()
                    .setImageSize(8)
                    .setChannels(1)
                    .setPatchSize(2)
                    .setHiddenSize(16)
                    .setNumHeads(2)
                    .setMlpRatio(2)
                    .setDepth(6)
                    .setDepthMin(2)
                    .setGroupSize(2)
                    .setNumClasses(10)
                    .setMaxStepLevel(7))
            .setDefaultTier("standard");
    for (int i = 0; i < 10; i++) {
      b.addClasses(
          ClassLabel.newBuilder()
              .setId(i)
              .setLabel(Integer.toString(i))
              .addAllSynonyms(SYNONYMS.get(i)));
    }
    b.addTiers(preset("draft", 2, 2));
    b.addTiers(preset("standard", 4, 4));
    b.addTiers(preset("premium", 8, 6));
    return b.build();
  }

  /**
   * An unconditional model: {@link #digits()}' architecture with one class (trained with the null
   * label only), {@code unconditional: true}, no class table; presets draft s2-b2, standard s4-b4
   * (the default) and guided s4-b4-g1.5 (which requests cannot use).
   */
  public static ModelManifest unconditional() {
    ModelManifest digits = digits();
    return ModelManifest.newBuilder()
        .setName("test-faces")
        .setVersion("1")
        .setUnconditional(true)
        .setArchitecture(digits.getArchitecture().toBuilder().setNumClasses(1))
        .setDefaultTier("standard")
        .addTiers(preset("draft", 2, 2))
        .addTiers(preset("standard", 4, 4))
        .addTiers(
            TierPreset.newBuilder()
                .setName("guided")
                .setTier(TierSpec.newBuilder().setSteps(4).setBlocks(4).setGuidance(1.5f)))
        .build();
  }

  /** Rows of ImageNet's class table that the synthetic 1000-class table copies (id, names). */
  public static final Map<Integer, List<String>> IMAGENET_ROWS =
      Map.of(
          0, List.of("tench", "Tinca tinca"),
          1, List.of("goldfish", "Carassius auratus"),
          134, List.of("crane"),
          207, List.of("golden retriever"),
          208, List.of("Labrador retriever"),
          248, List.of("Eskimo dog", "husky"),
          249, List.of("malamute", "malemute", "Alaskan malamute"),
          250, List.of("Siberian husky"),
          517, List.of("crane"));

  private static final String[] SYLLABLES = {
    "ka", "lo", "mi", "ner", "tu", "vas", "zo", "pe", "ri", "sol",
    "bu", "dra", "fen", "gil", "hox", "jun", "quar", "wex", "yal", "cim"
  };

  private static final String[] KINDS = {
    "beetle", "hound", "finch", "lily", "kettle", "sedan", "lizard", "moth", "ferry"
  };

  /**
   * A synthetic 1000-class table, ImageNet-style: each class has a made-up common name (three
   * syllables from its id, unique), a Latin-like binomial and eight two-word synonyms (10 names per
   * class, about 10,000 in all), except the rows of {@link #IMAGENET_ROWS}, which are copied from
   * ImageNet's label file (so "golden retriever" is class 207 and "crane" names both 134 and 517).
   */
  public static ModelManifest thousandClasses() {
    ModelManifest.Builder b =
        ModelManifest.newBuilder()
            .setName("test-imagenet")
            .setVersion("1")
            .setArchitecture(digits().getArchitecture().toBuilder().setNumClasses(1000))
            .setDefaultTier("standard")
            .addTiers(preset("standard", 4, 4));
    for (int id = 0; id < 1000; id++) {
      List<String> names = IMAGENET_ROWS.getOrDefault(id, syntheticNames(id));
      b.addClasses(
          ClassLabel.newBuilder()
              .setId(id)
              .setLabel(names.get(0))
              .addAllSynonyms(names.subList(1, names.size())));
    }
    return b.build();
  }

  /** The names of a synthetic class: common name first. */
  public static List<String> syntheticNames(int id) {
    String word =
        SYLLABLES[id % 20] + SYLLABLES[(id / 20) % 20] + SYLLABLES[(id / 400) % 20] + "ix";
    List<String> names = new ArrayList<>();
    names.add(word);
    names.add(Character.toUpperCase(word.charAt(0)) + word.substring(1) + "us " + word + "ensis");
    for (int k = 0; k < 8 && names.size() < 10; k++) {
      names.add(word + " " + KINDS[(id + k) % KINDS.length]);
    }
    return List.copyOf(new LinkedHashSet<>(names));
  }

  /** {@link #digits()} with a quality table. */
  public static ModelManifest digitsWithQuality() {
    return digits().toBuilder()
        .addQuality(quality(2, 2, 0.50, 40, 4))
        .addQuality(quality(4, 4, 0.80, 20, 16))
        .addQuality(quality(8, 2, 0.85, 18, 16))
        .addQuality(quality(8, 6, 0.95, 10, 48))
        .build();
  }

  private static TierPreset preset(String name, int steps, int blocks) {
    return TierPreset.newBuilder()
        .setName(name)
        .setTier(TierSpec.newBuilder().setSteps(steps).setBlocks(blocks).setSolver(Solver.EULER))
        .build();
  }

  private static QualityPoint quality(
      int steps, int blocks, double accuracy, double fd, double blockEvals) {
    return QualityPoint.newBuilder()
        .setTier(TierSpec.newBuilder().setSteps(steps).setBlocks(blocks))
        .setClassAccuracy(accuracy)
        .setFrechetDistance(fd)
        .setBlockEvalsPerImage(blockEvals)
        .build();
  }

  /** Writes a UTF-8 text file and returns its location. */
  public static String write(Path dir, String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.createDirectories(file.getParent());
    Files.write(file, text.getBytes(StandardCharsets.UTF_8));
    return file.toString();
  }
}
