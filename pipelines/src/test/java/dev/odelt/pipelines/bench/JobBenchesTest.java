package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each job-level benchmark in short mode on a tiny random model: it runs end to end and returns a
 * well-formed section. No timing is asserted. The repository root is a directory without the shaded
 * jar, so child jobs run this build's classes from the class path.
 */
class JobBenchesTest {

  @TempDir static Path sandbox;
  static BenchContext context;

  @BeforeAll
  static void fixtures() throws Exception {
    String model = TestModels.writeRandomPackage(sandbox.resolve("model"), TestModels.TINY, 5);
    Path repo = Files.createDirectories(sandbox.resolve("repo"));
    context =
        new BenchContext(true, model, sandbox.resolve("report"), sandbox.resolve("work"), 1, repo);
    Files.createDirectories(context.reportDir());
  }

  private static void checkSection(Benchmark bench, Section s) {
    assertEquals(bench.id(), s.id());
    assertFalse(s.tables().isEmpty());
    assertFalse(s.goals().isEmpty());
    assertFalse(s.findings().isEmpty());
    assertFalse(s.raw().isEmpty());
    for (String plot : s.plots()) {
      assertTrue(Files.isRegularFile(context.reportDir().resolve(plot)), plot);
    }
  }

  @Test
  void pipelineEfficiencyRunsAndChecksTheImagesAreTheSame() throws Exception {
    PipelineEfficiencyBench bench = new PipelineEfficiencyBench();
    Section s = bench.run(context);
    checkSection(bench, s);
    for (String mix : List.of("cheapest", "presets")) {
      assertEquals(96, ((Map<?, ?>) s.raw().get(mix)).get("images"), mix);
    }
    assertEquals(2, s.goals().size(), "one goal per tier mix");
  }

  @Test
  void batchFillReadsTheJobsAccounting() throws Exception {
    BatchFillBench bench = new BatchFillBench();
    Section s = bench.run(context);
    checkSection(bench, s);
    assertEquals(120, s.raw().get("images"));
  }

  @Test
  void startupTimesTheFirstImageOfAChildJob() throws Exception {
    StartupBench bench = new StartupBench();
    Section s = bench.run(context);
    checkSection(bench, s);
  }

  @Test
  void jobMemorySamplesTheChildsRssAndPlotsIt() throws Exception {
    JobMemoryBench bench = new JobMemoryBench();
    Section s = bench.run(context);
    checkSection(bench, s);
    assertEquals(List.of("job-memory-rss.png"), s.plots());
    assertTrue((Double) s.raw().get("peak_rss_mb") > 0);
  }

  @Test
  void planAccuracyComparesPlansWithRuns() throws Exception {
    PlanAccuracyBench bench = new PlanAccuracyBench();
    Section s = bench.run(context);
    checkSection(bench, s);
    Map<?, ?> mixed = (Map<?, ?>) s.raw().get("mixed");
    assertTrue((Double) mixed.get("predicted_device_seconds") > 0);
    assertTrue((Double) mixed.get("actual_device_seconds") > 0);
    assertEquals(2, ((Map<?, ?>) s.raw().get("scale")).size());
    for (Map.Entry<?, ?> tier : ((Map<?, ?>) mixed.get("tiers")).entrySet()) {
      Map<?, ?> t = (Map<?, ?>) tier.getValue();
      assertEquals(t.get("batches_run"), t.get("batches_planned"), "batches of " + tier.getKey());
    }
    assertTrue((Double) mixed.get("predicted_warm_up_seconds") > 0, "the quote has a warm-up");
    assertTrue((Double) mixed.get("actual_warm_up_seconds") > 0, "the run made its warm-up");
  }

  @Test
  void shareErrorIgnoresAUniformSlowdown() {
    // The run twice as slow on every tier: each tier's share is right.
    assertEquals(0, PlanAccuracyBench.shareError(1, 4, 2, 8), 1e-12);
    // A tier predicted at 1 of 4 that took 3 of 6: its share is half what it should be.
    assertEquals(-0.5, PlanAccuracyBench.shareError(1, 4, 3, 6), 1e-12);
  }
}
