package dev.odelt.model.sample;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a batch call and, when it fails because the device ran out of memory, splits the batch in
 * halves and runs each half the same way. Any other failure, and an out-of-memory failure of a
 * single item, is rethrown so the runner retries the bundle (and eventually fails the job loudly).
 * Because an image depends only on its own item, splitting never changes results.
 */
public final class BatchSplitter {

  private static final Logger LOG = LoggerFactory.getLogger(BatchSplitter.class);

  private BatchSplitter() {}

  /** One call that succeeded: the items it covered (a contiguous run) and its result. */
  public record Part<T, R>(int offset, List<T> items, R result) {}

  /** Runs {@code call} on all items, splitting on device out-of-memory; parts are in order. */
  public static <T, R> List<Part<T, R>> run(List<T> items, Function<List<T>, R> call) {
    List<Part<T, R>> parts = new ArrayList<>();
    run(items, 0, call, parts);
    return parts;
  }

  private static <T, R> void run(
      List<T> items, int offset, Function<List<T>, R> call, List<Part<T, R>> parts) {
    R result;
    try {
      result = call.apply(items);
    } catch (RuntimeException e) {
      if (!isDeviceOutOfMemory(e)) {
        throw e;
      }
      if (items.size() == 1) {
        throw new IllegalStateException(
            "The device ran out of memory even for a batch of one image", e);
      }
      int half = items.size() / 2;
      LOG.warn(
          "Device out of memory for a batch of {}; retrying as {} + {}",
          items.size(),
          half,
          items.size() - half);
      run(new ArrayList<>(items.subList(0, half)), offset, call, parts);
      run(new ArrayList<>(items.subList(half, items.size())), offset + half, call, parts);
      return;
    }
    parts.add(new Part<>(offset, List.copyOf(items), result));
  }

  /**
   * Whether a failure (or any of its causes) is a device allocation failure as PyTorch reports it:
   * "CUDA out of memory", "out of memory", "can't allocate memory", "not enough memory".
   */
  public static boolean isDeviceOutOfMemory(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      if (m == null) {
        continue;
      }
      String lower = m.toLowerCase(Locale.ROOT);
      if (lower.contains("out of memory")
          || lower.contains("can't allocate memory")
          || lower.contains("not enough memory")) {
        return true;
      }
    }
    return false;
  }
}
