package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.JobStats.f;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.pipelines.bench.JobManifests.TierChoice;
import dev.odelt.transforms.io.OutputLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue item 6: time from launching {@code java -jar odelt-pipelines.jar} on a one-request manifest
 * to its first PNG on disk, and to its exit, on embedded Flink. The child's log milestones (Flink
 * runner, mini cluster, job submitted, model loaded) break the time down.
 */
public final class StartupBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(StartupBench.class);

  /** Images of the one request: one small batch. */
  static final int IMAGES = 4;

  /** Log milestones of one run, in the order they happen; text each line contains. */
  static final List<String[]> MILESTONES =
      List.of(
          new String[] {
            "pipeline handed to Flink (JVM up, options, manifest, translation starts)",
            "Executing pipeline using FlinkRunner"
          },
          new String[] {
            "mini cluster starting (pipeline translated)", "Starting Flink Mini Cluster"
          },
          new String[] {"mini cluster up", "Flink Mini Cluster started successfully"},
          new String[] {"job submitted", "Submitting job"},
          new String[] {"model loaded", "Loaded model"});

  @Override
  public String id() {
    return "startup";
  }

  @Override
  public Section run(BenchContext context) throws Exception {
    ModelConfig config = context.modelConfig();
    Tier tier = Tier.of(1, config.allowedBlocks().get(0));
    JobManifests.Request request =
        new JobManifests.Request("startup", 0, IMAGES, 1L, TierChoice.of(tier));
    Path dir = context.workDir().resolve(id());
    Path manifest = JobManifests.write(dir.resolve("requests.jsonl"), List.of(request));
    List<Path> images = new ArrayList<>();
    int runs = context.shortMode() ? 1 : 3;
    List<Map<String, Double>> results = new ArrayList<>();
    List<Double> usageSeconds = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      Path out = PipelineEfficiencyBench.fresh(dir.resolve("out-" + (r + 1)));
      images.clear();
      for (int i = 0; i < IMAGES; i++) {
        images.add(out.resolve(OutputLayout.imagePath(tier.label(), request.id(), i)));
      }
      List<String> command =
          ChildJob.command(
              context.repoRoot(),
              List.of(
                  "-Dorg.slf4j.simpleLogger.log.org.apache.beam.runners.flink.FlinkRunner=info",
                  "-Dorg.slf4j.simpleLogger.log.org.apache.flink.runtime.minicluster=info",
                  "-Dorg.slf4j.simpleLogger.log.org.apache.flink.runtime.dispatcher=info"),
              List.of(
                  "--requests=" + manifest.toAbsolutePath(),
                  "--output=" + out.toAbsolutePath(),
                  "--model=" + context.modelLocation()));
      Map<String, Double> run = new LinkedHashMap<>();
      try (ChildJob child = ChildJob.start(command, dir.resolve("run-" + (r + 1) + ".log"))) {
        long firstImage = -1;
        while (child.isAlive() && firstImage < 0) {
          for (Path p : images) {
            if (Files.exists(p)) {
              firstImage = System.nanoTime() - child.startNanos();
              break;
            }
          }
          if (firstImage < 0) {
            Thread.sleep(5);
          }
        }
        int code = child.waitFor(300);
        long exit = System.nanoTime() - child.startNanos();
        if (code != 0) {
          throw new IllegalStateException(
              "The start-up job exited with " + code + ":\n" + child.tail(40));
        }
        if (firstImage < 0) {
          throw new IllegalStateException("The job exited before any image appeared");
        }
        for (String[] m : MILESTONES) {
          long at = child.firstLineNanos(m[1]);
          run.put(m[0], at < 0 ? Double.NaN : at / 1e9);
        }
        run.put("first image written", firstImage / 1e9);
        run.put("process exited", exit / 1e9);
      }
      List<String> bare = ChildJob.command(context.repoRoot(), List.of(), List.of());
      try (ChildJob child = ChildJob.start(bare, dir.resolve("usage-" + (r + 1) + ".log"))) {
        child.waitFor(120);
        usageSeconds.add((System.nanoTime() - child.startNanos()) / 1e9);
      }
      LOG.info(
          "startup run {}: first image {} s, exit {} s",
          r + 1,
          f("%.2f", run.get("first image written")),
          f("%.2f", run.get("process exited")));
      results.add(run);
    }
    Map<String, Double> medians = new LinkedHashMap<>();
    for (String key : results.get(0).keySet()) {
      medians.put(key, JobStats.median(results.stream().map(m -> m.get(key)).toList()));
    }
    List<List<String>> rows = new ArrayList<>();
    double previous = 0;
    for (Map.Entry<String, Double> e : medians.entrySet()) {
      List<String> row = new ArrayList<>();
      row.add(e.getKey());
      for (Map<String, Double> run : results) {
        row.add(f("%.2f", run.get(e.getKey())));
      }
      row.add(f("%.2f", e.getValue()));
      row.add(Double.isNaN(e.getValue()) ? "" : f("%.2f", e.getValue() - previous));
      if (!Double.isNaN(e.getValue())) {
        previous = e.getValue();
      }
      rows.add(row);
    }
    List<String> header = new ArrayList<>();
    header.add("milestone (seconds after launch)");
    for (int r = 0; r < runs; r++) {
      header.add("run " + (r + 1));
    }
    header.add("median");
    header.add("step (median)");
    double first = medians.get("first image written");
    double exit = medians.get("process exited");
    List<String> findings = new ArrayList<>();
    findings.add(
        f(
            "Median %.2f s from launch to the first image on disk and %.2f s to exit for a"
                + " %d-image request (tier %s).",
            first, exit, IMAGES, tier.label()));
    String slowest = "";
    double slowestStep = -1;
    double prev = 0;
    for (Map.Entry<String, Double> e : medians.entrySet()) {
      if (!Double.isNaN(e.getValue())) {
        if (e.getValue() - prev > slowestStep) {
          slowestStep = e.getValue() - prev;
          slowest = e.getKey();
        }
        prev = e.getValue();
      }
    }
    findings.add(f("The longest step ends at \"%s\": %.2f s.", slowest, slowestStep));
    findings.add(
        f(
            "Without arguments the same command exits after %.2f s (median): the JVM, the jar and"
                + " option parsing alone.",
            JobStats.median(usageSeconds)));
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("runs", results.stream().map(m -> (Object) new LinkedHashMap<>(m)).toList());
    raw.put("medians", medians);
    raw.put("usage_only_seconds", usageSeconds);
    raw.put("command", String.join(" ", command(context)));
    return new Section(
        id(),
        "Start-up: launch to first image",
        f(
            "The shaded jar (or GenerateJob on the class path when the jar is not built) starts as"
                + " a child process with the same java binary: java -jar odelt-pipelines.jar"
                + " --requests=<1 request of %d images, %s> --output=<fresh dir>, embedded Flink,"
                + " job defaults otherwise. The parent polls for the request's PNG files every"
                + " 5 ms and timestamps each log line of the child as it arrives (FlinkRunner,"
                + " MiniCluster and Dispatcher loggers raised to INFO). %d run(s); medians.",
            IMAGES, tier.label(), runs),
        List.of(
            new Section.Table("Start-up milestones", header, rows),
            new Section.Table(
                "Baseline: the same command without arguments (JVM start, jar, option parsing,"
                    + " usage message, exit)",
                List.of("runs (s)", "median (s)"),
                List.of(
                    List.of(
                        String.join(", ", usageSeconds.stream().map(v -> f("%.2f", v)).toList()),
                        f("%.2f", JobStats.median(usageSeconds)))))),
        List.of(
            new Section.Goal(
                "launch → first image written (measured; the issue sets no target)",
                "measured",
                f("%.2f s", first),
                true)),
        findings,
        raw,
        List.of());
  }

  private static List<String> command(BenchContext context) {
    return List.of(
        "java -jar " + ChildJob.shadedJar(context.repoRoot()),
        "--requests=<manifest>",
        "--output=<fresh dir>",
        "--model=" + context.modelLocation());
  }
}
