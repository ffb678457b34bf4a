package dev.odelt.transforms.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgressTest {

  @Test
  void linesShowDoneOfPlannedRateAndEta() {
    Progress p = new Progress();
    p.planned("s4-b4", 100);
    p.planned("s4-b4", 100);
    p.planned("s2-b2", 10);
    p.done("s4-b4", 50);
    p.done("s2-b2", 10);
    Map<String, String> lines = p.lines(10);
    assertEquals("50/200 images (25%), 5.0 img/s, ETA 30 s", lines.get("s4-b4"));
    assertEquals("10/10 images (100%), 1.0 img/s, done", lines.get("s2-b2"));
  }

  @Test
  void publishesSnapshotsPerTaskAttempt(@TempDir Path dir) throws Exception {
    Progress expand = new Progress();
    Progress generate = new Progress();
    expand.publishTo(dir.toString(), 3600);
    generate.publishTo(dir.toString(), 3600);
    // Flink names a task thread "<tasks> (i/n)#attempt".
    inThread("ExpandChunks (1/2)#0", () -> expand.planned("s4-b4", 60));
    inThread("ExpandChunks (2/2)#0", () -> expand.planned("s4-b4", 40));
    inThread("ExpandChunks (2/2)#0", () -> expand.planned("s2-b2", 10));
    inThread("Generate (1/2)#0", () -> generate.done("s4-b4", 30));
    // The first change is written at once, later ones after the interval or at a flush.
    inThread("Generate (1/2)#0", () -> generate.done("s4-b4", 20));
    assertEquals(2, files(dir).size());
    Map<String, Long> planned = new TreeMap<>();
    Map<String, Long> done = new TreeMap<>();
    merge(dir, planned, done);
    assertEquals(Map.of("s4-b4", 60L), planned);
    assertEquals(Map.of("s4-b4", 30L), done);
    expand.flush();
    generate.flush();
    planned.clear();
    done.clear();
    merge(dir, planned, done);
    assertEquals(Map.of("s4-b4", 100L, "s2-b2", 10L), planned);
    assertEquals(Map.of("s4-b4", 50L), done);
  }

  @Test
  void onlyTheLatestAttemptOfATaskCounts(@TempDir Path dir) throws Exception {
    // Worker A ran expand task 2/2 and generate task 1/2, then died; the restarted region ran
    // both again on worker B (attempt 1): the redone and skipped work must not count twice.
    Progress a = new Progress();
    Progress b = new Progress();
    a.publishTo(dir.toString(), 1);
    b.publishTo(dir.toString(), 1);
    inThread("Expand (1/2)#0", () -> a.planned("t", 50));
    inThread("Expand (2/2)#0", () -> a.planned("t", 50));
    inThread("Generate (1/2)#0", () -> a.done("t", 30));
    inThread("Generate (2/2)#0", () -> a.done("t", 20));
    a.flush();
    inThread("Expand (2/2)#1", () -> b.planned("t", 50));
    inThread("Generate (1/2)#1", () -> b.done("t", 45));
    b.flush();
    Map<String, Long> planned = new TreeMap<>();
    Map<String, Long> done = new TreeMap<>();
    merge(dir, planned, done);
    assertEquals(Map.of("t", 100L), planned);
    assertEquals(Map.of("t", 65L), done);
    // Outside a Flink task the thread is its own task.
    Progress c = new Progress();
    c.publishTo(dir.resolve("c").toString(), 1);
    inThread("main", () -> c.done("t", 1));
    List<Progress.Snapshot> tasks =
        Progress.Snapshot.read(Files.readString(files(dir.resolve("c")).get(0)));
    assertEquals("main", tasks.get(0).task());
    assertEquals(0, tasks.get(0).attempt());
  }

  private static void inThread(String name, Runnable r) throws InterruptedException {
    Thread t = new Thread(r, name);
    t.start();
    t.join();
  }

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(Files::isRegularFile).sorted().toList();
    }
  }

  private static void merge(Path dir, Map<String, Long> planned, Map<String, Long> done)
      throws IOException {
    List<Progress.Snapshot> all = new ArrayList<>();
    for (Path f : files(dir)) {
      all.addAll(Progress.Snapshot.read(Files.readString(f)));
    }
    Progress.merge(all, planned, done);
  }

  @Test
  void aSnapshotWithBadCountsIsRejectedWithItsField() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Progress.Snapshot.read(task("\"attempt\":0,\"planned\":{\"t\":-1},\"done\":{}")));
    assertTrue(e.getMessage().contains("planned.t"), e.getMessage());
    for (String bad :
        List.of(
            task("\"attempt\":0,\"planned\":{\"t\":1.5},\"done\":{}"),
            task("\"attempt\":0,\"planned\":{}"),
            task("\"attempt\":-1,\"planned\":{},\"done\":{}"),
            task("\"planned\":{},\"done\":{}"),
            "{\"tasks\":[{\"attempt\":0,\"planned\":{},\"done\":{}}]}",
            "{\"tasks\":{}}",
            "{\"planned\":{},\"done\":{}}",
            "[1]",
            "{")) {
      assertThrows(IllegalArgumentException.class, () -> Progress.Snapshot.read(bad), bad);
    }
    assertEquals(
        1, Progress.Snapshot.read(task("\"attempt\":2,\"planned\":{},\"done\":{}")).size());
  }

  private static String task(String fields) {
    return "{\"tasks\":[{\"task\":\"x (1/1)\"," + fields + "}]}";
  }
}
