package dev.odelt.transforms.accounting;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
 * {@code <directory>/<instance id>.json}; the launcher merges the snapshots of all workers ({@link
 * Snapshot#read}, {@link #merge}). A snapshot holds the counts per task attempt: the Flink task
 * that counted (its thread's name without the attempt, {@code "<tasks> (i/n)"}) and its attempt
 * number ({@code #a}). After a failover a task that runs again (a restarted region, or a producer
 * whose results were lost with their worker) counts from zero under a higher attempt, and only the
 * latest attempt of each task counts, so work redone or skipped after a restart is not counted
 * twice. Outside a Flink task (a thread name without {@code (i/n)#a}) the thread is its own task,
 * attempt 0.
 *
 * <p>The counts are also Beam counters in namespace {@value #NAMESPACE}, named {@value
 * #PLANNED_PREFIX}{@code <tier>} and {@value #DONE_PREFIX}{@code <tier>}; they reach the pipeline
 * result, but not Flink's REST API while a stage runs: in batch mode the Flink runner runs a DoFn
 * operator's whole input as one bundle and hands Beam metrics to Flink's metric groups only when a
 * bundle finishes. A snapshot that cannot be written is logged (the first time as a warning) and
 * never fails the job.
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
  private final Map<String, Share> shares = new ConcurrentHashMap<>();
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
      share().planned.computeIfAbsent(tier, t -> new AtomicLong()).addAndGet(images);
      changed();
    }
  }

  public void done(String tier, long images) {
    if (firstDoneNanos == 0) {
      firstDoneNanos = System.nanoTime();
    }
    done.computeIfAbsent(tier, t -> new AtomicLong()).addAndGet(images);
    Metrics.counter(NAMESPACE, DONE_PREFIX + tier).inc(images);
    share().done.computeIfAbsent(tier, t -> new AtomicLong()).addAndGet(images);
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

  /** The counts of the task attempt running on this thread. */
  private Share share() {
    return shares.computeIfAbsent(Thread.currentThread().getName(), Share::ofThread);
  }

  /** The counts of one task attempt in this JVM. */
  private record Share(
      String task, int attempt, Map<String, AtomicLong> planned, Map<String, AtomicLong> done) {

    private static final Pattern FLINK_TASK = Pattern.compile("(.* \\(\\d+/\\d+\\))#(\\d{1,9})");

    /** From a Flink task thread's name, {@code "<tasks> (i/n)#a"}; else the name, attempt 0. */
    static Share ofThread(String threadName) {
      Matcher m = FLINK_TASK.matcher(threadName);
      boolean flink = m.matches();
      return new Share(
          flink ? m.group(1) : threadName,
          flink ? Integer.parseInt(m.group(2)) : 0,
          new ConcurrentHashMap<>(),
          new ConcurrentHashMap<>());
    }
  }

  /**
   * This JVM's counts as a snapshot: {@code {"tasks":[{"task":"<tasks> (i/n)","attempt":a,
   * "planned":{tier:n},"done":{tier:n}}, …]}}.
   */
  String snapshotJson() {
    JsonArray tasks = new JsonArray();
    for (Share share : new TreeMap<>(shares).values()) {
      JsonObject t = new JsonObject();
      t.addProperty("task", share.task());
      t.addProperty("attempt", share.attempt());
      t.add("planned", counts(share.planned()));
      t.add("done", counts(share.done()));
      tasks.add(t);
    }
    JsonObject o = new JsonObject();
    o.add("tasks", tasks);
    return new Gson().toJson(o);
  }

  private static JsonObject counts(Map<String, AtomicLong> counts) {
    JsonObject o = new JsonObject();
    new TreeMap<>(counts).forEach((tier, n) -> o.addProperty(tier, n.get()));
    return o;
  }

  /**
   * The counts of one task attempt, as read from a snapshot.
   *
   * @param task the task, {@code "<tasks> (i/n)"}
   * @param attempt its attempt number
   * @param planned images planned per tier
   * @param done images done per tier
   */
  public record Snapshot(
      String task, int attempt, Map<String, Long> planned, Map<String, Long> done) {

    /**
     * The task attempts of one snapshot object ({@link #publishTo}).
     *
     * @throws IllegalArgumentException when {@code json} is not a snapshot (not a JSON object with
     *     an array {@code tasks} of objects with a {@code task} name, an {@code attempt} >= 0 and
     *     objects {@code planned} and {@code done} of whole numbers >= 0)
     */
    public static List<Snapshot> read(String json) {
      JsonElement e;
      try {
        e = JsonParser.parseString(json);
      } catch (JsonParseException bad) {
        throw new IllegalArgumentException("not JSON: " + bad.getMessage(), bad);
      }
      if (!e.isJsonObject() || !e.getAsJsonObject().has("tasks")) {
        throw new IllegalArgumentException("a progress snapshot is an object with 'tasks'");
      }
      JsonElement tasks = e.getAsJsonObject().get("tasks");
      if (!tasks.isJsonArray()) {
        throw new IllegalArgumentException("'tasks' must be an array");
      }
      List<Snapshot> out = new ArrayList<>();
      for (JsonElement t : tasks.getAsJsonArray()) {
        if (!t.isJsonObject()) {
          throw new IllegalArgumentException("each of 'tasks' must be an object");
        }
        JsonObject o = t.getAsJsonObject();
        JsonElement task = o.get("task");
        if (task == null || !task.isJsonPrimitive() || !task.getAsJsonPrimitive().isString()) {
          throw new IllegalArgumentException("a task needs a 'task' name");
        }
        long attempt = whole(o.get("attempt"), "attempt");
        if (attempt > Integer.MAX_VALUE) {
          throw new IllegalArgumentException("'attempt' is too large");
        }
        out.add(
            new Snapshot(
                task.getAsString(),
                (int) attempt,
                snapshotCounts(o, "planned"),
                snapshotCounts(o, "done")));
      }
      return out;
    }
  }

  /**
   * Merges the task attempts of all snapshots into counts per tier: of each task only its latest
   * attempt counts (equal attempts of one task, which a healthy run never has, are added).
   */
  public static void merge(
      List<Snapshot> snapshots, Map<String, Long> planned, Map<String, Long> done) {
    Map<String, List<Snapshot>> latest = new TreeMap<>();
    for (Snapshot s : snapshots) {
      List<Snapshot> kept = latest.get(s.task());
      if (kept == null || kept.get(0).attempt() < s.attempt()) {
        latest.put(s.task(), new ArrayList<>(List.of(s)));
      } else if (kept.get(0).attempt() == s.attempt()) {
        kept.add(s);
      }
    }
    for (List<Snapshot> kept : latest.values()) {
      for (Snapshot s : kept) {
        s.planned().forEach((tier, n) -> planned.merge(tier, n, Long::sum));
        s.done().forEach((tier, n) -> done.merge(tier, n, Long::sum));
      }
    }
  }

  private static Map<String, Long> snapshotCounts(JsonObject o, String field) {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonObject()) {
      throw new IllegalArgumentException("a task needs an object '" + field + "'");
    }
    Map<String, Long> out = new TreeMap<>();
    for (Map.Entry<String, JsonElement> c : e.getAsJsonObject().entrySet()) {
      out.put(c.getKey(), whole(c.getValue(), field + "." + c.getKey()));
    }
    return out;
  }

  private static long whole(JsonElement value, String name) {
    long n;
    try {
      n = value.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
    } catch (RuntimeException bad) {
      n = -1;
    }
    if (n < 0) {
      throw new IllegalArgumentException("'" + name + "' must be a whole number >= 0");
    }
    return n;
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
