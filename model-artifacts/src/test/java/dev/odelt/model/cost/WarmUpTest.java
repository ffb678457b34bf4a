package dev.odelt.model.cost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.Solver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarmUpTest {

  /** A sampler whose first call on a thread costs 5000 ns and every later one 100 ns. */
  private static final class ThreadCostSampler {
    final Set<Thread> seen = Collections.synchronizedSet(new HashSet<>());
    final AtomicInteger calls = new AtomicInteger();
    final List<List<SampleItem>> batches = Collections.synchronizedList(new ArrayList<>());

    SampleStats call(List<SampleItem> items, Tier tier) {
      calls.incrementAndGet();
      batches.add(items);
      long nanos = seen.add(Thread.currentThread()) ? 5000 : 100;
      return new SampleStats(items.size(), items.size() * tier.blocks() * 2L, nanos, 1, "test");
    }
  }

  private static final Tier TIER = new Tier(1, 6, Solver.EULER, 2f, Tier.DEFAULT_TOLERANCE);

  @Test
  void eachThreadWarmsUpOnce() throws Exception {
    ThreadCostSampler s = new ThreadCostSampler();
    WarmUp w = WarmUp.using(s::call, TIER, 4, 3);
    Optional<SampleStats> first = w.onThisThread();
    assertTrue(first.isPresent());
    assertEquals(5000, first.get().wallNanos());
    assertEquals(Optional.empty(), w.onThisThread(), "a second warm-up on the same thread");
    List<Optional<SampleStats>> other = new ArrayList<>();
    Thread t = new Thread(() -> other.add(w.onThisThread()));
    t.start();
    t.join();
    assertTrue(other.get(0).isPresent(), "another thread warms up too");
    assertEquals(2, s.calls.get());
    List<SampleItem> items = s.batches.get(0);
    assertEquals(4, items.size());
    assertEquals(List.of(0, 1, 2, 0), items.stream().map(SampleItem::classId).toList());
    assertEquals(List.of(0L, 1L, 2L, 3L), items.stream().map(SampleItem::seed).toList());
  }

  @Test
  void measureTogetherWarmsNewThreadsAtOnceAndSumsThem() {
    ThreadCostSampler s = new ThreadCostSampler();
    WarmUp w = WarmUp.using(s::call, TIER, 2, 10);
    WarmUp.Cost cost = w.measureTogether(3);
    assertEquals(new WarmUp.Cost(3, 3 * 5000), cost, "three first calls, one per new thread");
    assertEquals(3, s.calls.get());
    assertTrue(w.onThisThread().isPresent(), "the calling thread is not warmed");
  }

  @Test
  void theThreadsMakeTheirWarmUpCallsAtTheSameTime() {
    // Each call waits until all three have begun: it finishes only if the calls overlap.
    CyclicBarrier together = new CyclicBarrier(3);
    WarmUp w =
        WarmUp.using(
            (items, tier) -> {
              try {
                together.await(20, TimeUnit.SECONDS);
              } catch (Exception e) {
                throw new IllegalStateException("the warm-up calls did not overlap", e);
              }
              return new SampleStats(1, 1, 700, 1, "test");
            },
            TIER,
            1,
            1);
    assertEquals(new WarmUp.Cost(3, 2100), w.measureTogether(3));
  }

  @Test
  void quoteTogetherWarmsUpThenWorksOnTheSameThreadsAndRemembersTheFirstWarmUp() {
    ThreadCostSampler s = new ThreadCostSampler();
    WarmUp w = WarmUp.using(s::call, TIER, 1, 1);
    // Each thread's work waits until both have begun it: it finishes only if they overlap.
    CyclicBarrier together = new CyclicBarrier(2);
    WarmUp.Together<String> first =
        w.quoteTogether(
            2,
            i -> {
              try {
                together.await(20, TimeUnit.SECONDS);
              } catch (Exception e) {
                throw new IllegalStateException("the threads' work did not overlap", e);
              }
              // Warmed already: the work runs on the thread that made the warm-up call.
              assertEquals(Optional.empty(), w.onThisThread());
              return "thread " + i;
            });
    assertEquals(new WarmUp.Cost(2, 2 * 5000), first.warmUp());
    assertEquals(List.of("thread 0", "thread 1"), first.results());
    assertEquals(2, s.calls.get(), "one warm-up call per thread");
    WarmUp.Together<Integer> again = w.quoteTogether(2, i -> i);
    assertEquals(first.warmUp(), again.warmUp(), "remembered: the fresh process's warm-up");
    assertEquals(List.of(0, 1), again.results());
    assertEquals(4, s.calls.get(), "two more new threads warmed up");
    assertEquals(new WarmUp.Cost(3, 3 * 5000), w.quoteTogether(3, i -> i).warmUp());
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                w.quoteTogether(
                    1,
                    i -> {
                      throw new IllegalStateException("device lost");
                    }));
    assertEquals("device lost", e.getCause().getMessage());
  }

  @Test
  void measureReportsAFailedWarmUpCall() {
    WarmUp w =
        WarmUp.using(
            (items, tier) -> {
              throw new IllegalStateException("device lost");
            },
            TIER,
            1,
            1);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.measureTogether(2));
    assertEquals("device lost", e.getCause().getMessage());
    assertThrows(IllegalArgumentException.class, () -> w.measureTogether(0));
  }

  @Test
  void rejectsAnEmptyBatch() {
    assertThrows(
        IllegalArgumentException.class, () -> WarmUp.using((items, tier) -> null, TIER, 0, 10));
  }

  @Test
  void theSharedWarmUpRunsTheLargestWorkingSetOfTheRealModel(@TempDir Path dir) throws Exception {
    String location = TestModels.writeRandomPackage(dir, TestModels.TINY, 5);
    try (LoadedModel model = Models.load(location, "cpu")) {
      WarmUp w = WarmUp.shared(model, 3);
      assertSame(w, WarmUp.shared(model, 3), "one per sampler and batch size");
      assertNotSame(w, WarmUp.shared(model, 4));
      int most = model.config().allowedBlocks().get(model.config().allowedBlocks().size() - 1);
      assertEquals(new Tier(1, most, Solver.EULER, 2f, Tier.DEFAULT_TOLERANCE), w.tier());
      assertEquals(3, w.batchSize());
      SampleStats stats = w.onThisThread().orElseThrow();
      assertEquals(3, stats.velocityEvaluations(), "one step per image");
      assertEquals(3L * model.config().blocksRun(most) * 2, stats.blockEvaluations(), "guided");
      assertEquals(Optional.empty(), w.onThisThread());
    }
  }
}
