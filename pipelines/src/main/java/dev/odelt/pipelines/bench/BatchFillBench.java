package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.JobStats.f;

import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.pipelines.GenerateJob;
import dev.odelt.pipelines.bench.JobManifests.TierChoice;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.transforms.io.OutputLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue item 7: mean batch fill per tier on a realistic mixed manifest (many requests of 1–8 images
 * over the model's presets and two explicit tiers), from the job's own accounting ({@code
 * accounting/tiers.json}: images generated and batches per tier).
 */
public final class BatchFillBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(BatchFillBench.class);

  static final double GOAL = 0.95;

  /** Tiers with fewer batches are reported but not held to the goal. */
  static final int GOAL_MIN_BATCHES = 10;

  @Override
  public String id() {
    return "batch-fill";
  }

  @Override
  public Section run(BenchContext context) throws Exception {
    ModelManifest manifest = context.manifest();
    ModelConfig config = ModelConfig.fromProto(manifest.getArchitecture());
    Map<TierChoice, Double> mix = mix(manifest, config);
    int total = context.shortMode() ? 120 : 3000;
    List<JobManifests.Request> requests =
        JobManifests.mixed(20261125L, total, mix, 1, 8, config.numClasses());
    Path dir = context.workDir().resolve(id());
    Path file = JobManifests.write(dir.resolve("requests.jsonl"), requests);
    Path out = PipelineEfficiencyBench.fresh(dir.resolve("out"));
    int batchSize = GenerateJob.CPU_BATCH_SIZE;
    LOG.info(
        "batch-fill: {} images in {} requests: {}",
        total,
        requests.size(),
        JobManifests.imagesPerTier(requests));
    InProcessJob.Result run =
        InProcessJob.run(
            InProcessJob.args(
                file, out, context.modelLocation(), List.of("--maxBatchSize=" + batchSize)),
            out);
    List<TierAccount> tiers = readTiers(out);

    List<List<String>> rows = new ArrayList<>();
    List<Section.Goal> goals = new ArrayList<>();
    List<String> findings = new ArrayList<>();
    Map<String, Object> rawTiers = new LinkedHashMap<>();
    long extraBatches = 0;
    for (TierAccount t : tiers) {
      double fill = JobStats.fill(t.getImagesGenerated(), t.getBatches(), batchSize);
      long minimum = JobStats.minimumBatches(t.getImagesGenerated(), batchSize);
      double best = JobStats.fill(t.getImagesGenerated(), minimum, batchSize);
      extraBatches += t.getBatches() - minimum;
      boolean held = t.getBatches() >= GOAL_MIN_BATCHES;
      rows.add(
          List.of(
              t.getTierLabel(),
              Long.toString(t.getRequests()),
              Long.toString(t.getImagesGenerated()),
              Long.toString(t.getBatches()),
              Long.toString(minimum),
              f("%.1f%%", 100 * fill),
              f("%.1f%%", 100 * best),
              f("%.1f%%", 100 * t.getMeanFill()),
              held ? "yes" : "no (< " + GOAL_MIN_BATCHES + " batches)"));
      if (held) {
        goals.add(
            new Section.Goal(
                "mean batch fill of " + t.getTierLabel(),
                f("≥ %.0f%%", 100 * GOAL),
                f("%.1f%%", 100 * fill),
                fill >= GOAL));
      }
      rawTiers.put(
          t.getTierLabel(),
          Map.of(
              "requests", t.getRequests(),
              "images", t.getImagesGenerated(),
              "batches", t.getBatches(),
              "minimum_batches", minimum,
              "fill", fill,
              "best_fill", best,
              "accounted_mean_fill", t.getMeanFill()));
    }
    if (goals.isEmpty()) {
      goals.add(
          new Section.Goal(
              "mean batch fill of tiers with ≥ " + GOAL_MIN_BATCHES + " batches",
              f("≥ %.0f%%", 100 * GOAL),
              "no tier reached " + GOAL_MIN_BATCHES + " batches (short mode)",
              true));
    }
    String parallelism = run.summary().getOptionsOrDefault("parallelism", "?");
    findings.add(
        f(
            "The job made %d batch(es) more than the minimum ceil(images / %d) summed over tiers"
                + " (Flink parallelism %s).",
            extraBatches, batchSize, parallelism));
    for (TierAccount t : tiers) {
      double fill = JobStats.fill(t.getImagesGenerated(), t.getBatches(), batchSize);
      if (t.getBatches() < GOAL_MIN_BATCHES || fill >= GOAL) {
        continue;
      }
      long minimum = JobStats.minimumBatches(t.getImagesGenerated(), batchSize);
      if (t.getBatches() > minimum) {
        findings.add(
            f(
                "%s: %.1f%% with %d batches where %d suffice; the extra batches are partial"
                    + " batches the batcher left behind.",
                t.getTierLabel(), 100 * fill, t.getBatches(), minimum));
      } else {
        findings.add(
            f(
                "%s: %.1f%% with the fewest possible batches (%d): %d images leave one partial"
                    + " batch of %d, which no batcher can avoid; the goal is out of reach for this"
                    + " image count.",
                t.getTierLabel(),
                100 * fill,
                minimum,
                t.getImagesGenerated(),
                t.getImagesGenerated() - (minimum - 1) * batchSize));
      }
    }
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("images", total);
    raw.put("requests", requests.size());
    raw.put("max_batch_size", batchSize);
    raw.put("parallelism", parallelism);
    raw.put("job_seconds", run.seconds());
    raw.put("extra_batches", extraBatches);
    raw.put("tiers", rawTiers);
    return new Section(
        id(),
        "Batch fill per tier",
        f(
            "A generated manifest (seed 20261125) of %d requests of 1–8 images each, %d images in"
                + " all, over the model's presets and two explicit tiers (%s), runs as the job on"
                + " embedded Flink with --maxBatchSize=%d and default parallelism (%s). Fill per"
                + " tier = images generated / (batches × %d), from accounting/tiers.json; best"
                + " = the fill of ceil(images / %d) batches.",
            requests.size(),
            total,
            JobManifests.imagesPerTier(requests),
            batchSize,
            parallelism,
            batchSize,
            batchSize),
        List.of(
            new Section.Table(
                "Batch fill per tier",
                List.of(
                    "tier",
                    "requests",
                    "images",
                    "batches",
                    "minimum batches",
                    "fill",
                    "best fill",
                    "accounted mean_fill",
                    "held to goal"),
                rows)),
        goals,
        findings,
        raw,
        List.of());
  }

  /**
   * The tier mix: presets draft 40%, standard 25%, premium 4% (when the model has them), plus two
   * explicit cheap tiers that are not presets, 17% and 14%.
   */
  static Map<TierChoice, Double> mix(ModelManifest manifest, ModelConfig config) {
    Map<TierChoice, Double> mix = new LinkedHashMap<>();
    Set<String> presetLabels = new HashSet<>();
    Map<String, Double> presetWeights = Map.of("draft", 0.40, "standard", 0.25, "premium", 0.04);
    for (TierPreset p : manifest.getTiersList()) {
      presetLabels.add(Tier.fromProto(p.getTier()).label());
      Double w = presetWeights.get(p.getName());
      if (w != null) {
        mix.put(TierChoice.preset(p.getName()), w);
      }
    }
    List<Integer> blocks = config.allowedBlocks();
    double[] explicitWeights = {0.17, 0.14};
    int added = 0;
    for (int steps : new int[] {2, 1, 4}) {
      for (int b : blocks) {
        Tier t = Tier.of(steps, b);
        if (added < explicitWeights.length && !presetLabels.contains(t.label())) {
          mix.put(TierChoice.of(t), explicitWeights[added++]);
        }
      }
    }
    return mix;
  }

  /** The per-tier accounts of a finished run, from {@code accounting/tiers.json}. */
  static List<TierAccount> readTiers(Path output) throws IOException {
    String json = Files.readString(output.resolve(OutputLayout.TIERS_JSON), StandardCharsets.UTF_8);
    RunSummary.Builder b = RunSummary.newBuilder();
    JsonFormat.parser().ignoringUnknownFields().merge("{\"tiers\":" + json + "}", b);
    return b.getTiersList();
  }
}
