package dev.odelt.transforms.accounting;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.beam.sdk.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Images planned and done per tier in this JVM, logged every few seconds (rate and ETA) while
 * images are being made. On embedded Flink and the DirectRunner the whole job runs in one JVM, so
 * this is the job's progress; on a cluster each worker logs its own share. Counts are for display
 * only (a retried bundle counts twice); cost accounting comes from the pipeline's data.
 *
 * <p>Called from a DoFn, the counts are also Beam counters in namespace {@value #NAMESPACE}, named
 * {@value #PLANNED_PREFIX}{@code <tier>} and {@value #DONE_PREFIX}{@code <tier>}: on a Flink
 * cluster they reach the REST API as metrics {@code odelt_progress.planned_<tier>} per subtask,
 * which the launcher sums into the whole cluster's progress.
 */
public final class Progress {

  /** Namespace of the progress counters. */
  public static final String NAMESPACE = "odelt_progress";

  /** Name prefix of the per-tier planned-images counters. */
  public static final String PLANNED_PREFIX = "planned_";

  /** Name prefix of the per-tier done-images counters. */
  public static final String DONE_PREFIX = "done_";

  private static final Logger LOG = LoggerFactory.getLogger(Progress.class);
  private static final Progress GLOBAL = new Progress();

  private final Map<String, AtomicLong> planned = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> done = new ConcurrentHashMap<>();
  private volatile long firstDoneNanos;
  private ScheduledExecutorService reporter;
  private long lastReportedDone = -1;

  Progress() {}

  /** The JVM-wide instance the DoFns update. */
  public static Progress global() {
    return GLOBAL;
  }

  public void planned(String tier, long images) {
    if (images > 0) {
      planned.computeIfAbsent(tier, t -> new AtomicLong()).addAndGet(images);
      Metrics.counter(NAMESPACE, PLANNED_PREFIX + tier).inc(images);
    }
  }

  public void done(String tier, long images) {
    if (firstDoneNanos == 0) {
      firstDoneNanos = System.nanoTime();
    }
    done.computeIfAbsent(tier, t -> new AtomicLong()).addAndGet(images);
    Metrics.counter(NAMESPACE, DONE_PREFIX + tier).inc(images);
  }

  /** Starts logging every {@code seconds} (once per JVM; later calls do nothing). */
  public synchronized void startReporting(long seconds) {
    if (reporter != null || seconds <= 0) {
      return;
    }
    reporter =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "odelt-progress");
              t.setDaemon(true);
              return t;
            });
    reporter.scheduleAtFixedRate(this::report, seconds, seconds, TimeUnit.SECONDS);
  }

  /** One progress line per tier, only when something changed since the last report. */
  synchronized void report() {
    long total = done.values().stream().mapToLong(AtomicLong::get).sum();
    if (total == lastReportedDone || total == 0) {
      return;
    }
    lastReportedDone = total;
    double seconds = Math.max(1e-9, (System.nanoTime() - firstDoneNanos) / 1e9);
    for (Map.Entry<String, String> line : lines(seconds).entrySet()) {
      LOG.info("progress {}: {}", line.getKey(), line.getValue());
    }
  }

  /** The text of each tier's progress line, {@code seconds} after the first image was done. */
  Map<String, String> lines(double seconds) {
    Map<String, Long> plannedNow = new TreeMap<>();
    planned.forEach((tier, n) -> plannedNow.put(tier, n.get()));
    Map<String, Long> doneNow = new TreeMap<>();
    done.forEach((tier, n) -> doneNow.put(tier, n.get()));
    return lines(plannedNow, doneNow, seconds);
  }

  /**
   * Progress lines per tier ({@code "done/planned images (p%), r img/s, ETA s"}) from counts of
   * planned and done images, {@code seconds} after the first image was done. Shared by the in-JVM
   * report and the launcher's cluster-wide one, so both read the same.
   */
  public static Map<String, String> lines(
      Map<String, Long> planned, Map<String, Long> done, double seconds) {
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, Long> e : planned.entrySet()) {
      long plan = e.getValue();
      long made = done.getOrDefault(e.getKey(), 0L);
      double rate = made / Math.max(1e-9, seconds);
      String eta =
          made >= plan
              ? "done"
              : rate > 0 ? String.format(Locale.ROOT, "ETA %.0f s", (plan - made) / rate) : "ETA ?";
      out.put(
          e.getKey(),
          String.format(
              Locale.ROOT,
              "%d/%d images (%.0f%%), %.1f img/s, %s",
              made,
              plan,
              plan == 0 ? 100.0 : 100.0 * made / plan,
              rate,
              eta));
    }
    return out;
  }
}
