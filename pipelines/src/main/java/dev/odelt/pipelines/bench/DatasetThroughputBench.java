package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.JobStats.f;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.pipelines.bench.JobManifests.ImageJob;
import dev.odelt.pipelines.bench.JobManifests.TierChoice;
import dev.odelt.transforms.inference.TorchThreads;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 25 item 4: images per second of the whole job writing each output format (the PNG tree,
 * WebDataset, Parquet, TFRecord) against the bare sampler loop on the same images, side by side in
 * one process: each round runs the bare loop and then the job once per format, in that order, on
 * embedded Flink with the job's batch size, PyTorch threads and parallelism; medians over rounds.
 * Shards are sized so each tier has several per thread ({@code --shardImages}), since a shard is
 * made by one thread.
 */
public final class DatasetThroughputBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(DatasetThroughputBench.class);

  /** The goal for WebDataset at the cheapest tiers. */
  static final double GOAL = 0.85;

  /**
   * Bare-loop seconds a full-mode manifest aims at (as {@link PipelineEfficiencyBench}, so the job's
   * fixed start-up cost weighs the same as there).
   */
  static final double TARGET_BARE_SECONDS = PipelineEfficiencyBench.TARGET_BARE_SECONDS;

  static final List<String> FORMATS = List.of("png", "webdataset", "parquet", "tfrecord");

  @Override
  public String id() {
    return "dataset-throughput";
  }

  @Override
  public Section run(BenchContext context) throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    int threads = Math.max(1, context.threads());
    int parallelism = Math.max(1, cores / threads);
    TorchThreads.configure(threads);
    LoadedModel model = Models.shared(context.modelLocation(), "cpu");
    List<Section.Table> tables = new ArrayList<>();
    List<Section.Goal> goals = new ArrayList<>();
    List<String> findings = new ArrayList<>();
    Map<String, Object> raw = new LinkedHashMap<>();
    List<PipelineEfficiencyBench.Mix> mixes =
        List.of(
            new PipelineEfficiencyBench.Mix(
                "cheapest tiers",
                "cheapest",
                PipelineEfficiencyBench.cheapTiers(model.config()),
                new double[] {0.4, 0.35, 0.25}),
            new PipelineEfficiencyBench.Mix(
                "the model's presets",
                "presets",
                PipelineEfficiencyBench.presetTiers(model.manifest()),
                new double[] {0.4, 0.4, 0.2}));
    // Short mode (CI's smoke test) measures the cheapest tiers only; so does
    // -Dodelt.bench.datasets.mixes=cheapest.
    boolean cheapestOnly =
        context.shortMode()
            || "cheapest".equals(System.getProperty("odelt.bench.datasets.mixes"));
    for (PipelineEfficiencyBench.Mix mix : cheapestOnly ? mixes.subList(0, 1) : mixes) {
      measure(context, model, mix, parallelism, threads, tables, goals, findings, raw);
    }
    return new Section(
        id(),
        "Datasets: job throughput per output format against the bare sampler loop",
        f(
            "Per tier mix, one warm-up pass (bare loop and a small job per format), then %s"
                + " round(s) of: the bare sampler loop (%d threads taking batches of %d from one"
                + " queue), then the whole job on embedded Flink in this JVM once per format (%s),"
                + " parallelism %d, %d PyTorch thread(s) per call. Ratios are medians of job img/s"
                + " over the same round's bare img/s.",
            context.shortMode() ? "1" : "2",
            parallelism,
            PipelineEfficiencyBench.BATCH_SIZE,
            String.join(", ", FORMATS),
            parallelism,
            threads),
        tables,
        goals,
        findings,
        raw,
        List.of());
  }

  private void measure(
      BenchContext context,
      LoadedModel model,
      PipelineEfficiencyBench.Mix tierMix,
      int parallelism,
      int threads,
      List<Section.Table> tables,
      List<Section.Goal> goals,
      List<String> findings,
      Map<String, Object> raw)
      throws Exception {
    int batch = PipelineEfficiencyBench.BATCH_SIZE;
    Map<TierChoice, Double> mix = new LinkedHashMap<>();
    List<Tier> tiers = tierMix.tiers();
    for (int i = 0; i < tiers.size(); i++) {
      mix.put(TierChoice.of(tiers.get(i)), tierMix.weights()[i]);
    }
    int classes = model.config().numClasses();
    Path dir = context.workDir().resolve(id()).resolve(tierMix.key());
    List<JobManifests.Request> warm = JobManifests.mixed(7L, 6 * batch, mix, 4, 16, classes);
    Path warmManifest = JobManifests.write(dir.resolve("warm-up.jsonl"), warm);
    List<List<ImageJob>> warmBatches = JobManifests.batches(JobManifests.expand(warm), batch);
    PipelineEfficiencyBench.bare(model.sampler(), warmBatches, parallelism);
    double warmRate =
        6 * batch / PipelineEfficiencyBench.bare(model.sampler(), warmBatches, parallelism).seconds();
    int images =
        context.shortMode()
            ? 32
            : (int)
                Math.max(
                    1000,
                    Math.min(
                        PipelineEfficiencyBench.MAX_IMAGES,
                        Math.round(TARGET_BARE_SECONDS * warmRate)));
    int shardImages = (int) Math.max(1, images / (4L * parallelism * tiers.size()));
    List<String> base =
        List.of(
            "--parallelism=" + parallelism,
            "--torchThreads=" + threads,
            "--maxBatchSize=" + batch,
            "--progressSeconds=0",
            "--shardImages=" + shardImages);
    if (!context.shortMode()) {
      for (String format : FORMATS) {
        Path out = PipelineEfficiencyBench.fresh(dir.resolve("warm-" + format));
        InProcessJob.run(
            InProcessJob.args(warmManifest, out, context.modelLocation(), with(base, format)), out);
      }
    }
    List<JobManifests.Request> requests =
        JobManifests.mixed(20261208L, images, mix, 4, 32, classes);
    Path manifest = JobManifests.write(dir.resolve("requests.jsonl"), requests);
    List<List<ImageJob>> batches = JobManifests.batches(JobManifests.expand(requests), batch);
    int rounds = context.shortMode() ? 1 : 2;
    // Short mode (CI's smoke test of the harness): the PNG tree and WebDataset only.
    List<String> formats = context.shortMode() ? FORMATS.subList(0, 2) : FORMATS;
    List<Double> bareRates = new ArrayList<>();
    Map<String, List<Double>> ratios = new LinkedHashMap<>();
    Map<String, List<Double>> rates = new LinkedHashMap<>();
    List<List<String>> rows = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      double bare =
          images / PipelineEfficiencyBench.bare(model.sampler(), batches, parallelism).seconds();
      bareRates.add(bare);
      List<String> row = new ArrayList<>(List.of(Integer.toString(r + 1), f("%.1f", bare)));
      for (String format : formats) {
        Path out = PipelineEfficiencyBench.fresh(dir.resolve("out-" + format));
        InProcessJob.Result job =
            InProcessJob.run(
                InProcessJob.args(manifest, out, context.modelLocation(), with(base, format)),
                out);
        if (job.summary().getImagesGenerated() != images) {
          throw new IllegalStateException(
              format + ": the job made " + job.summary().getImagesGenerated() + " of " + images);
        }
        double rate = images / job.seconds();
        rates.computeIfAbsent(format, k -> new ArrayList<>()).add(rate);
        ratios.computeIfAbsent(format, k -> new ArrayList<>()).add(rate / bare);
        row.add(f("%.1f (%.3f)", rate, rate / bare));
        LOG.info(
            "dataset-throughput ({}) round {}: bare {} img/s, {} {} img/s",
            tierMix.key(),
            r + 1,
            f("%.1f", bare),
            format,
            f("%.1f", rate));
      }
      rows.add(row);
    }
    List<String> median =
        new ArrayList<>(List.of("median", f("%.1f", JobStats.median(bareRates))));
    for (String format : formats) {
      median.add(
          f(
              "%.1f (%.3f)",
              JobStats.median(rates.get(format)), JobStats.median(ratios.get(format))));
    }
    rows.add(median);
    List<String> header = new ArrayList<>(List.of("round", "bare img/s"));
    formats.forEach(fmt -> header.add(fmt + " img/s (÷ bare)"));
    tables.add(
        new Section.Table(
            f(
                "%s: %d images over %s, --shardImages=%d, %d sampler threads x %d PyTorch"
                    + " threads",
                tierMix.name(),
                images,
                JobManifests.imagesPerTier(requests),
                shardImages,
                parallelism,
                threads),
            header,
            rows));
    double webdataset = JobStats.median(ratios.get("webdataset"));
    if (tierMix.key().equals("cheapest")) {
      goals.add(
          new Section.Goal(
              "cheapest tiers: job img/s with --format=webdataset ÷ bare loop",
              f("≥ %.2f", GOAL),
              f("%.3f", webdataset),
              webdataset >= GOAL));
    }
    StringBuilder finding =
        new StringBuilder(tierMix.name() + ": the job runs at, of the bare loop (medians):");
    for (String format : formats) {
      finding.append(f(" %s %.3f;", format, JobStats.median(ratios.get(format))));
    }
    findings.add(finding.toString());
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("images", images);
    m.put("shard_images", shardImages);
    m.put("bare_images_per_second", bareRates);
    m.put("job_images_per_second", rates);
    m.put("job_over_bare", ratios);
    raw.put(tierMix.key(), m);
  }

  private static List<String> with(List<String> base, String format) {
    List<String> out = new ArrayList<>(base);
    out.add("--format=" + format);
    return out;
  }
}
