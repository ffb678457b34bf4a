package dev.odelt.model.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.proto.v1.Solver;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FirstCallsTest {

  private static final Tier WARM_UP = new Tier(1, 6, Solver.EULER, 2f, Tier.DEFAULT_TOLERANCE);

  /** Call k costs settled + extra·0.8^k ns; records what it was asked. */
  private static final class DecayingSampler {
    final long settled;
    final long extra;
    final List<Tier> tiers = new ArrayList<>();
    final List<List<SampleItem>> items = new ArrayList<>();

    DecayingSampler(long settled, long extra) {
      this.settled = settled;
      this.extra = extra;
    }

    SampleStats call(List<SampleItem> batch, Tier tier) {
      long nanos = settled + Math.round(extra * Math.pow(0.8, tiers.size()));
      tiers.add(tier);
      items.add(batch);
      long evaluations = (long) batch.size() * tier.steps();
      return new SampleStats(
          evaluations,
          evaluations * tier.blocks() * tier.guidanceFactor(),
          nanos,
          batch.size(),
          "test");
    }
  }

  @Test
  void theExcessOfTheFirstCallsIsSummedOverTheSettledCost() {
    DecayingSampler s = new DecayingSampler(6_000_000L, 3_000_000L);
    FirstCalls.Curve c = FirstCalls.measure(s::call, WARM_UP, new SampleItem(3, 7));
    // One image, one unguided Euler step through the warm-up's blocks: 6 block calls a call,
    // until 600 block calls.
    assertEquals(FirstCalls.PROBE_BLOCK_CALLS / 6, s.tiers.size());
    for (int i = 0; i < s.tiers.size(); i++) {
      Tier t = s.tiers.get(i);
      assertEquals(1, t.steps());
      assertEquals(6, t.blocks());
      assertEquals(1, t.guidanceFactor(), "unguided");
      assertEquals(List.of(new SampleItem(3, 7)), s.items.get(i));
    }
    long[] x = c.blockCalls();
    assertEquals(6, x[0]);
    assertEquals(FirstCalls.PROBE_BLOCK_CALLS, x[x.length - 1]);
    // Σ 3 ms · 0.8^k = 15 ms; the settled cost is 1 ms per block call.
    assertEquals(15e6, c.excessNanosOf(Long.MAX_VALUE), 0.01e6);
    assertEquals(1e6, c.settledNanosPerBlockCall(), 0.001e6);
    assertEquals(3e6, c.excessNanosOf(6), 0.01e6, "the first call's excess");
    assertEquals(1.5e6, c.excessNanosOf(3), 0.01e6, "half a call: interpolated from 0");
    assertEquals(0, c.excessNanosOf(0));
    assertTrue(c.method().contains("100 probe calls"), c.method());
  }

  @Test
  void aModelTooSlowToProbeGetsNoExcess() {
    DecayingSampler s = new DecayingSampler(FirstCalls.PROBE_NANOS / 2, 0);
    FirstCalls.Curve c = FirstCalls.measure(s::call, WARM_UP, new SampleItem(0, 0));
    assertEquals(1, s.tiers.size(), "one call shows it");
    assertEquals(0, c.excessNanosOf(1_000_000));
    assertEquals(0, c.blockCalls().length);
    assertTrue(c.method().startsWith("not probed"), c.method());
  }

  @Test
  void theProbeStopsAtItsDeviceTimeBudget() {
    // 100 ms a call: 15 calls fit in 1.5 s, long before 600 block calls.
    DecayingSampler s = new DecayingSampler(100_000_000L, 0);
    FirstCalls.Curve c = FirstCalls.measure(s::call, WARM_UP, new SampleItem(0, 0));
    assertEquals(15, s.tiers.size());
    assertEquals(0, c.excessNanosOf(Long.MAX_VALUE), "a settled process has no excess");
  }

  @Test
  void theCurveIsInterpolatedAndNeverNegative() {
    FirstCalls.Curve c =
        new FirstCalls.Curve(new long[] {10, 20, 30}, new long[] {-5, 40, 30}, 1, "m");
    assertEquals(0, c.excessNanosOf(5), "below zero: none");
    assertEquals(40, c.excessNanosOf(20));
    assertEquals(35, c.excessNanosOf(25));
    assertEquals(30, c.excessNanosOf(1000), "its last value beyond its end");
    assertThrows(
        IllegalArgumentException.class,
        () -> new FirstCalls.Curve(new long[] {10, 10}, new long[] {1, 2}, 1, "m"));
    assertThrows(
        IllegalArgumentException.class,
        () -> new FirstCalls.Curve(new long[] {10}, new long[] {1, 2}, 1, "m"));
  }

  @Test
  void theWarmUpThreadsProbeStraightAfterTheirWarmUp() {
    DecayingSampler s = new DecayingSampler(1_000_000L, 3_000_000L);
    List<Thread> threads = new ArrayList<>();
    WarmUp w =
        WarmUp.using(
            (items, tier) -> {
              synchronized (s) {
                threads.add(Thread.currentThread());
                return s.call(items, tier);
              }
            },
            WARM_UP,
            4,
            10);
    FirstCalls.Curve c = w.quotedOnce(2).firstCalls();
    for (Thread t : new java.util.HashSet<>(threads)) {
      int first = threads.indexOf(t);
      assertEquals(2f, s.tiers.get(first).guidance(), "a thread's first call is its warm-up");
      assertEquals(4, s.items.get(first).size());
      for (int i = first + 1; i < threads.size(); i++) {
        if (threads.get(i) == t) {
          assertEquals(1, s.items.get(i).size(), "then the probe on the same thread");
        }
      }
    }
    assertEquals(2, new java.util.HashSet<>(threads).size());
    // The probes' excess is the sum of their own terms of 3 ms · 0.8^k (k: the call's place among
    // all calls; where the other thread's warm-up falls is up to the scheduler).
    double expected = 0;
    for (int k = 0; k < s.tiers.size(); k++) {
      if (s.tiers.get(k).guidance() == 1f) {
        expected += 3e6 * Math.pow(0.8, k);
      }
    }
    assertTrue(expected > 9e6, "the probes made most of the excess: " + expected);
    assertEquals(expected, c.excessNanosOf(Long.MAX_VALUE), 0.05e6);
    assertEquals(2 * FirstCalls.PROBE_BLOCK_CALLS, c.blockCalls()[c.blockCalls().length - 1]);
  }

  @Test
  void curvesOfThreadsAtOnceAddUpOnTheirBlockCallsTogether() {
    FirstCalls.Curve a = new FirstCalls.Curve(new long[] {6, 12}, new long[] {3, 4}, 1, "a");
    FirstCalls.Curve b = new FirstCalls.Curve(new long[] {6, 12}, new long[] {1, 2}, 3, "b");
    FirstCalls.Curve both = FirstCalls.together(List.of(a, b));
    assertEquals(List.of(12L, 24L), java.util.Arrays.stream(both.blockCalls()).boxed().toList());
    assertEquals(4, both.excessNanosOf(12), "each thread at 6 of the 12");
    assertEquals(6, both.excessNanosOf(24));
    assertEquals(2, both.settledNanosPerBlockCall(), 1e-12);
    assertTrue(both.method().startsWith("2 threads at once"), both.method());
    assertSame(a, FirstCalls.together(List.of(a)));
    FirstCalls.Curve none = FirstCalls.Curve.none("not probed: slow");
    assertSame(none, FirstCalls.together(List.of(a, none)), "one thread without a curve: none");
  }
}
