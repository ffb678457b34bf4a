package dev.odelt.transforms.accounting;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
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
 * <p><b>Whole-cluster progress.</b> With {@link #publishTo} the counts are also written, at most
 * every few seconds and once more at the end of each bundle ({@link #flush}), as a snapshot object
 * {@code <directory>/<instance id>.json} ({@code {"planned":{tier:n},"done":{tier:n}}}); the
 * launcher sums the snapshots of all workers ({@link #readSnapshot}). Beam counters cannot carry
 * this on Flink in batch mode: the runner hands a DoFn's Beam metrics to Flink's metric groups only
 * when a bundle finishes, and in batch mode a DoFn operator runs its whole input as one bundle, so
 * the counters reach Flink's REST API only as the stage ends (and its subtasks' metrics are then
 * unregistered). The counters {@code odelt_progress.planned_<tier>} / {@code done_<tier>} are still
 * kept: they reach the pipeline result on every runner. A snapshot that cannot be written is logged
 * (the first time as a warning) and never fails the job.
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
  private final String instanceId = UUID.randomUUID().toString();
  private volatile String snapshotLocation;
  private volatile long snapshotEveryNanos;
  private volatile long lastSnapshotNanos;
  private volatile boolean snapshotDirty;
  private boolean snapshotWarned;

  Progress() {}

  /** The JVM-wide instance the DoFns update. */
  public static Progress global() {
    return GLOBAL;
  }

  public void planned(String tier, long images) {
    if (images > 0) {
      planned.computeIfAbsent(tier, t -> new AtomicLong()).addAndGet(images);
      Metrics.counter(NAMESPACE, PLANNED_PREFIX + tier).inc(images);
      changed();
    }
  }

  public void done(String tier, long images) {
    if (firstDoneNanos == 0) {
      firstDoneNanos = System.nanoTime();
    }
    done.computeIfAbsent(tier, t -> new AtomicLong()).addAndGet(images);
    Metrics.counter(NAMESPACE, DONE_PREFIX + tier).inc(images);
    changed();
  }

  /**
   * Also writes this JVM's counts as a snapshot object under {@code directory} (a location any
   * worker and the launcher can reach) at most every {@code seconds} while they change, and at
   * every {@link #flush}. A later call with another directory moves the snapshot there.
   */
  public synchronized void publishTo(String directory, long seconds) {
    if (directory == null || directory.isEmpty()) {
      throw new IllegalArgumentException("directory must not be empty");
    }
    snapshotLocation = ObjectStore.resolve(directory, instanceId + ".json");
    snapshotEveryNanos = TimeUnit.SECONDS.toNanos(Math.max(1, seconds));
    // The first change is written at once.
    lastSnapshotNanos = System.nanoTime() - snapshotEveryNanos;
    snapshotDirty = true;
  }

  /** Writes the snapshot now if {@link #publishTo} was called and a count changed since. */
  public void flush() {
    if (snapshotDirty) {
      publish();
    }
  }

  private void changed() {
    snapshotDirty = true;
    if (snapshotLocation != null && System.nanoTime() - lastSnapshotNanos >= snapshotEveryNanos) {
      publish();
    }
  }

  private synchronized void publish() {
    if (snapshotLocation == null || !snapshotDirty) {
      return;
    }
    snapshotDirty = false;
    lastSnapshotNanos = System.nanoTime();
    byte[] json = snapshotJson().getBytes(StandardCharsets.UTF_8);
    try {
      ObjectStores.forLocation(snapshotLocation)
          .write(snapshotLocation, json, "application/json", Map.of());
    } catch (IOException | RuntimeException e) {
      snapshotDirty = true;
      if (!snapshotWarned) {
        snapshotWarned = true;
        LOG.warn("Progress: cannot write the snapshot {}: {}", snapshotLocation, e.toString());
      }
      LOG.debug("Progress: snapshot write failed", e);
    }
  }

  /** This JVM's counts as a snapshot: {@code {"planned":{tier:n},"done":{tier:n}}}. */
  String snapshotJson() {
    JsonObject o = new JsonObject();
    o.add("planned", counts(planned));
    o.add("done", counts(done));
    return new Gson().toJson(o);
  }

  private static JsonObject counts(Map<String, AtomicLong> counts) {
    JsonObject o = new JsonObject();
    new TreeMap<>(counts).forEach((tier, n) -> o.addProperty(tier, n.get()));
    return o;
  }

  /**
   * Adds the counts of one snapshot ({@link #publishTo}) to {@code planned} and {@code done}.
   *
   * @throws IllegalArgumentException when {@code json} is not a snapshot (not a JSON object with
   *     objects {@code planned} and {@code done} of non-negative whole numbers)
   */
  public static void readSnapshot(String json, Map<String, Long> planned, Map<String, Long> done) {
    JsonObject o;
    try {
      JsonElement e = JsonParser.parseString(json);
      if (!e.isJsonObject()) {
        throw new IllegalArgumentException("a progress snapshot must be a JSON object");
      }
      o = e.getAsJsonObject();
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    Map<String, Long> p = snapshotCounts(o, "planned");
    Map<String, Long> d = snapshotCounts(o, "done");
    p.forEach((tier, n) -> planned.merge(tier, n, Long::sum));
    d.forEach((tier, n) -> done.merge(tier, n, Long::sum));
  }

  private static Map<String, Long> snapshotCounts(JsonObject o, String field) {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonObject()) {
      throw new IllegalArgumentException("a progress snapshot needs an object '" + field + "'");
    }
    Map<String, Long> out = new TreeMap<>();
    for (Map.Entry<String, JsonElement> c : e.getAsJsonObject().entrySet()) {
      long n;
      try {
        n = c.getValue().getAsJsonPrimitive().getAsBigDecimal().longValueExact();
      } catch (RuntimeException bad) {
        n = -1;
      }
      if (n < 0) {
        throw new IllegalArgumentException(
            "'" + field + "." + c.getKey() + "' must be a whole number >= 0");
      }
      out.put(c.getKey(), n);
    }
    return out;
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
