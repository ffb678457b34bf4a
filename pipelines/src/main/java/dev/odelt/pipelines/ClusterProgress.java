package dev.odelt.pipelines;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.odelt.transforms.accounting.Progress;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The launcher's view of a job running on a Flink cluster: every few seconds it reads the {@link
 * Progress} counters of all subtasks from Flink's REST API ({@code
 * /jobs/<id>/vertices/<vid>/subtasks/metrics?get=<names>&agg=sum}, where Beam counters appear as
 * {@code <operator>.odelt_progress.planned_<tier>}) and prints one line per tier with images done /
 * planned, rate and ETA for the whole cluster, in the same form as the embedded run's log lines.
 *
 * <p>For display only: a metric reaches the REST API after the bundle that counted it and Flink's
 * metric fetch interval, and a restarted subtask starts counting again. The end-of-run table comes
 * from the job's own accounting ({@code run.json}). A REST fault is logged (the first one as a
 * warning) and the next poll tries again; it never fails the job.
 */
public final class ClusterProgress implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterProgress.class);
  private static final String PLANNED = Progress.NAMESPACE + "." + Progress.PLANNED_PREFIX;
  private static final String DONE = Progress.NAMESPACE + "." + Progress.DONE_PREFIX;

  private final URI rest;
  private final String jobName;
  private final PrintStream console;
  private final HttpClient http;
  private final ScheduledExecutorService poller;
  private String jobId;
  private long firstDoneNanos;
  private long lastPrintedDone = -1;
  private boolean warned;

  private ClusterProgress(URI rest, String jobName, PrintStream console) {
    this.rest = rest;
    this.jobName = jobName;
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
   * endpoint is {@code flinkMaster} ({@code host:port}) every {@code seconds}.
   */
  public static ClusterProgress start(
      String flinkMaster, String jobName, long seconds, PrintStream console) {
    String base = flinkMaster.contains("://") ? flinkMaster : "http://" + flinkMaster;
    ClusterProgress p = new ClusterProgress(URI.create(base + "/"), jobName, console);
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

  /** One poll: finds the job, sums the counters, prints the lines when something changed. */
  void poll() throws IOException, InterruptedException {
    if (jobId == null) {
      jobId = findJob().orElse(null);
      if (jobId == null) {
        return;
      }
    }
    Totals totals = totals(jobId);
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

  /** Images planned and done per tier, summed over all subtasks of all vertices. */
  record Totals(Map<String, Long> planned, Map<String, Long> done) {}

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

  Totals totals(String jid) throws IOException, InterruptedException {
    Map<String, Long> planned = new TreeMap<>();
    Map<String, Long> done = new TreeMap<>();
    long plannedAll = 0;
    long doneAll = 0;
    JsonArray vertices = get("jobs/" + jid).getAsJsonObject().getAsJsonArray("vertices");
    boolean generationFinished = false;
    for (JsonElement v : vertices) {
      JsonObject vertex = v.getAsJsonObject();
      String vertexName = vertex.get("name").getAsString();
      if (vertexName.contains(EXPAND_CHUNKS) && vertex.has("metrics")) {
        // Kept by the JobManager after the stage finished (its subtask metrics are gone by then).
        plannedAll += vertex.getAsJsonObject("metrics").get("write-records").getAsLong();
      }
      if (vertexName.contains(GENERATE) && "FINISHED".equals(vertex.get("status").getAsString())) {
        generationFinished = true;
      }
      String vid = vertex.get("id").getAsString();
      String path = "jobs/" + jid + "/vertices/" + vid + "/subtasks/metrics";
      List<String> names = new ArrayList<>();
      for (JsonElement m : get(path).getAsJsonArray()) {
        String name = m.getAsJsonObject().get("id").getAsString();
        if (name.contains(PLANNED) || name.contains(DONE) || isDoneRecords(name)) {
          names.add(name);
        }
      }
      if (names.isEmpty()) {
        continue;
      }
      List<String> encoded = new ArrayList<>();
      for (String name : names) {
        encoded.add(URLEncoder.encode(name, StandardCharsets.UTF_8));
      }
      for (JsonElement m :
          get(path + "?agg=sum&get=" + String.join(",", encoded)).getAsJsonArray()) {
        JsonObject metric = m.getAsJsonObject();
        String name = metric.get("id").getAsString();
        long value = (long) metric.get("sum").getAsDouble();
        int p = name.indexOf(PLANNED);
        int d = name.indexOf(DONE);
        if (p >= 0) {
          planned.merge(name.substring(p + PLANNED.length()), value, Long::sum);
        } else if (d >= 0) {
          done.merge(name.substring(d + DONE.length()), value, Long::sum);
        } else {
          doneAll += value;
        }
      }
    }
    if (generationFinished) {
      doneAll = plannedAll;
    }
    if (planned.isEmpty() && plannedAll > 0) {
      // Beam counters reach Flink only when a bundle finishes; until then Flink's own record
      // counters give the total over all tiers: the records the ExpandRequests stage wrote (one
      // per image, to generate or resumed) and the records out of WriteImages/ResumedRecords.
      planned.put(ALL_TIERS, plannedAll);
      done.put(ALL_TIERS, doneAll);
    }
    return new Totals(planned, done);
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
