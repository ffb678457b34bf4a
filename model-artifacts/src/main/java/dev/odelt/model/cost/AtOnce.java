package dev.odelt.model.cost;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Runs work on new threads released at the same moment, as a run's worker threads start sampling
 * together (each Flink slot runs one generation subtask, all at once): the warm-up and the
 * calibration that follows it on the same threads ({@link WarmUp#quoteTogether}) are timed that
 * way.
 */
final class AtOnce {

  private AtOnce() {}

  /**
   * Starts {@code threads} threads named {@code name-<i>}, releases them together, waits for all
   * and returns their results in thread order.
   *
   * @param doing what the threads do, for the messages ("timing the warm-up")
   * @param failed the message when one fails ("a warm-up call failed")
   * @throws IllegalArgumentException for fewer than one thread
   * @throws IllegalStateException when a thread fails (the first failure attached) or this thread
   *     is interrupted while waiting
   */
  static <T> List<T> run(
      int threads, String name, String doing, String failed, IntFunction<T> work) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    CountDownLatch start = new CountDownLatch(1);
    Object[] results = new Object[threads];
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> started = new ArrayList<>(threads);
    for (int i = 0; i < threads; i++) {
      int index = i;
      Thread thread =
          new Thread(
              () -> {
                try {
                  start.await();
                  results[index] = work.apply(index);
                } catch (Throwable t) { // handed to the caller below
                  failure.compareAndSet(null, t);
                }
              },
              name + "-" + i);
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
      throw new IllegalStateException("interrupted while " + doing, e);
    }
    if (failure.get() != null) {
      throw new IllegalStateException(failed, failure.get());
    }
    @SuppressWarnings("unchecked")
    List<T> out = (List<T>) Arrays.asList(results);
    return out;
  }
}
