package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.Models;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

  @Test
  void defaults() {
    BenchOptions o = BenchOptions.parse(new String[0], 3);
    assertFalse(o.shortMode());
    assertEquals(Models.DEFAULT_MODEL, o.model());
    assertEquals(3, o.threads());
    assertTrue(o.only().isEmpty());
    assertNull(o.reportDir());
    assertEquals(Path.of("/r/pipelines"), o.reportDirUnder(Path.of("/r")));
  }

  @Test
  void parsesEveryOption() {
    BenchOptions o =
        BenchOptions.parse(
            new String[] {
              "--mode=short",
              "--model=/m",
              "--threads=1",
              "--only=torch, utilisation",
              "--reportDir=/tmp/x"
            },
            2);
    assertTrue(o.shortMode());
    assertEquals("/m", o.model());
    assertEquals(1, o.threads());
    assertEquals(List.of("torch", "utilisation"), o.only());
    assertEquals(Path.of("/tmp/x"), o.reportDirUnder(Path.of("/r")));
    assertEquals(
        Path.of("/r/pipelines/target/benchmarks-short"),
        BenchOptions.parse(new String[] {"--mode=short"}, 2).reportDirUnder(Path.of("/r")));
  }

  @Test
  void rejectsBadOptions() {
    assertThrows(
        IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"--mode=long"}, 2));
    assertThrows(
        IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"--threads=0"}, 2));
    assertThrows(
        IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"--threads=x"}, 2));
    assertThrows(
        IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"--colour=red"}, 2));
    assertThrows(
        IllegalArgumentException.class, () -> BenchOptions.parse(new String[] {"short"}, 2));
  }

  @Test
  void onlySelectsKnownBenchmarksInRegistryOrder() {
    List<Benchmark> picked =
        Benchmarks.select(Benchmarks.REGISTRY, List.of("torch", "tier-scaling"));
    assertEquals(List.of("tier-scaling", "torch"), picked.stream().map(Benchmark::id).toList());
    assertThrows(
        IllegalArgumentException.class,
        () -> Benchmarks.select(Benchmarks.REGISTRY, List.of("nope")));
  }
}
