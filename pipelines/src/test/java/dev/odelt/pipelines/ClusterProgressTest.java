package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The launcher's cluster progress against a stand-in of Flink's REST API (canned JSON). */
class ClusterProgressTest {

  private HttpServer server;
  private final Map<String, String> responses = new ConcurrentHashMap<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String key = exchange.getRequestURI().toString();
          String body =
              responses.get(key.contains("?") ? key.substring(0, key.indexOf('?')) + "?" : key);
          byte[] bytes =
              (body == null ? "{\"errors\":[\"not found\"]}" : body)
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(body == null ? 404 : 200, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.start();
    responses.put(
        "/jobs/overview",
        "{\"jobs\":[{\"jid\":\"old\",\"name\":\"job-a\",\"start-time\":1},"
            + "{\"jid\":\"j1\",\"name\":\"job-a\",\"start-time\":5},"
            + "{\"jid\":\"j2\",\"name\":\"other\",\"start-time\":9}]}");
    responses.put(
        "/jobs/j1",
        "{\"vertices\":[{\"id\":\"v1\",\"name\":\"ExpandRequests/SpreadChunks ->"
            + " ExpandRequests/ExpandChunks\","
            + "\"status\":\"FINISHED\",\"metrics\":{\"write-records\":100}},{\"id\":\"v2\",\"name\":\"SkipWrittenImages/SkipWritten"
            + " -> GenerateImages/Sample\","
            + "\"status\":\"RUNNING\",\"metrics\":{\"write-records\":0}}]}");
    responses.put("/jobs/j1/vertices/v1/subtasks/metrics", "[]");
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String master() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  @Test
  void sumsFlinkRecordCountersWhileNoBeamCounterArrived() throws Exception {
    responses.put(
        "/jobs/j1/vertices/v2/subtasks/metrics",
        "[{\"id\":\"WriteImages/WritePng/ParMultiDo(WritePng).numRecordsOut\"},"
            + "{\"id\":\"GenerateImages/Sample.numRecordsOut\"}]");
    responses.put(
        "/jobs/j1/vertices/v2/subtasks/metrics?",
        "[{\"id\":\"WriteImages/WritePng/ParMultiDo(WritePng).numRecordsOut\",\"sum\":40.0}]");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try (ClusterProgress progress = ClusterProgress.start(master(), "job-a", 3600, console)) {
      ClusterProgress.Totals totals = progress.totals("j1");
      assertEquals(Map.of(ClusterProgress.ALL_TIERS, 100L), totals.planned());
      assertEquals(Map.of(ClusterProgress.ALL_TIERS, 40L), totals.done());
      progress.poll();
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(out.startsWith("odelt: cluster progress all tiers: 40/100 images (40%)"), out);
  }

  @Test
  void perTierLinesFromBeamCounters() throws Exception {
    responses.put(
        "/jobs/j1/vertices/v2/subtasks/metrics",
        "[{\"id\":\"GenerateImages/Sample.odelt_progress.done_s1-b6-g3\"},"
            + "{\"id\":\"ExpandRequests/ExpandChunks.odelt_progress.planned_s1-b6-g3\"},"
            + "{\"id\":\"ExpandRequests/ExpandChunks.odelt_progress.planned_s16-b6-g1.5\"}]");
    responses.put(
        "/jobs/j1/vertices/v2/subtasks/metrics?",
        "[{\"id\":\"GenerateImages/Sample.odelt_progress.done_s1-b6-g3\",\"sum\":32.0},"
            + "{\"id\":\"ExpandRequests/ExpandChunks.odelt_progress.planned_s1-b6-g3\",\"sum\":64.0},"
            + "{\"id\":\"ExpandRequests/ExpandChunks.odelt_progress.planned_s16-b6-g1.5\","
            + "\"sum\":8.0}]");
    try (ClusterProgress progress =
        ClusterProgress.start(
            master(), "job-a", 3600, new PrintStream(OutputStream.nullOutputStream()))) {
      ClusterProgress.Totals totals = progress.totals("j1");
      assertEquals(Map.of("s1-b6-g3", 64L, "s16-b6-g1.5", 8L), totals.planned());
      assertEquals(Map.of("s1-b6-g3", 32L), totals.done());
    }
  }

  @Test
  void aJobThatIsNotThereYetPrintsNothing() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ClusterProgress progress =
        ClusterProgress.start(
            master(),
            "not-submitted",
            3600,
            new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
      progress.poll();
    }
    assertEquals("", bytes.toString(StandardCharsets.UTF_8));
  }
}
