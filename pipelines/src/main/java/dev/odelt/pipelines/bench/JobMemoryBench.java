package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.JobStats.f;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.pipelines.bench.JobManifests.TierChoice;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue item 5, first half: the resident memory of a job process over a 10,000-image run of the
 * cheapest tier. The job runs as a child JVM; its VmRSS is read from {@code /proc/<pid>/status}
 * every 250 ms and its progress lines give images done over time, so RSS growth is measured per
 * image after warm-up. Native memory tracking ({@code jcmd VM.native_memory}) splits the JVM's own
 * memory into heap and the rest at warm-up and near the end.
 */
public final class JobMemoryBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(JobMemoryBench.class);

  /** Growth slope allowed after warm-up, MB of RSS per 1,000 images. */
  static final double MAX_SLOPE_MB_PER_1000 = 2.0;

  /** Images done before the warm-up ends, as a fraction of all images. */
  static final double WARM_UP_FRACTION = 0.2;

  static final long SAMPLE_MILLIS = 250;

  private static final Pattern NMT_TOTAL =
      Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB");
  private static final Pattern NMT_HEAP =
      Pattern.compile("Java Heap \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

  @Override
  public String id() {
    return "job-memory";
  }

  /** One RSS sample: seconds after launch, VmRSS and VmHWM in MB. */
  record Sample(double seconds, double rssMb, double hwmMb) {}

  /** A native-memory snapshot: images done, heap committed and JVM total committed, MB. */
  record Nmt(String when, double images, double heapMb, double jvmCommittedMb, double rssMb) {}

  @Override
  public Section run(BenchContext context) throws Exception {
    ModelConfig config = context.modelConfig();
    Tier tier = Tier.of(1, config.allowedBlocks().get(0));
    int total = context.shortMode() ? 500 : 10_000;
    int perRequest = 100;
    List<JobManifests.Request> requests = new ArrayList<>();
    for (int i = 0; i * perRequest < total; i++) {
      requests.add(
          new JobManifests.Request(
              f("mem-%05d", i),
              i % config.numClasses(),
              Math.min(perRequest, total - i * perRequest),
              1000L + i,
              TierChoice.of(tier)));
    }
    Path dir = context.workDir().resolve(id());
    Path manifest = JobManifests.write(dir.resolve("requests.jsonl"), requests);
    Path out = PipelineEfficiencyBench.fresh(dir.resolve("out"));
    List<String> command =
        ChildJob.command(
            context.repoRoot(),
            List.of("-XX:NativeMemoryTracking=summary"),
            List.of(
                "--requests=" + manifest.toAbsolutePath(),
                "--output=" + out.toAbsolutePath(),
                "--model=" + context.modelLocation(),
                "--progressSeconds=1"));
    LOG.info("job-memory: {} images of {} in a child JVM", total, tier.label());
    List<Sample> samples = new ArrayList<>();
    List<CompletableFuture<Nmt>> snapshots = new ArrayList<>();
    double warmImages = WARM_UP_FRACTION * total;
    int code;
    List<long[]> progress;
    try (ChildJob child = ChildJob.start(command, dir.resolve("job.log"))) {
      Path status = Path.of("/proc", Long.toString(child.pid()), "status");
      boolean warmSnapshot = false;
      boolean lateSnapshot = false;
      long next = System.nanoTime();
      while (child.isAlive()) {
        Sample s = readStatus(status, (System.nanoTime() - child.startNanos()) / 1e9);
        if (s != null) {
          samples.add(s);
        }
        double done = imagesDone(ChildJob.progress(child.lines()));
        if (!warmSnapshot && done >= warmImages) {
          warmSnapshot = true;
          snapshots.add(snapshot("after warm-up", child.pid(), done, s));
        }
        if (!lateSnapshot && done >= 0.9 * total) {
          lateSnapshot = true;
          snapshots.add(snapshot("at 90% of images", child.pid(), done, s));
        }
        next += SAMPLE_MILLIS * 1_000_000;
        long sleep = (next - System.nanoTime()) / 1_000_000;
        if (sleep > 0) {
          Thread.sleep(sleep);
        }
      }
      code = child.waitFor(600);
      if (code != 0) {
        throw new IllegalStateException("The job exited with " + code + ":\n" + child.tail(40));
      }
      progress = ChildJob.progress(child.lines());
    }
    List<Nmt> nmt = new ArrayList<>();
    for (CompletableFuture<Nmt> s : snapshots) {
      Nmt n = s.join();
      if (n != null) {
        nmt.add(n);
      }
    }
    if (samples.size() < 4 || progress.isEmpty()) {
      throw new IllegalStateException("Too few samples or no progress lines to measure memory");
    }
    // Post-warm-up samples while images are being made: images done interpolated from progress.
    List<double[]> growth = new ArrayList<>();
    double peakRss = 0;
    for (Sample s : samples) {
      peakRss = Math.max(peakRss, s.rssMb());
      double images = interpolate(progress, s.seconds());
      if (images >= warmImages && images < total) {
        growth.add(new double[] {images, s.rssMb()});
      }
    }
    double hwm = samples.get(samples.size() - 1).hwmMb();
    double slope = Double.NaN;
    double warmRss = Double.NaN;
    double endRss = Double.NaN;
    if (growth.size() >= 2) {
      double[] x = growth.stream().mapToDouble(p -> p[0] / 1000).toArray();
      double[] y = growth.stream().mapToDouble(p -> p[1]).toArray();
      if (x[0] != x[x.length - 1]) {
        slope = JobStats.leastSquares(x, y).slope();
      }
      warmRss = y[0];
      endRss = y[y.length - 1];
    }
    boolean met = !Double.isNaN(slope) && slope <= MAX_SLOPE_MB_PER_1000;
    String plot = id() + "-rss.png";
    writePlot(context.reportDir().resolve(plot), samples, progress, warmImages);

    List<List<String>> memRows = new ArrayList<>();
    memRows.add(List.of("peak RSS (sampled)", f("%.0f", peakRss)));
    memRows.add(List.of("VmHWM (kernel's peak, last sample)", f("%.0f", hwm)));
    memRows.add(List.of(f("RSS after warm-up (%.0f images)", warmImages), f("%.0f", warmRss)));
    memRows.add(List.of("RSS at the last image", f("%.0f", endRss)));
    memRows.add(List.of("growth slope after warm-up, MB per 1,000 images", f("%.2f", slope)));
    List<List<String>> nmtRows = new ArrayList<>();
    for (Nmt n : nmt) {
      nmtRows.add(
          List.of(
              n.when(),
              f("%.0f", n.images()),
              f("%.0f", n.rssMb()),
              f("%.0f", n.heapMb()),
              f("%.0f", n.jvmCommittedMb() - n.heapMb()),
              f("%.0f", n.rssMb() - n.jvmCommittedMb())));
    }
    List<String> findings = new ArrayList<>();
    findings.add(
        f(
            "RSS goes from %.0f MB after warm-up to %.0f MB at the last image; least-squares"
                + " slope %.2f MB per 1,000 images over %d samples (threshold %.1f).",
            warmRss, endRss, slope, growth.size(), MAX_SLOPE_MB_PER_1000));
    if (nmt.size() == 2) {
      Nmt a = nmt.get(0);
      Nmt b = nmt.get(1);
      findings.add(
          f(
              "Between %.0f and %.0f images: Java heap committed %+.0f MB, other JVM memory %+.0f"
                  + " MB, memory outside the JVM's tracking (PyTorch, native libraries) %+.0f MB.",
              a.images(),
              b.images(),
              b.heapMb() - a.heapMb(),
              (b.jvmCommittedMb() - b.heapMb()) - (a.jvmCommittedMb() - a.heapMb()),
              (b.rssMb() - b.jvmCommittedMb()) - (a.rssMb() - a.jvmCommittedMb())));
    }
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("images", total);
    raw.put("tier", tier.label());
    raw.put("peak_rss_mb", peakRss);
    raw.put("vm_hwm_mb", hwm);
    raw.put("warm_rss_mb", warmRss);
    raw.put("end_rss_mb", endRss);
    raw.put("slope_mb_per_1000_images", slope);
    raw.put("threshold_mb_per_1000_images", MAX_SLOPE_MB_PER_1000);
    raw.put("samples", samples.stream().map(s -> List.of(s.seconds(), s.rssMb())).toList());
    raw.put("progress", progress.stream().map(p -> List.of(p[0] / 1e9, p[1])).toList());
    raw.put(
        "nmt",
        nmt.stream()
            .map(
                n ->
                    Map.of(
                        "when", n.when(),
                        "images", n.images(),
                        "rss_mb", n.rssMb(),
                        "heap_committed_mb", n.heapMb(),
                        "jvm_committed_mb", n.jvmCommittedMb()))
            .toList());
    return new Section(
        id(),
        "Memory over a long run",
        f(
            "The job runs as a child JVM (same java, -XX:NativeMemoryTracking=summary, job"
                + " defaults, --progressSeconds=1) on %d images of %s in %d requests. VmRSS is read"
                + " from /proc/<pid>/status every %d ms; images done at each sample are"
                + " interpolated from the job's progress lines. Warm-up = the first %.0f%% of"
                + " images; the growth slope is a least-squares fit of RSS on images over the"
                + " samples after warm-up and before the last image. jcmd VM.native_memory"
                + " summary after warm-up and at 90%% of images splits the JVM's memory.",
            total, tier.label(), requests.size(), SAMPLE_MILLIS, 100 * WARM_UP_FRACTION),
        List.of(
            new Section.Table("Resident memory (MB)", List.of("measure", "MB"), memRows),
            new Section.Table(
                "Native memory tracking snapshots (MB)",
                List.of(
                    "when",
                    "images done",
                    "RSS",
                    "Java heap committed",
                    "other JVM committed",
                    "RSS − JVM committed (PyTorch, libraries)"),
                nmtRows)),
        List.of(
            new Section.Goal(
                "no RSS growth after warm-up (least-squares slope)",
                f("≤ %.1f MB per 1,000 images", MAX_SLOPE_MB_PER_1000),
                f("%.2f MB per 1,000 images", slope),
                met)),
        findings,
        raw,
        List.of(plot));
  }

  /** VmRSS and VmHWM of a live process, or null when it has just exited. */
  static Sample readStatus(Path status, double seconds) {
    List<String> lines;
    try {
      lines = Files.readAllLines(status, StandardCharsets.UTF_8);
    } catch (IOException e) {
      // The process ended between the caller's isAlive() and this read: the file is gone
      // (NoSuchFileException) or still listed but the read fails with ESRCH ("No such process").
      // Either way there is no sample; the caller's loop ends on its next isAlive().
      return null;
    }
    double rss = -1;
    double hwm = -1;
    for (String line : lines) {
      if (line.startsWith("VmRSS:")) {
        rss = kb(line) / 1024.0;
      } else if (line.startsWith("VmHWM:")) {
        hwm = kb(line) / 1024.0;
      }
    }
    return rss < 0 ? null : new Sample(seconds, rss, hwm);
  }

  private static long kb(String line) {
    String[] parts = line.trim().split("\\s+");
    return Long.parseLong(parts[1]);
  }

  /** Images done by the latest progress point. */
  private static double imagesDone(List<long[]> progress) {
    return progress.isEmpty() ? 0 : progress.get(progress.size() - 1)[1];
  }

  /**
   * Images done at {@code seconds} after launch, linear between progress points (nanos, images); 0
   * before the first point (which is when the first images appeared), the last count after the last
   * point.
   */
  static double interpolate(List<long[]> progress, double seconds) {
    double before = 0;
    double beforeT = progress.isEmpty() ? 0 : progress.get(0)[0] / 1e9 - 1;
    for (long[] p : progress) {
      double t = p[0] / 1e9;
      if (seconds <= t) {
        if (t == beforeT) {
          return p[1];
        }
        double w = Math.max(0, (seconds - beforeT) / (t - beforeT));
        return before + w * (p[1] - before);
      }
      before = p[1];
      beforeT = t;
    }
    return before;
  }

  /** Runs {@code jcmd <pid> VM.native_memory summary} in the background. */
  private static CompletableFuture<Nmt> snapshot(String when, long pid, double images, Sample s) {
    double rss = s == null ? Double.NaN : s.rssMb();
    return CompletableFuture.supplyAsync(
        () -> {
          Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
          if (!Files.isExecutable(jcmd)) {
            return null;
          }
          try {
            Process p =
                new ProcessBuilder(
                        jcmd.toString(), Long.toString(pid), "VM.native_memory", "summary")
                    .redirectErrorStream(true)
                    .start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            Matcher total = NMT_TOTAL.matcher(text);
            Matcher heap = NMT_HEAP.matcher(text);
            if (!total.find() || !heap.find()) {
              LOG.warn("jcmd gave no native memory summary for {}: {}", when, text.trim());
              return null;
            }
            return new Nmt(
                when,
                images,
                Long.parseLong(heap.group(2)) / 1024.0,
                Long.parseLong(total.group(2)) / 1024.0,
                rss);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
        });
  }

  /** RSS over time, with the end of warm-up marked as a vertical line. */
  static void writePlot(Path file, List<Sample> samples, List<long[]> progress, double warmImages)
      throws IOException {
    List<double[]> rss = samples.stream().map(s -> new double[] {s.seconds(), s.rssMb()}).toList();
    List<Plots.Series> series = new ArrayList<>();
    series.add(Plots.Series.of("RSS (MB)", rss));
    double maxRss = samples.stream().mapToDouble(Sample::rssMb).max().orElse(1);
    samples.stream()
        .filter(s -> interpolate(progress, s.seconds()) >= warmImages)
        .findFirst()
        .ifPresent(
            s ->
                series.add(
                    Plots.Series.of(
                        "warm-up ends",
                        List.of(
                            new double[] {s.seconds(), 0}, new double[] {s.seconds(), maxRss}))));
    Plots.write(
        new Plots.Chart(
            "RSS of the job process", "seconds after launch", "RSS (MB)", false, false, true),
        series,
        file,
        800,
        400);
  }
}
