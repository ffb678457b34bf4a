package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchmarksTest {

  @Test
  void aFailedBenchmarkBecomesASectionWithAnUnmetGoal() {
    Section s = Benchmarks.failure("torch", new IllegalStateException("no device"));
    assertEquals("torch", s.id());
    assertEquals(1, s.goals().size());
    assertFalse(s.goals().get(0).met());
    assertTrue(s.goals().get(0).measured().contains("no device"));
    assertTrue(Report.section(s).contains("IllegalStateException: no device"));
  }

  @Test
  void findsTheRepositoryRootAboveTheWorkingDirectory(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("pom.xml"), "<project/>");
    Files.createDirectories(dir.resolve("pipelines/target"));
    Files.createDirectories(dir.resolve("model-artifacts"));
    assertEquals(dir, Benchmarks.repoRoot(dir.resolve("pipelines/target")));
    Path elsewhere = Files.createDirectories(dir.resolve("x"));
    Files.delete(dir.resolve("pom.xml"));
    assertEquals(elsewhere, Benchmarks.repoRoot(elsewhere));
  }
}
