package dev.odelt.pipelines;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import dev.odelt.transforms.accounting.Progress;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The launcher's view of a job running on a Flink cluster: every few seconds it sums the progress
 * snapshots the workers publish ({@link Progress#publishTo}, one object per worker JVM under the
 * run's {@code progress/<run>/} folder) and prints one line per tier with images done / planned,
 * rate and ETA for the whole cluster, in the same form as the embedded run's log lines.
 *
 * <p>Why not Beam counters over Flink's REST API: in batch mode the Flink runner runs each DoFn
 * operator's whole input as one bundle and hands Beam metrics to Flink's metric groups only when a
 * bundle finishes, so {@code odelt_progress.*} never shows in {@code
 * /jobs/<id>/vertices/<vid>/subtasks/metrics} while a stage runs (checked on a real cluster; see
 * deploy/README.md). Until the first snapshot arrives (or when the launcher cannot read them) it
 * prints one {@value #ALL_TIERS} line from Flink's own record counters over REST ({@code
 * /jobs/<id>/vertices/<vid>/subtasks/metrics?get=<names>&agg=sum}).
 *
 * <p>For display only: a snapshot is at most a few seconds old. After a failover a task that runs
 * again counts under a higher attempt and only the latest attempt of each task counts, so work
 * redone or skipped after a restart is not counted twice (a tier's count can drop back while a
 * restarted task re-counts what it skips). The end-of-run table comes from the job's own accounting
 * ({@code run.json}). A read fault is logged (the first one as a warning) and the next poll tries
 * again; it never fails the job.
 */
public final class ClusterProgress implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterProgress.class);

  private final URI rest;
  private final String jobName;
  private final String snapshots;
  private final PrintStream console;
  private final HttpClient http;
  private final ScheduledExecutorService poller;
  private String jobId;
  private long firstDoneNanos;
  private long lastPrintedDone = -1;
  private boolean warned;
  private boolean snapshotsWarned;

  private ClusterProgress(URI rest, String jobName, String snapshots, PrintStream console) {
    this.rest = rest;
    this.jobName = jobName;
    this.snapshots = snapshots;
    this.console = console;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    this.poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "odelt-cluster-progress");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Starts printing the progress of the job named {@code jobName} on the cluster whose REST
   * endpoint is {@code flinkMaster} ({@code host:port}) every {@code seconds}, from the workers'
   * snapshots under {@code snapshots} (empty: Flink's record counters only).
   */
  public static ClusterProgress start(
      String flinkMaster, String jobName, long seconds, String snapshots, PrintStream console) {
    String base = flinkMaster.contains("://") ? flinkMaster : "http://" + flinkMaster;
    ClusterProgress p = new ClusterProgress(URI.create(base + "/"), jobName, snapshots, console);
    p.poller.scheduleWithFixedDelay(p::pollQuietly, seconds, seconds, TimeUnit.SECONDS);
    return p;
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }

  private void pollQuietly() {
    try {
      poll();
    } catch (IOException | RuntimeException e) {
      if (!warned) {
        warned = true;
        LOG.warn("Cluster progress: cannot read Flink's REST API at {}: {}", rest, e.toString());
      }
      LOG.debug("Cluster progress: REST poll failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * One poll: sums the workers' snapshots (or, while there are none, finds the job and sums Flink's
   * record counters) and prints the lines when something changed.
   */
  void poll() throws IOException, InterruptedException {
    Totals totals = new Totals(Map.of(), Map.of());
    if (!snapshots.isEmpty()) {
      try {
        totals = snapshotTotals();
      } catch (IOException | RuntimeException e) {
        if (!snapshotsWarned) {
          snapshotsWarned = true;
          LOG.warn(
              "Cluster progress: cannot read the snapshots in {}: {}", snapshots, e.toString());
        }
        LOG.debug("Cluster progress: snapshot read failed", e);
      }
    }
    if (totals.planned().isEmpty()) {
      if (jobId == null) {
        jobId = findJob().orElse(null);
        if (jobId == null) {
          return;
        }
      }
      totals = totals(jobId);
    }
    long done = totals.done().values().stream().mapToLong(Long::longValue).sum();
    if (done == 0 || done == lastPrintedDone) {
      return;
    }
    if (firstDoneNanos == 0) {
      firstDoneNanos = System.nanoTime();
    }
    lastPrintedDone = done;
    double seconds = Math.max(1, (System.nanoTime() - firstDoneNanos) / 1e9);
    for (Map.Entry<String, String> line :
        Progress.lines(totals.planned(), totals.done(), seconds).entrySet()) {
      console.println("odelt: cluster progress " + line.getKey() + ": " + line.getValue());
    }
  }

  /** Images planned and done per tier, summed over all workers (done at most planned). */
  record Totals(Map<String, Long> planned, Map<String, Long> done) {}

  /** The sum of the workers' snapshots under the snapshot folder. */
  Totals snapshotTotals() throws IOException {
    ObjectStore store = ObjectStores.forLocation(snapshots);
    List<String> jsons = new ArrayList<>();
    List<String> locations;
    try (Stream<String> listed = store.list(ObjectStore.resolve(snapshots, "*.json"))) {
      locations = listed.toList();
    }
    for (String location : locations) {
      try {
        jsons.add(new String(store.readAllBytes(location), StandardCharsets.UTF_8));
      } catch (FileNotFoundException gone) {
        // Replaced between the listing and the read (writes are atomic): the next poll reads it.
      }
    }
    return sum(jsons);
  }

  /**
   * Merges snapshots ({@link Progress#merge}: of each task only its latest attempt counts); one
   * that is not a snapshot is skipped and logged. Done is capped at planned per tier (a snapshot
   * can be a little older than another).
   */
  static Totals sum(List<String> snapshotJsons) {
    List<Progress.Snapshot> tasks = new ArrayList<>();
    for (String json : snapshotJsons) {
      try {
        tasks.addAll(Progress.Snapshot.read(json));
      } catch (IllegalArgumentException e) {
        LOG.warn("Cluster progress: skipped a progress snapshot: {}", e.getMessage());
      }
    }
    Map<String, Long> planned = new TreeMap<>();
    Map<String, Long> done = new TreeMap<>();
    Progress.merge(tasks, planned, done);
    Map<String, Long> capped = new TreeMap<>();
    done.forEach((tier, n) -> capped.put(tier, Math.min(n, planned.getOrDefault(tier, n))));
    return new Totals(planned, capped);
  }

  private Optional<String> findJob() throws IOException, InterruptedException {
    JsonArray jobs = get("jobs/overview").getAsJsonObject().getAsJsonArray("jobs");
    String found = null;
    long newest = Long.MIN_VALUE;
    for (JsonElement e : jobs) {
      JsonObject job = e.getAsJsonObject();
      if (job.get("name").getAsString().equals(jobName)
          && job.get("start-time").getAsLong() > newest) {
        newest = job.get("start-time").getAsLong();
        found = job.get("jid").getAsString();
      }
    }
    return Optional.ofNullable(found);
  }

  /**
   * The one {@value #ALL_TIERS} line from Flink's own counters: images planned = the records the
   * ExpandRequests stage wrote (one per image to generate or resumed; kept by the JobManager after
   * the stage finished), done = the records out of WriteImages and ResumedRecords (all of them once
   * generation finished).
   */
  Totals totals(String jid) throws IOException, InterruptedException {
    long plannedAll = 0;
    long doneAll = 0;
    JsonArray vertices = get("jobs/" + jid).getAsJsonObject().getAsJsonArray("vertices");
    boolean generationFinished = false;
    for (JsonElement v : vertices) {
      JsonObject vertex = v.getAsJsonObject();
      String vertexName = vertex.get("name").getAsString();
      if (vertexName.contains(EXPAND_CHUNKS) && vertex.has("metrics")) {
        plannedAll += vertex.getAsJsonObject("metrics").get("write-records").getAsLong();
      }
      if (vertexName.contains(GENERATE) && "FINISHED".equals(vertex.get("status").getAsString())) {
        generationFinished = true;
      }
      String vid = vertex.get("id").getAsString();
      String path = "jobs/" + jid + "/vertices/" + vid + "/subtasks/metrics";
      List<String> encoded = new ArrayList<>();
      for (JsonElement m : get(path).getAsJsonArray()) {
        String name = m.getAsJsonObject().get("id").getAsString();
        if (isDoneRecords(name)) {
          encoded.add(URLEncoder.encode(name, StandardCharsets.UTF_8));
        }
      }
      if (encoded.isEmpty()) {
        continue;
      }
      for (JsonElement m :
          get(path + "?agg=sum&get=" + String.join(",", encoded)).getAsJsonArray()) {
        doneAll += (long) m.getAsJsonObject().get("sum").getAsDouble();
      }
    }
    if (generationFinished) {
      doneAll = plannedAll;
    }
    if (plannedAll == 0) {
      return new Totals(Map.of(), Map.of());
    }
    return new Totals(Map.of(ALL_TIERS, plannedAll), Map.of(ALL_TIERS, doneAll));
  }

  /** Label of the one line shown when only Flink's own record counters are available. */
  static final String ALL_TIERS = "all tiers";

  private static final String EXPAND_CHUNKS = "ExpandRequests/ExpandChunks";
  private static final String GENERATE = "GenerateImages/Sample";

  /** Image records out of WriteImages and ResumedRecords: every image done. */
  static boolean isDoneRecords(String metric) {
    return metric.endsWith(".numRecordsOut")
        && (metric.contains("WriteImages/WritePng") || metric.contains("ResumedRecords/WritePng"));
  }

  private JsonElement get(String path) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(rest.resolve(path)).timeout(Duration.ofSeconds(10)).GET().build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET " + request.uri() + ": HTTP " + response.statusCode());
    }
    return JsonParser.parseString(response.body());
  }
}
