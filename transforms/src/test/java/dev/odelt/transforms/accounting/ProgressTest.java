package dev.odelt.transforms.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
  void publishesSnapshotsThatSumAcrossWorkers(@TempDir Path dir) throws Exception {
    Progress expand = new Progress();
    Progress generate = new Progress();
    expand.publishTo(dir.toString(), 3600);
    generate.publishTo(dir.toString(), 3600);
    expand.planned("s4-b4", 100);
    expand.planned("s2-b2", 10);
    generate.done("s4-b4", 30);
    // The first change writes at once; later ones wait for the interval or a flush.
    generate.done("s4-b4", 20);
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(2, files.count());
    }
    Map<String, Long> planned = new TreeMap<>();
    Map<String, Long> done = new TreeMap<>();
    sum(dir, planned, done);
    assertEquals(Map.of("s4-b4", 100L), planned);
    assertEquals(Map.of("s4-b4", 30L), done);
    expand.flush();
    generate.flush();
    planned.clear();
    done.clear();
    sum(dir, planned, done);
    assertEquals(Map.of("s4-b4", 100L, "s2-b2", 10L), planned);
    assertEquals(Map.of("s4-b4", 50L), done);
  }

  private static void sum(Path dir, Map<String, Long> planned, Map<String, Long> done)
      throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Progress.readSnapshot(Files.readString(f), planned, done);
      }
    }
  }

  @Test
  void aSnapshotWithBadCountsIsRejectedWithItsField() {
    Map<String, Long> planned = new TreeMap<>();
    Map<String, Long> done = new TreeMap<>();
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Progress.readSnapshot("{\"planned\":{\"t\":-1},\"done\":{}}", planned, done));
    assertTrue(e.getMessage().contains("planned.t"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> Progress.readSnapshot("{\"planned\":{\"t\":1.5},\"done\":{}}", planned, done));
    assertThrows(
        IllegalArgumentException.class,
        () -> Progress.readSnapshot("{\"planned\":{}}", planned, done));
    assertThrows(IllegalArgumentException.class, () -> Progress.readSnapshot("[1]", planned, done));
    assertThrows(IllegalArgumentException.class, () -> Progress.readSnapshot("{", planned, done));
    assertEquals(Map.of(), planned);
  }
}
