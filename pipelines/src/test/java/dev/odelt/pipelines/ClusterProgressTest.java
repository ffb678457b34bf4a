package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's cluster progress: workers' snapshot objects in a temporary folder, and a stand-in
 * of Flink's REST API (canned JSON) for the all-tiers line.
 */
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
  void sumsFlinkRecordCountersWithoutSnapshots() throws Exception {
    responses.put(
        "/jobs/j1/vertices/v2/subtasks/metrics",
        "[{\"id\":\"WriteImages/WritePng/ParMultiDo(WritePng).numRecordsOut\"},"
            + "{\"id\":\"GenerateImages/Sample.numRecordsOut\"}]");
    responses.put(
        "/jobs/j1/vertices/v2/subtasks/metrics?",
        "[{\"id\":\"WriteImages/WritePng/ParMultiDo(WritePng).numRecordsOut\",\"sum\":40.0}]");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try (ClusterProgress progress = ClusterProgress.start(master(), "job-a", 3600, "", console)) {
      ClusterProgress.Totals totals = progress.totals("j1");
      assertEquals(Map.of(ClusterProgress.ALL_TIERS, 100L), totals.planned());
      assertEquals(Map.of(ClusterProgress.ALL_TIERS, 40L), totals.done());
      progress.poll();
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(out.startsWith("odelt: cluster progress all tiers: 40/100 images (40%)"), out);
  }

  @Test
  void perTierLinesFromTheWorkersSnapshots(@TempDir Path dir) throws Exception {
    Path snapshots = dir.resolve("progress/run");
    Files.createDirectories(snapshots);
    // Two workers: one expanded all requests, both generated; a third object is not a snapshot.
    Files.writeString(
        snapshots.resolve("a.json"),
        "{\"tasks\":["
            + task("E (1/1)", 0, "\"s1-b6-g3\":64,\"s16-b6-g1.5\":8", "")
            + ","
            + task("G (1/2)", 0, "", "\"s1-b6-g3\":16")
            + "]}");
    Files.writeString(
        snapshots.resolve("b.json"),
        "{\"tasks\":[" + task("G (2/2)", 0, "", "\"s1-b6-g3\":16") + "]}");
    Files.writeString(snapshots.resolve("c.json"), "{\"planned\":{\"s1-b6-g3\":\"many\"}}");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ClusterProgress progress =
        ClusterProgress.start(
            master(),
            "job-a",
            3600,
            snapshots.toString(),
            new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
      ClusterProgress.Totals totals = progress.snapshotTotals();
      assertEquals(Map.of("s1-b6-g3", 64L, "s16-b6-g1.5", 8L), totals.planned());
      assertEquals(Map.of("s1-b6-g3", 32L), totals.done());
      progress.poll();
    }
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("odelt: cluster progress s1-b6-g3: 32/64 images (50%)"), out);
    assertTrue(out.contains("odelt: cluster progress s16-b6-g1.5: 0/8 images (0%)"), out);
    assertFalse(out.contains(ClusterProgress.ALL_TIERS), out);
  }

  @Test
  void aTaskRunAgainAfterAFailoverCountsOnce() {
    // G (1/2) ran again (attempt 1) after its worker died: its skipped images count once.
    ClusterProgress.Totals totals =
        ClusterProgress.sum(
            List.of(
                "{\"tasks\":["
                    + task("E (1/1)", 0, "\"t\":10", "")
                    + ","
                    + task("G (1/2)", 0, "", "\"t\":4")
                    + "]}",
                "{\"tasks\":["
                    + task("G (2/2)", 0, "", "\"t\":5")
                    + ","
                    + task("G (1/2)", 1, "", "\"t\":5")
                    + "]}"));
    assertEquals(Map.of("t", 10L), totals.planned());
    assertEquals(Map.of("t", 10L), totals.done());
  }

  private static String task(String name, int attempt, String planned, String done) {
    return "{\"task\":\""
        + name
        + "\",\"attempt\":"
        + attempt
        + ",\"planned\":{"
        + planned
        + "},\"done\":{"
        + done
        + "}}";
  }

  @Test
  void withoutSnapshotsYetTheRestLineStillShows(@TempDir Path dir) throws Exception {
    responses.put(
        "/jobs/j1/vertices/v2/subtasks/metrics",
        "[{\"id\":\"WriteImages/WritePng/ParMultiDo(WritePng).numRecordsOut\"}]");
    responses.put(
        "/jobs/j1/vertices/v2/subtasks/metrics?",
        "[{\"id\":\"WriteImages/WritePng/ParMultiDo(WritePng).numRecordsOut\",\"sum\":10.0}]");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ClusterProgress progress =
        ClusterProgress.start(
            master(),
            "job-a",
            3600,
            dir.resolve("progress/none-yet").toString(),
            new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
      progress.poll();
    }
    assertTrue(
        bytes
            .toString(StandardCharsets.UTF_8)
            .startsWith("odelt: cluster progress all tiers: 10/100 images (10%)"),
        bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aJobThatIsNotThereYetPrintsNothing() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ClusterProgress progress =
        ClusterProgress.start(
            master(),
            "not-submitted",
            3600,
            "",
            new PrintStream(bytes, true, StandardCharsets.UTF_8))) {
      progress.poll();
    }
    assertEquals("", bytes.toString(StandardCharsets.UTF_8));
  }
}
