package dev.odelt.model.cost;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.proto.v1.Solver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

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
 * batch; every later batch on the thread fits in what it left behind.
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
  private Cost measured;

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
                      (items, tier) -> model.sampler().sample(items, tier).stats(),
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

  /** New threads whose warm-up calls {@link #measure()} times (their median is used). */
  public static final int NEW_THREADS = 3;

  /**
   * What warming up costs, timed here: {@code firstNanos} is this thread's warm-up call (in a
   * fresh process, the process's first sampler call), {@code nextNanos} the median warm-up call on
   * {@link #NEW_THREADS} new threads made one after another right after it. A run with {@code T}
   * worker threads pays about {@code firstNanos + (T − 1) × nextNanos}.
   */
  public record Cost(long firstNanos, long nextNanos) {
    /** The predicted warm-up of {@code threads} worker threads (0 for none). */
    public long forThreads(long threads) {
      return threads <= 0 ? 0 : firstNanos + (threads - 1) * nextNanos;
    }
  }

  /**
   * {@link #measure()} made once per instance (by the first thread to ask; the others wait) and
   * remembered: in a fresh process its first number includes the process's one-off costs, as the
   * first worker thread's warm-up in a run does.
   */
  public synchronized Cost measuredOnce() {
    if (measured == null) {
      measured = measure();
    }
    return measured;
  }

  /**
   * Times the warm-up on this thread and on {@link #NEW_THREADS} new threads, leaving this thread
   * warmed. When this thread was warmed already, its warm-up is timed as a repeat call of the
   * warm-up shape (what the first call costs then can no longer be seen).
   *
   * @throws IllegalStateException when the call on a new thread fails
   */
  public Cost measure() {
    long first = onThisThread().orElseGet(() -> sampler.apply(items, tier)).wallNanos();
    long[] next = new long[NEW_THREADS];
    for (int i = 0; i < NEW_THREADS; i++) {
      next[i] = onNewThread();
    }
    Arrays.sort(next);
    return new Cost(first, next[NEW_THREADS / 2]);
  }

  /** The wall time of the warm-up call on a new thread. */
  private long onNewThread() {
    AtomicReference<SampleStats> next = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                next.set(onThisThread().orElseThrow());
              } catch (Throwable t) { // handed to the caller below
                failure.set(t);
              }
            },
            "odelt-warm-up-probe");
    thread.start();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while timing a warm-up call", e);
    }
    if (failure.get() != null) {
      throw new IllegalStateException("the warm-up call on a new thread failed", failure.get());
    }
    return next.get().wallNanos();
  }
}
