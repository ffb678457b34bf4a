package dev.odelt.model.cost;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.proto.v1.Solver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * The warm-up call a worker thread makes before its first real batch, so that no batch pays the
 * one-off costs of a process or a thread and a tier's device time does not depend on which tier
 * happened to run first on a thread.
 *
 * <p>Why (measured on the CPU, BENCHMARKS.md "Quote accuracy"): the first sampler call in a process
 * pays JIT compilation and lazy native set-up; after that a call is slower only when it needs more
 * memory than its thread has held before — a new thread, or a larger working set (rows × blocks)
 * than any earlier call on that thread — and costs the same as a repeat call otherwise. That
 * matches the C allocator's per-thread arenas: with {@code MALLOC_ARENA_MAX=1} a second thread's
 * first call stops being slower. The warm-up therefore runs the largest working set a batch can
 * have: one Euler step through all loaded blocks, guided (twice the rows), at the run's largest
 * batch; every later batch on the thread fits in what it left behind. A latent model's warm-up
 * decodes one decoder call's images only ({@link dev.odelt.model.sample.Sampler#warmUp}): every
 * decode of the run is a call of at most that many, and decoding the whole warm-up batch made the
 * warm-up of a 5-image DiT-B/2 run cost 88 % of its device seconds (issue 29).
 *
 * <p>Guarantees: at most one warm-up call per thread and instance ({@link #onThisThread}); the
 * warm-up makes no images anyone sees and its device time is returned for the caller to account
 * apart from every tier. Thread-safe.
 */
public final class WarmUp {

  /** The guidance of the warm-up call: any value other than 0 and 1 runs both halves. */
  static final float GUIDANCE = 2f;

  /** Kept for the life of the process: one entry per model copy and batch size, a handful. */
  private static final Map<Object, Map<Integer, WarmUp>> SHARED = new IdentityHashMap<>();

  private final BiFunction<List<SampleItem>, Tier, SampleStats> sampler;
  private final Tier tier;
  private final List<SampleItem> items;
  private final ThreadLocal<Boolean> warmed = ThreadLocal.withInitial(() -> false);
  private final Map<Integer, Cost> measured = new HashMap<>();

  private WarmUp(
      BiFunction<List<SampleItem>, Tier, SampleStats> sampler, Tier tier, List<SampleItem> items) {
    this.sampler = sampler;
    this.tier = tier;
    this.items = items;
  }

  /**
   * The warm-up of this model's sampler for batches of at most {@code maxBatchSize}: one instance
   * per (sampler, batch size) in the process, kept for its life, so that threads are warmed once
   * however many DoFn instances share the model.
   */
  public static WarmUp shared(LoadedModel model, int maxBatchSize) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
    }
    synchronized (SHARED) {
      return SHARED
          .computeIfAbsent(model.sampler(), k -> new HashMap<>())
          .computeIfAbsent(
              maxBatchSize,
              b ->
                  using(
                      (items, tier) -> model.sampler().warmUp(items, tier),
                      tierFor(model),
                      b,
                      model.config().numClasses()));
    }
  }

  /**
   * A warm-up of {@code batchSize} items (seeds 0..B−1, classes cycling over {@code numClasses};
   * the null label 0 when there are none) at {@code tier}, run by any function that makes one
   * sampler call (for tests and wrappers).
   */
  public static WarmUp using(
      BiFunction<List<SampleItem>, Tier, SampleStats> sampler,
      Tier tier,
      int batchSize,
      int numClasses) {
    if (batchSize < 1 || numClasses < 0) {
      throw new IllegalArgumentException(
          "batchSize must be >= 1 and numClasses >= 0, got " + batchSize + " and " + numClasses);
    }
    // An unconditional model (no classes) samples with its null label, 0.
    int classes = Math.max(1, numClasses);
    List<SampleItem> items = new ArrayList<>(batchSize);
    for (int i = 0; i < batchSize; i++) {
      items.add(new SampleItem(i % classes, i));
    }
    return new WarmUp(sampler, tier, List.copyOf(items));
  }

  /** One guided Euler step through the most blocks this copy of the model can run. */
  static Tier tierFor(LoadedModel model) {
    int blocks =
        model.config().allowedBlocks().stream()
            .filter(b -> b <= model.maxBlocks())
            .mapToInt(Integer::intValue)
            .max()
            .orElse(model.maxBlocks());
    return new Tier(1, blocks, Solver.EULER, GUIDANCE, Tier.DEFAULT_TOLERANCE);
  }

  /** The tier of the warm-up call. */
  public Tier tier() {
    return tier;
  }

  /** Images in the warm-up call. */
  public int batchSize() {
    return items.size();
  }

  /**
   * Makes the warm-up call when this thread has not made one yet.
   *
   * @return its stats on the first call per thread; empty afterwards
   */
  public Optional<SampleStats> onThisThread() {
    if (warmed.get()) {
      return Optional.empty();
    }
    SampleStats stats = sampler.apply(items, tier);
    warmed.set(true);
    return Optional.of(stats);
  }

  /**
   * What warming up {@code threads} worker threads together costs: the sum of their warm-up calls'
   * device times ({@link SampleStats#deviceNanos()}), timed by {@link #measureTogether(int)}.
   */
  public record Cost(int threads, long nanos) {}

  /**
   * What threads that warmed up at once then did, and the warm-up a plan charges for them.
   *
   * @param warmUp the warm-up of that many threads as first measured in this instance ({@link
   *     #quoteTogether})
   * @param results each thread's result, in thread order
   */
  public record Together<R>(Cost warmUp, List<R> results) {}

  /**
   * Starts {@code threads} new threads at once ({@link #measureTogether(int)}), each making its
   * warm-up call and going straight on into {@code then}, as the run's worker threads go on into
   * their first batches: the cores are shared as in the run, and {@code then} sees the process as
   * the run's first batches do. The warm-up cost is that of the first such start per instance and
   * thread count, remembered: in a fresh process it includes the process's one-off costs, as a
   * run's worker threads' warm-up does. A later start for the same thread count (several plans in
   * one process, as in tests) runs in a warm process and is cheaper than a fresh process would make
   * it. One start at a time.
   *
   * @param then what each thread does after its warm-up call, given its index
   * @throws IllegalArgumentException for fewer than one thread
   * @throws IllegalStateException when a thread fails (its cause attached)
   */
  public synchronized <R> Together<R> quoteTogether(int threads, IntFunction<R> then) {
    Together<R> started = startTogether(threads, then);
    Cost first = measured.computeIfAbsent(threads, n -> started.warmUp());
    return new Together<>(first, started.results());
  }

  /**
   * Starts {@code threads} new threads at once, each making its warm-up call, as a run's worker
   * threads do when generation starts (each Flink slot runs one generation subtask, all at once),
   * and sums their device times. Timed this way because the calls slow each other down: in a fresh
   * process on the 2-core CPU, two threads warming up together took 170–210 ms each (wall time),
   * against 153–167 ms for the process's first call alone and 134–139 ms for a later thread's
   * (BENCHMARKS.md "Quote accuracy"). The calling thread is not warmed.
   *
   * @throws IllegalArgumentException for fewer than one thread
   * @throws IllegalStateException when a warm-up call fails (its cause attached)
   */
  public Cost measureTogether(int threads) {
    return startTogether(threads, i -> null).warmUp();
  }

  /**
   * {@link #quoteTogether} with this start's own warm-up cost, remembered by nobody: starts the
   * threads, releases them together, waits for all and returns their results in thread order.
   */
  private <R> Together<R> startTogether(int threads, IntFunction<R> then) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    CountDownLatch start = new CountDownLatch(1);
    long[] nanos = new long[threads];
    List<R> results = new ArrayList<>(Collections.nCopies(threads, null));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> started = new ArrayList<>(threads);
    for (int i = 0; i < threads; i++) {
      int index = i;
      Thread thread =
          new Thread(
              () -> {
                try {
                  start.await();
                  nanos[index] = onThisThread().orElseThrow().deviceNanos();
                  results.set(index, then.apply(index));
                } catch (Throwable t) { // handed to the caller below
                  failure.compareAndSet(null, t);
                }
              },
              "odelt-warm-up-" + i);
      thread.start();
      started.add(thread);
    }
    start.countDown();
    try {
      for (Thread thread : started) {
        thread.join();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while timing the warm-up", e);
    }
    if (failure.get() != null) {
      throw new IllegalStateException(
          "a warm-up call, or the work after it, failed", failure.get());
    }
    return new Together<>(
        new Cost(threads, Arrays.stream(nanos).sum()), Collections.unmodifiableList(results));
  }
}
