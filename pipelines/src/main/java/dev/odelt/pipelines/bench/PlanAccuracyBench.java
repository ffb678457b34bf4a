package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.JobStats.f;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.pipelines.GenerateJob;
import dev.odelt.pipelines.bench.JobManifests.TierChoice;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Plan;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.proto.v1.TierPreset;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 13: the quote of {@code --plan} against the run it quotes. Each manifest is planned, then
 * run, each as the job in its own child JVM (the shaded jar, CPU, embedded Flink, default
 * parallelism), and the plan's predicted device seconds per tier are compared with the run's
 * accounting. Then plans of many one-image requests measure the plan's own time and peak memory
 * (VmHWM of the child) at two sizes, to show that memory stays flat as the input grows.
 */
public final class PlanAccuracyBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(PlanAccuracyBench.class);

  static final double TIER_GOAL = 0.15;
  static final double TOTAL_GOAL = 0.10;

  private static final long TIMEOUT_SECONDS = 3600;

  /**
   * Plan-then-run pairs of the example manifests in full mode, compared by their medians. Their
   * batches are single calls of 13–100 ms, and the same run repeated varies by about as much as the
   * goal (measured: s4-b6 77–99 ms, s8-b4 61–86 ms over three runs of the examples), so one pair
   * measures the run's jitter as much as the quote.
   */
  static final int EXAMPLE_ROUNDS = 5;

  /**
   * Plan-then-run pairs of the mixed manifest in full mode, compared by their medians. Its tiers
   * have 7–44 batches each, but a whole process on this shared 2-core VM runs the same calls up to
   * about 20% faster or slower than another (measured: one pair's tiers at −13% to +21%, all on
   * thread CPU time), so one pair measures which processes were lucky as much as the quote. On a
   * noisier day (2026-12-02) three pairs' totals were −14.4%, −30.4% and +0.6%: one slow spell
   * during a run moves a median of three, hence five.
   */
  static final int MIXED_ROUNDS = 5;

  /** The scale plans run in a fixed heap: a plan that gathered its input would run out of it. */
  static final String SCALE_HEAP = "-Xmx1g";

  @Override
  public String id() {
    return "plan-accuracy";
  }

  /** One job in a child JVM: wall seconds, peak RSS (MB) and exit code. */
  record Child(double seconds, double peakRssMb, int exitCode) {}

  /** A plan compared with its run. */
  record Comparison(String name, Plan plan, Child planChild, RunSummary run, Child runChild) {}

  @Override
  public Section run(BenchContext context) throws Exception {
    ModelManifest manifest = context.manifest();
    ModelConfig config = ModelConfig.fromProto(manifest.getArchitecture());
    Path dir = context.workDir().resolve(id());
    List<Comparison> comparisons = new ArrayList<>();

    Path examples = context.repoRoot().resolve("pipelines/examples");
    List<String> notes = new ArrayList<>();
    int exampleRounds = context.shortMode() ? 1 : EXAMPLE_ROUNDS;
    int mixedRounds = context.shortMode() ? 1 : MIXED_ROUNDS;
    if (java.nio.file.Files.isDirectory(examples)) {
      comparisons.add(
          pairs(context, "examples", examples.toAbsolutePath() + "/*", dir, exampleRounds, notes));
    } else {
      notes.add("No example manifests under " + examples + ": that comparison was skipped.");
    }

    Map<TierChoice, Double> mix = mix(manifest, config);
    int mixedImages = context.shortMode() ? 160 : 3000;
    List<JobManifests.Request> mixed =
        JobManifests.mixed(20261201L, mixedImages, mix, 1, 12, config.numClasses());
    Path mixedFile = JobManifests.write(dir.resolve("mixed/requests.jsonl"), mixed);
    comparisons.add(
        pairs(context, "mixed", mixedFile.toAbsolutePath().toString(), dir, mixedRounds, notes));

    List<Section.Table> tables = new ArrayList<>();
    List<Section.Goal> goals = new ArrayList<>();
    List<String> findings = new ArrayList<>(notes);
    Map<String, Object> raw = new LinkedHashMap<>();
    for (Comparison c : comparisons) {
      tables.add(table(c));
      Map<String, Object> rawTiers = new LinkedHashMap<>();
      Map<String, TierAccount> actual = byLabel(c.run().getTiersList());
      for (TierAccount p : c.plan().getSummary().getTiersList()) {
        TierAccount a = actual.get(p.getTierLabel());
        double err = error(p.getDeviceSeconds(), a.getDeviceSeconds());
        goals.add(
            new Section.Goal(
                c.name() + ": " + p.getTierLabel() + " predicted device seconds",
                f("within ±%.0f%%", 100 * TIER_GOAL),
                f("%+.1f%%", 100 * err),
                Math.abs(err) <= TIER_GOAL));
        rawTiers.put(
            p.getTierLabel(),
            Map.of(
                "images", p.getImages(),
                "batches_planned", p.getBatches(),
                "batches_run", a.getBatches(),
                "predicted_device_seconds", p.getDeviceSeconds(),
                "actual_device_seconds", a.getDeviceSeconds(),
                "error", err,
                "share_error",
                    shareError(
                        p.getDeviceSeconds(),
                        tierSum(c.plan().getSummary().getTiersList()),
                        a.getDeviceSeconds(),
                        tierSum(c.run().getTiersList()))));
      }
      double totalErr = error(c.plan().getSummary().getDeviceSeconds(), c.run().getDeviceSeconds());
      goals.add(
          new Section.Goal(
              c.name() + ": total predicted device seconds",
              f("within ±%.0f%%", 100 * TOTAL_GOAL),
              f("%+.1f%%", 100 * totalErr),
              Math.abs(totalErr) <= TOTAL_GOAL));
      Map<String, Object> rawRun = new LinkedHashMap<>();
      rawRun.put("tiers", rawTiers);
      rawRun.put("predicted_device_seconds", c.plan().getSummary().getDeviceSeconds());
      rawRun.put("actual_device_seconds", c.run().getDeviceSeconds());
      rawRun.put("predicted_warm_up_seconds", c.plan().getSummary().getWarmUpSeconds());
      rawRun.put("actual_warm_up_seconds", c.run().getWarmUpSeconds());
      rawRun.put("plan_seconds", c.planChild().seconds());
      rawRun.put("run_seconds", c.runChild().seconds());
      rawRun.put("calibration_seconds", c.plan().getCalibrationSeconds());
      rawRun.put("first_calls_seconds", c.plan().getFirstCallsSeconds());
      rawRun.put("early_calls", c.plan().getEarlyCalls());
      rawRun.put("cost_model", c.plan().getCostModel());
      raw.put(c.name(), rawRun);
      findings.add(
          f(
              "%s: the plan took %.1f s (%.1f s of it calibrating %d batch shapes), the run %.1f s;"
                  + " predicted %.2f device s (%+.3f of them for the run's first %,d batches after"
                  + " the warm-up, beyond settled ones), the run reported %.2f (%+.1f%%).",
              c.name(),
              c.planChild().seconds(),
              c.plan().getCalibrationSeconds(),
              c.plan().getBatchCostsCount(),
              c.runChild().seconds(),
              c.plan().getSummary().getDeviceSeconds(),
              c.plan().getFirstCallsSeconds(),
              c.plan().getEarlyCalls(),
              c.run().getDeviceSeconds(),
              100 * totalErr));
    }

    // Plan time and memory against input size: one-image requests over the same tier mix.
    int large = context.shortMode() ? 2_000 : 1_000_000;
    int small = large / 10;
    Comparison mixedRun = comparisons.get(comparisons.size() - 1);
    double runSecondsPerImage =
        mixedRun.runChild().seconds() / Math.max(1, mixedRun.run().getImagesGenerated());
    List<List<String>> scaleRows = new ArrayList<>();
    Map<String, Object> rawScale = new LinkedHashMap<>();
    for (int requests : new int[] {small, large}) {
      List<JobManifests.Request> many =
          JobManifests.mixed(20261202L, requests, mix, 1, 1, config.numClasses());
      Path file = JobManifests.write(dir.resolve("scale-" + requests + "/requests.jsonl"), many);
      Path out = PipelineEfficiencyBench.fresh(dir.resolve("scale-" + requests + "/out"));
      LOG.info("plan-accuracy: plan of {} one-image requests", requests);
      Child child =
          child(
              context,
              file.toAbsolutePath().toString(),
              out,
              List.of(SCALE_HEAP),
              List.of("--plan"),
              "plan.log");
      Plan plan = GenerateJob.readPlan(out.toString());
      double runEstimate = runSecondsPerImage * requests;
      scaleRows.add(
          List.of(
              f("%,d", requests),
              f("%.1f", child.seconds()),
              f("%.0f", child.peakRssMb()),
              f("%.0f", plan.getSummary().getDeviceSeconds()),
              f("%.0f", runEstimate),
              f("%.1f%%", 100 * child.seconds() / runEstimate)));
      rawScale.put(
          Integer.toString(requests),
          Map.of(
              "plan_seconds", child.seconds(),
              "peak_rss_mb", child.peakRssMb(),
              "predicted_device_seconds", plan.getSummary().getDeviceSeconds(),
              "estimated_run_seconds", runEstimate,
              "batches",
                  plan.getSummary().getTiersList().stream()
                      .mapToLong(TierAccount::getBatches)
                      .sum()));
    }
    raw.put("scale", rawScale);
    tables.add(
        new Section.Table(
            "Plan time and peak memory against input size (one image per request)",
            List.of(
                "requests",
                "plan wall s",
                "plan peak RSS MB",
                "predicted device s",
                "run wall s (estimated)",
                "plan / run"),
            scaleRows));

    return new Section(
        id(),
        "Quote accuracy: --plan against the run",
        f(
            "Each manifest is planned (--plan) and then run, each as the job in a fresh child JVM"
                + " (shaded jar, --device=cpu, embedded Flink, default parallelism and batch size),"
                + " one after the other on the same machine. Predicted device seconds per tier come"
                + " from plan.json, actual ones from the run's accounting (the sum of its sampler"
                + " calls' device time: on this CPU with one PyTorch thread per call, the sampling"
                + " thread's CPU time); the warm-up row is the worker threads' warm-up calls, in no"
                + " tier, and part of the totals. Manifests: the example manifests"
                + " (pipelines/examples; %d plan-then-run pair(s), compared by the medians of each"
                + " tier's, the warm-up's and the total's device seconds), and a generated mixed"
                + " manifest (seed 20261201) of %d images in requests of 1–12 images over %d tiers"
                + " (%s; %d pair(s), compared the same way). Scale: plans of %,d and %,d one-image"
                + " requests over the same mix, each in a JVM with %s; peak RSS is the child's"
                + " VmHWM; the run's wall time for them is estimated from the mixed run's wall"
                + " seconds per image (those runs are not made).",
            exampleRounds,
            mixedImages,
            mix.size(),
            JobManifests.imagesPerTier(mixed),
            mixedRounds,
            small,
            large,
            SCALE_HEAP),
        tables,
        goals,
        findings,
        raw,
        List.of());
  }

  /**
   * One comparison whose per-tier, warm-up and total device seconds (predicted and actual) and
   * child wall times are the medians over {@code rounds} of the same manifest.
   */
  static Comparison medianOf(List<Comparison> rounds) {
    if (rounds.size() == 1) {
      return rounds.get(0);
    }
    Comparison first = rounds.get(0);
    RunSummary plan = medianSummary(rounds.stream().map(c -> c.plan().getSummary()).toList());
    RunSummary run = medianSummary(rounds.stream().map(Comparison::run).toList());
    return new Comparison(
        first.name(),
        first.plan().toBuilder().setSummary(plan).build(),
        new Child(
            median(rounds.stream().mapToDouble(c -> c.planChild().seconds()).toArray()),
            first.planChild().peakRssMb(),
            first.planChild().exitCode()),
        run,
        new Child(
            median(rounds.stream().mapToDouble(c -> c.runChild().seconds()).toArray()),
            first.runChild().peakRssMb(),
            first.runChild().exitCode()));
  }

  private static RunSummary medianSummary(List<RunSummary> summaries) {
    RunSummary.Builder out = summaries.get(0).toBuilder().clearTiers();
    for (TierAccount t : summaries.get(0).getTiersList()) {
      double[] seconds =
          summaries.stream()
              .mapToDouble(s -> byLabel(s.getTiersList()).get(t.getTierLabel()).getDeviceSeconds())
              .toArray();
      out.addTiers(t.toBuilder().setDeviceSeconds(median(seconds)));
    }
    return out.setDeviceSeconds(
            median(summaries.stream().mapToDouble(RunSummary::getDeviceSeconds).toArray()))
        .setWarmUpSeconds(
            median(summaries.stream().mapToDouble(RunSummary::getWarmUpSeconds).toArray()))
        .build();
  }

  static double median(double[] values) {
    return Timing.median(java.util.Arrays.stream(values).boxed().toList());
  }

  /**
   * {@code rounds} plan-then-run pairs of one manifest, as their median; with more than one pair, a
   * finding lists every pair's errors.
   */
  private Comparison pairs(
      BenchContext context, String name, String glob, Path dir, int rounds, List<String> notes)
      throws Exception {
    List<Comparison> pairs = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      pairs.add(compare(context, name, glob, dir));
    }
    if (pairs.size() > 1) {
      notes.add(roundsFinding(pairs));
    }
    return medianOf(pairs);
  }

  /** Each pair's total error and, per tier, the range of its errors over the pairs. */
  private static String roundsFinding(List<Comparison> rounds) {
    StringBuilder text =
        new StringBuilder(
            f(
                "%s, %d plan-then-run pairs (the tables and goals use their medians): total error"
                    + " per pair",
                rounds.get(0).name(), rounds.size()));
    for (Comparison c : rounds) {
      text.append(
          f(
              " %+.1f%%",
              100 * error(c.plan().getSummary().getDeviceSeconds(), c.run().getDeviceSeconds())));
    }
    text.append("; per tier, the smallest and largest error of a single pair:");
    for (TierAccount t : rounds.get(0).plan().getSummary().getTiersList()) {
      double[] errors =
          rounds.stream()
              .mapToDouble(
                  c ->
                      error(
                          byLabel(c.plan().getSummary().getTiersList())
                              .get(t.getTierLabel())
                              .getDeviceSeconds(),
                          byLabel(c.run().getTiersList()).get(t.getTierLabel()).getDeviceSeconds()))
              .sorted()
              .toArray();
      text.append(
          f(
              " %s %+.0f%%..%+.0f%%",
              t.getTierLabel(), 100 * errors[0], 100 * errors[errors.length - 1]));
    }
    return text.append('.').toString();
  }

  /**
   * The mix over at least seven distinct tiers: the model's presets as users name them, then
   * explicit tiers — plain Euler at two block counts, one step through all blocks, a guided tier,
   * Heun and Dormand–Prince — each added only when no earlier entry has the same tier, so the mix
   * keeps a guided, a Heun and a Dopri5 tier and six or more distinct tiers whatever the presets
   * are (odelt-mnist 2.0.0's presets s2-b2 / s4-b4 / s8-b4 coincide with the plain ones and carry
   * no guidance; 1.0.0's were guided).
   */
  static Map<TierChoice, Double> mix(ModelManifest manifest, ModelConfig config) {
    Map<TierChoice, Double> mix = new LinkedHashMap<>();
    Set<String> labels = new HashSet<>();
    Map<String, Double> presetWeights = Map.of("draft", 0.20, "standard", 0.20, "premium", 0.05);
    for (TierPreset p : manifest.getTiersList()) {
      Double w = presetWeights.get(p.getName());
      if (w != null && labels.add(Tier.fromProto(p.getTier()).label())) {
        mix.put(TierChoice.preset(p.getName()), w);
      }
    }
    List<Integer> blocks = config.allowedBlocks();
    int most = blocks.get(blocks.size() - 1);
    int fewest = blocks.get(0);
    int middle = blocks.get(blocks.size() / 2);
    List<Tier> explicit =
        List.of(
            Tier.of(4, middle),
            Tier.of(2, fewest),
            Tier.of(1, most),
            Tier.of(2, most).withGuidance(2f),
            Tier.of(8, most).withSolver(Solver.HEUN),
            Tier.of(4, most).withSolver(Solver.DOPRI5));
    for (Tier t : explicit) {
      if (labels.add(t.label())) {
        mix.put(TierChoice.of(t), 0.10);
      }
    }
    return mix;
  }

  private Comparison compare(BenchContext context, String name, String requests, Path dir)
      throws Exception {
    Path planOut = PipelineEfficiencyBench.fresh(dir.resolve(name + "/plan"));
    Path runOut = PipelineEfficiencyBench.fresh(dir.resolve(name + "/run"));
    LOG.info("plan-accuracy: {}: plan", name);
    Child plan = child(context, requests, planOut, List.of(), List.of("--plan"), "plan.log");
    LOG.info("plan-accuracy: {}: run", name);
    Child run = child(context, requests, runOut, List.of(), List.of(), "run.log");
    return new Comparison(
        name,
        GenerateJob.readPlan(planOut.toString()),
        plan,
        GenerateJob.readSummary(runOut.toString()),
        run);
  }

  /** Runs the job in a child JVM, sampling its RSS; exit codes 0 and 3 are success. */
  private static Child child(
      BenchContext context,
      String requests,
      Path out,
      List<String> jvmArgs,
      List<String> extra,
      String log)
      throws Exception {
    List<String> args = new ArrayList<>();
    args.add("--requests=" + requests);
    args.add("--output=" + out.toAbsolutePath());
    args.add("--model=" + context.modelLocation());
    args.add("--device=cpu");
    args.add("--progressSeconds=0");
    args.addAll(extra);
    List<String> command = ChildJob.command(context.repoRoot(), jvmArgs, args);
    double peak = 0;
    int code;
    long start = System.nanoTime();
    try (ChildJob job = ChildJob.start(command, out.getParent().resolve(log))) {
      Path status = Path.of("/proc", Long.toString(job.pid()), "status");
      while (job.isAlive()) {
        JobMemoryBench.Sample s = JobMemoryBench.readStatus(status, 0);
        if (s != null) {
          peak = Math.max(peak, Math.max(s.rssMb(), s.hwmMb()));
        }
        Thread.sleep(200);
      }
      code = job.waitFor(TIMEOUT_SECONDS);
      if (code != GenerateJob.EXIT_OK && code != GenerateJob.EXIT_REJECTS) {
        throw new IllegalStateException("The job exited with " + code + ":\n" + job.tail(40));
      }
    }
    return new Child((System.nanoTime() - start) / 1e9, peak, code);
  }

  /**
   * The error of a tier's share of all tiers' device seconds, (predicted share) / (actual share) −
   * 1: a slowdown of the whole machine between plan and run (other processes on a shared host)
   * moves every tier alike and leaves this at 0, so it shows how well the quote splits the cost
   * over the tiers whatever the load.
   */
  static double shareError(
      double predicted, double predictedTiers, double actual, double actualTiers) {
    return error(predicted / predictedTiers, actual / actualTiers);
  }

  private static Section.Table table(Comparison c) {
    List<List<String>> rows = new ArrayList<>();
    Map<String, TierAccount> actual = byLabel(c.run().getTiersList());
    double predictedTiers = tierSum(c.plan().getSummary().getTiersList());
    double actualTiers = tierSum(c.run().getTiersList());
    for (TierAccount p : c.plan().getSummary().getTiersList()) {
      TierAccount a = actual.get(p.getTierLabel());
      if (a == null) {
        throw new IllegalStateException("The run has no tier " + p.getTierLabel());
      }
      rows.add(
          List.of(
              p.getTierLabel(),
              Long.toString(p.getImages()),
              p.getBatches() + " / " + a.getBatches(),
              f("%.0f", p.getBlockEvaluationsPerImage() * p.getImagesGenerated()),
              f("%.3f", p.getDeviceSeconds()),
              f("%.3f", a.getDeviceSeconds()),
              f("%+.1f%%", 100 * error(p.getDeviceSeconds(), a.getDeviceSeconds())),
              f(
                  "%+.1f%%",
                  100
                      * shareError(
                          p.getDeviceSeconds(),
                          predictedTiers,
                          a.getDeviceSeconds(),
                          actualTiers))));
    }
    RunSummary ps = c.plan().getSummary();
    rows.add(
        List.of(
            "warm-up (no tier)",
            "",
            "",
            "",
            f("%.3f", ps.getWarmUpSeconds()),
            f("%.3f", c.run().getWarmUpSeconds()),
            f("%+.1f%%", 100 * error(ps.getWarmUpSeconds(), c.run().getWarmUpSeconds())),
            ""));
    rows.add(
        List.of(
            "total",
            Long.toString(ps.getImages()),
            ps.getTiersList().stream().mapToLong(TierAccount::getBatches).sum()
                + " / "
                + c.run().getTiersList().stream().mapToLong(TierAccount::getBatches).sum(),
            f(
                "%.0f",
                ps.getTiersList().stream()
                    .mapToDouble(t -> t.getBlockEvaluationsPerImage() * t.getImagesGenerated())
                    .sum()),
            f("%.3f", ps.getDeviceSeconds()),
            f("%.3f", c.run().getDeviceSeconds()),
            f("%+.1f%%", 100 * error(ps.getDeviceSeconds(), c.run().getDeviceSeconds())),
            ""));
    return new Section.Table(
        c.name() + ": predicted (plan) vs actual (run) device seconds per tier",
        List.of(
            "tier",
            "images",
            "batches plan / run",
            "block evaluations (plan)",
            "predicted device s",
            "actual device s",
            "error",
            "error of the tier's share"),
        rows);
  }

  private static double tierSum(List<TierAccount> tiers) {
    return tiers.stream().mapToDouble(TierAccount::getDeviceSeconds).sum();
  }

  private static Map<String, TierAccount> byLabel(List<TierAccount> tiers) {
    Map<String, TierAccount> out = new TreeMap<>();
    tiers.forEach(t -> out.put(t.getTierLabel(), t));
    return out;
  }

  /** (predicted − actual) / actual. */
  static double error(double predicted, double actual) {
    return actual == 0
        ? (predicted == 0 ? 0 : Double.POSITIVE_INFINITY)
        : (predicted - actual) / actual;
  }
}
