package dev.odelt.model.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.odelt.model.Tier;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Solver;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluateTiersTest {

  @TempDir static Path shared;
  private static String model;

  @BeforeAll
  static void writeModel() {
    model = TestModels.writeRandomPackage(shared.resolve("model"), TestModels.TINY, 42);
  }

  private static EvaluateTiers.Options options(Path out, String... extra) {
    String[] args = new String[extra.length + 5];
    args[0] = "--model=" + model;
    args[1] = "--out=" + out;
    args[2] = "--perClass=2";
    args[3] = "--batch=8";
    args[4] = "--device=cpu";
    System.arraycopy(extra, 0, args, 5, extra.length);
    return EvaluateTiers.Options.parse(args);
  }

  @Test
  void tinyRandomModelEndToEnd(@TempDir Path dir) throws IOException {
    Path out = dir.resolve("a");
    EvaluateTiers.Report report =
        EvaluateTiers.run(options(out, "--tiers=s1-b2,s2-b4-heun,s2-b2-g2", "--gridColumns=3"));

    assertEquals(2, report.perClass());
    assertEquals(List.of("s1-b2", "s2-b4-heun", "s2-b2-g2"), labels(report.tiers()));
    // NFE(solver, S) and NFE × L × guidance factor.
    double[][] cost = {{1, 2}, {4, 16}, {2, 8}};
    for (int i = 0; i < 3; i++) {
      EvaluateTiers.TierResult r = report.tiers().get(i);
      assertEquals(20, r.images());
      assertEquals(cost[i][0], r.velocityEvaluationsPerImage(), 0, r.label());
      assertEquals(cost[i][1], r.blockEvaluationsPerImage(), 0, r.label());
      assertTrue(r.classAccuracy() >= 0 && r.classAccuracy() <= 1, r.label());
      assertEquals(10, r.perClassAccuracy().size());
      assertTrue(Double.isFinite(r.frechetDistance()) && r.frechetDistance() > 0, r.label());
      assertEquals(
          Math.sqrt(r.classAccuracy() * (1 - r.classAccuracy()) / 20),
          r.classAccuracyStandardError(),
          1e-12,
          r.label());
      assertTrue(
          r.frechetDistanceStandardError() > 0
              && r.frechetDistanceStandardError() < r.frechetDistance(),
          r.label() + " FD " + r.frechetDistance() + " ± " + r.frechetDistanceStandardError());
      assertTrue(r.secondsPerImage() > 0);
    }
    // The real reference: 2 training digits per class, correctly classified by and large, and
    // far closer to the held-out digits than random-weight noise is.
    EvaluateTiers.TierResult real = report.real();
    assertEquals(20, real.images());
    assertNull(real.tier());
    assertTrue(real.classAccuracy() >= 0.9, "real accuracy " + real.classAccuracy());
    for (EvaluateTiers.TierResult r : report.tiers()) {
      assertTrue(real.frechetDistance() < r.frechetDistance(), r.label());
    }

    JsonObject json =
        JsonParser.parseString(Files.readString(out.resolve("report.json"))).getAsJsonObject();
    JsonArray tiers = json.getAsJsonArray("tiers");
    assertEquals(3, tiers.size());
    JsonObject heun = tiers.get(1).getAsJsonObject();
    assertEquals("s2-b4-heun", heun.get("label").getAsString());
    assertEquals("heun", heun.get("solver").getAsString());
    assertEquals(4, heun.get("blocks").getAsInt());
    assertEquals(16.0, heun.get("blockEvaluationsPerImage").getAsDouble(), 0);
    assertEquals(
        report.tiers().get(1).frechetDistanceStandardError(),
        heun.get("frechetDistanceStandardError").getAsDouble(),
        0);
    assertEquals("real", json.getAsJsonObject("real").get("label").getAsString());

    String md = Files.readString(out.resolve("report.md"));
    assertTrue(md.contains("| tier | class accuracy | FD |"), md);
    assertTrue(md.contains(" ± "), md);
    for (String label : List.of("real", "s1-b2", "s2-b4-heun", "s2-b2-g2")) {
      assertTrue(md.contains("| " + label + " |"), label);
    }

    assertEquals(
        report.qualityPoints(),
        EvaluateTiers.readQualityPoints(Files.readString(out.resolve("quality.json"))));
    JsonArray table =
        JsonParser.parseString(Files.readString(out.resolve("quality-table.json")))
            .getAsJsonArray();
    assertEquals(3, table.size());
    for (int i = 0; i < 3; i++) {
      JsonObject row = table.get(i).getAsJsonObject();
      EvaluateTiers.TierResult r = report.tiers().get(i);
      assertEquals(r.tier(), Tier.parse(row.get("tier").getAsString()));
      assertEquals(r.classAccuracy(), row.get("classAccuracy").getAsDouble(), 0);
      assertEquals(r.frechetDistance(), row.get("frechetDistance").getAsDouble(), 0);
      assertEquals(
          r.blockEvaluationsPerImage(), row.get("blockEvaluationsPerImage").getAsDouble(), 0);
    }
    assertEquals(
        Tier.of(2, 2).withGuidance(2f), Tier.fromProto(report.qualityPoints().get(2).getTier()));

    // 10 rows of min(3, perClass = 2) tiles; 8×8 images scaled ×8, 2-pixel gaps.
    BufferedImage grid = ImageIO.read(out.resolve("grid-s2-b4-heun.png").toFile());
    assertEquals(2 * (64 + 2) + 2, grid.getWidth());
    assertEquals(10 * (64 + 2) + 2, grid.getHeight());
    BufferedImage realGrid = ImageIO.read(out.resolve("grid-real.png").toFile());
    assertEquals(2 * (56 + 2) + 2, realGrid.getWidth());
  }

  @Test
  void sameSeedSameReportDifferentSeedDifferentImages(@TempDir Path dir) throws IOException {
    EvaluateTiers.run(options(dir.resolve("a"), "--tiers=s2-b2", "--seed=7", "--perClass=1"));
    EvaluateTiers.run(options(dir.resolve("b"), "--tiers=s2-b2", "--seed=7", "--perClass=1"));
    EvaluateTiers.run(options(dir.resolve("c"), "--tiers=s2-b2", "--seed=8", "--perClass=1"));
    assertEquals(withoutTimings(dir.resolve("a")), withoutTimings(dir.resolve("b")));
    assertEquals(
        Files.readString(dir.resolve("a/quality.json")),
        Files.readString(dir.resolve("b/quality.json")));
    assertArrayEquals(
        Files.readAllBytes(dir.resolve("a/grid-s2-b2.png")),
        Files.readAllBytes(dir.resolve("b/grid-s2-b2.png")));
    assertFalse(
        Arrays.equals(
            Files.readAllBytes(dir.resolve("a/grid-s2-b2.png")),
            Files.readAllBytes(dir.resolve("c/grid-s2-b2.png"))),
        "another seed gives other images");
  }

  @Test
  void presetsAreTheDefaultTiers() {
    // TestModels presets: draft s2-b2, standard s4-b4, premium s8-b4-heun-g1.5.
    assertEquals(
        List.of(
            Tier.of(2, 2), Tier.of(4, 4), Tier.of(8, 4).withSolver(Solver.HEUN).withGuidance(1.5f)),
        EvaluateTiers.presets(TestModels.manifest(TestModels.TINY, 1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> EvaluateTiers.presets(ModelManifest.getDefaultInstance()));
  }

  @Test
  void digitsMapToClassesByLabel() {
    ModelManifest manifest =
        ModelManifest.newBuilder()
            .addClasses(ClassLabel.newBuilder().setId(0).setLabel("cat"))
            .addAllClasses(
                IntStream.range(0, 10)
                    .mapToObj(d -> ClassLabel.newBuilder().setId(10 - d).setLabel("" + d).build())
                    .toList())
            .build();
    assertArrayEquals(
        new int[] {10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, EvaluateTiers.classOfDigit(manifest, 11));
    assertArrayEquals(
        IntStream.range(0, 10).toArray(),
        EvaluateTiers.classOfDigit(ModelManifest.getDefaultInstance(), 10));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                EvaluateTiers.classOfDigit(
                    ModelManifest.newBuilder()
                        .addClasses(ClassLabel.newBuilder().setId(0).setLabel("0"))
                        .build(),
                    1));
    assertTrue(e.getMessage().contains("'1'"), e.getMessage());
  }

  @Test
  void tiersTheModelCannotRunFailBeforeSampling(@TempDir Path dir) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> EvaluateTiers.run(options(dir.resolve("x"), "--tiers=s2-b3")));
    assertTrue(e.getMessage().contains("s2-b3"), e.getMessage());
    assertTrue(Files.notExists(dir.resolve("x/report.json")));
  }

  @Test
  void optionsParseLabelsAndGrids() {
    EvaluateTiers.Options o =
        EvaluateTiers.Options.parse(
            "--tiers=s1-b2,s8-b4-heun",
            "--steps=1,4",
            "--blocks=2,4",
            "--solvers=euler,rk4",
            "--guidances=1,2",
            "--perClass=5",
            "--seed=9");
    assertEquals(2 + 2 * 2 * 2 * 2 - 1, o.tiers().size()); // s1-b2 appears twice
    assertEquals(Tier.of(1, 2), o.tiers().get(0));
    assertEquals(Tier.of(8, 4).withSolver(Solver.HEUN), o.tiers().get(1));
    assertEquals(Tier.of(1, 2).withGuidance(2f), o.tiers().get(2));
    assertEquals(Tier.of(4, 4).withSolver(Solver.RK4).withGuidance(2f), o.tiers().get(16));
    assertEquals(5, o.perClass());
    assertEquals(9, o.seed());
    EvaluateTiers.Options defaults = EvaluateTiers.Options.parse();
    assertEquals("classpath:/dev/odelt/models/mnist/manifest.json", defaults.model());
    assertTrue(defaults.tiers().isEmpty());
    assertThrows(IllegalArgumentException.class, () -> EvaluateTiers.Options.parse("--steps=2"));
    assertThrows(IllegalArgumentException.class, () -> EvaluateTiers.Options.parse("--bogus=1"));
    assertThrows(IllegalArgumentException.class, () -> EvaluateTiers.Options.parse("perClass=1"));
    assertThrows(IllegalArgumentException.class, () -> EvaluateTiers.Options.parse("--perClass=0"));
    assertThrows(
        IllegalArgumentException.class, () -> EvaluateTiers.Options.parse("--solvers=euler,foo"));
  }

  @Test
  void itemSeedsAreDistinct() {
    Set<Long> seeds = new HashSet<>();
    for (long seed = 0; seed < 3; seed++) {
      for (int digit = 0; digit < 10; digit++) {
        for (int j = 0; j < 100; j++) {
          seeds.add(EvaluateTiers.itemSeed(seed, digit, j));
        }
      }
    }
    assertEquals(3000, seeds.size());
    assertEquals(EvaluateTiers.itemSeed(5, 3, 7), EvaluateTiers.itemSeed(5, 3, 7));
  }

  private static List<String> labels(List<EvaluateTiers.TierResult> results) {
    return results.stream().map(EvaluateTiers.TierResult::label).toList();
  }

  private static JsonObject withoutTimings(Path out) throws IOException {
    JsonObject json =
        JsonParser.parseString(Files.readString(out.resolve("report.json"))).getAsJsonObject();
    for (var tier : json.getAsJsonArray("tiers")) {
      tier.getAsJsonObject().remove("secondsPerImage");
    }
    return json;
  }
}
