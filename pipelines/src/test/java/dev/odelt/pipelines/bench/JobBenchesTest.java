package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Plan;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.TierAccount;
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
  void theMixedManifestHasSixDistinctTiersWithGuidedHeunAndDopri5() throws Exception {
    // The bundled model: its presets coincide with plain tiers and carry no guidance.
    ModelManifest manifest = ModelPackages.readManifest(Models.DEFAULT_MODEL);
    Map<JobManifests.TierChoice, Double> mix =
        PlanAccuracyBench.mix(manifest, ModelConfig.fromProto(manifest.getArchitecture()));
    Map<String, Tier> presets = new java.util.HashMap<>();
    manifest.getTiersList().forEach(p -> presets.put(p.getName(), Tier.fromProto(p.getTier())));
    List<Tier> tiers =
        mix.keySet().stream()
            .map(c -> c.preset() != null ? presets.get(c.preset()) : c.explicit())
            .toList();
    assertEquals(
        tiers.size(), tiers.stream().map(Tier::label).distinct().count(), tiers.toString());
    assertTrue(tiers.size() >= 6, tiers.toString());
    assertTrue(tiers.stream().anyMatch(t -> t.guidance() != 1f && t.guidance() != 0f), "guided");
    assertTrue(tiers.stream().anyMatch(t -> t.solver() == Solver.HEUN), "Heun");
    assertTrue(tiers.stream().anyMatch(t -> t.solver() == Solver.DOPRI5), "Dopri5");
  }

  @Test
  void roundsAreComparedByTheirMedians() {
    RunSummary plan1 = summary(1.0, 0.3, 2.0);
    RunSummary plan2 = summary(3.0, 0.1, 4.0);
    RunSummary plan3 = summary(2.0, 0.2, 3.0);
    PlanAccuracyBench.Child child = new PlanAccuracyBench.Child(1, 10, 0);
    List<PlanAccuracyBench.Comparison> rounds = new java.util.ArrayList<>();
    for (RunSummary p : List.of(plan1, plan2, plan3)) {
      rounds.add(
          new PlanAccuracyBench.Comparison(
              "examples", Plan.newBuilder().setSummary(p).build(), child, p, child));
    }
    PlanAccuracyBench.Comparison m = PlanAccuracyBench.medianOf(rounds);
    assertEquals(2.0, m.plan().getSummary().getTiers(0).getDeviceSeconds(), 1e-12);
    assertEquals(0.2, m.run().getWarmUpSeconds(), 1e-12);
    assertEquals(3.0, m.run().getDeviceSeconds(), 1e-12);
    assertEquals(2.5, PlanAccuracyBench.median(new double[] {4, 1, 2, 3}), 1e-12);
  }

  private static RunSummary summary(double tierSeconds, double warmUp, double total) {
    return RunSummary.newBuilder()
        .addTiers(TierAccount.newBuilder().setTierLabel("s2-b2").setDeviceSeconds(tierSeconds))
        .setWarmUpSeconds(warmUp)
        .setDeviceSeconds(total)
        .build();
  }

  @Test
  void shareErrorIgnoresAUniformSlowdown() {
    // The run twice as slow on every tier: each tier's share is right.
    assertEquals(0, PlanAccuracyBench.shareError(1, 4, 2, 8), 1e-12);
    // A tier predicted at 1 of 4 that took 3 of 6: its share is half what it should be.
    assertEquals(-0.5, PlanAccuracyBench.shareError(1, 4, 3, 6), 1e-12);
  }

  @Test
  void readStatusGivesNoSampleOnceTheProcessIsGone() throws Exception {
    JobMemoryBench.Sample self = JobMemoryBench.readStatus(Path.of("/proc", "self", "status"), 1.5);
    assertTrue(self != null && self.rssMb() > 0 && self.hwmMb() >= self.rssMb(), "" + self);
    assertEquals(1.5, self.seconds(), 1e-12);
    // A reaped process: its /proc entry is gone (or, in a race, reads fail with ESRCH).
    Process p = new ProcessBuilder("true").start();
    long pid = p.pid();
    p.waitFor();
    assertEquals(
        null, JobMemoryBench.readStatus(Path.of("/proc", Long.toString(pid), "status"), 0));
  }
}
