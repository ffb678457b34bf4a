package dev.odelt.model.tools;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.model.sample.Sampler;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Device and wall time of sampler calls made in the order given, in this one process: shows which
 * calls pay a one-off cost (the process's first call, a thread's first call, a larger working set
 * than the thread held before) and which cost what their repeats cost. Run it in a fresh JVM per
 * sequence.
 *
 * <p>Usage: {@code CallOrderTiming [--model=LOCATION] [--device=cpu] CALL…}, each CALL {@code
 * TIER:BATCH[@THREAD]} with a tier label ({@code s2-b6}, {@code s1-b6-g3}), the number of images
 * and the worker thread (0 or 1; default 0), e.g. {@code s2-b6:16 s2-b6:6 s2-b6:6@1}. Items are
 * seeds 1000.., classes cycling. Prints one line per call: the call, its device milliseconds
 * ({@link dev.odelt.model.sample.SampleStats#deviceNanos()}, what the job's accounting sums) and
 * its wall milliseconds. Set the PyTorch thread counts with {@code -Dai.djl.pytorch.num_threads=…}
 * as the job would (one thread: device time is CPU time).
 */
public final class CallOrderTiming {

  /** Worker threads a sequence may use. */
  static final int THREADS = 2;

  private CallOrderTiming() {}

  /** One call of a sequence. */
  record Call(String spec, Tier tier, int batch, int thread) {}

  /** Parses {@code TIER:BATCH[@THREAD]}. */
  static Call parse(String spec) throws ToolInputException {
    int colon = spec.lastIndexOf(':');
    int at = spec.indexOf('@', Math.max(colon, 0));
    if (colon < 1) {
      throw new ToolInputException("Call '" + spec + "' is not TIER:BATCH[@THREAD]");
    }
    try {
      Tier tier = Tier.parse(spec.substring(0, colon));
      int batch = Integer.parseInt(spec.substring(colon + 1, at < 0 ? spec.length() : at));
      int thread = at < 0 ? 0 : Integer.parseInt(spec.substring(at + 1));
      if (batch < 1 || thread < 0 || thread >= THREADS) {
        throw new ToolInputException(
            "Call '" + spec + "': batch must be >= 1 and thread 0.." + (THREADS - 1));
      }
      return new Call(spec, tier, batch, thread);
    } catch (IllegalArgumentException e) {
      throw new ToolInputException("Call '" + spec + "': " + e.getMessage(), e);
    }
  }

  public static void main(String[] args) throws Exception {
    String model = Models.DEFAULT_MODEL;
    String device = "cpu";
    List<Call> calls = new ArrayList<>();
    try {
      for (String arg : args) {
        if (arg.startsWith("--model=")) {
          model = arg.substring("--model=".length());
        } else if (arg.startsWith("--device=")) {
          device = arg.substring("--device=".length());
        } else if (arg.startsWith("--")) {
          throw new ToolInputException("Unknown option " + arg);
        } else {
          calls.add(parse(arg));
        }
      }
      if (calls.isEmpty()) {
        throw new ToolInputException("No calls given: TIER:BATCH[@THREAD]…");
      }
    } catch (ToolInputException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    ExecutorService[] threads = new ExecutorService[THREADS];
    for (int i = 0; i < THREADS; i++) {
      threads[i] = Executors.newSingleThreadExecutor();
    }
    try (LoadedModel loaded = Models.load(model, device)) {
      Sampler sampler = loaded.sampler();
      int classes = Math.max(1, loaded.config().numClasses());
      StringBuilder out = new StringBuilder();
      for (Call call : calls) {
        List<SampleItem> items = new ArrayList<>(call.batch());
        for (int i = 0; i < call.batch(); i++) {
          items.add(new SampleItem(i % classes, 1000 + i));
        }
        SampleStats stats;
        try {
          stats =
              threads[call.thread()].submit(() -> sampler.sample(items, call.tier()).stats()).get();
        } catch (ExecutionException e) {
          throw new IllegalStateException("Call " + call.spec() + " failed", e.getCause());
        }
        // Printed at the end, so that printing never runs between two calls.
        out.append(
            String.format(
                Locale.ROOT,
                "%s %.1f %.1f%n",
                call.spec(),
                stats.deviceNanos() / 1e6,
                stats.wallNanos() / 1e6));
      }
      System.out.print(out);
    } finally {
      for (ExecutorService t : threads) {
        t.shutdownNow();
      }
    }
  }
}
