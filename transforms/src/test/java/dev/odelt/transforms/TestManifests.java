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
import java.util.List;

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
