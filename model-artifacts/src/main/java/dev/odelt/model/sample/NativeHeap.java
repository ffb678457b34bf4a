package dev.odelt.model.sample;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fixes the C allocator's thresholds in a process that samples on the CPU, so that a call's tensors
 * reuse the pages earlier calls touched.
 *
 * <p>PyTorch takes CPU tensors from glibc's {@code malloc}. By default glibc serves a block above
 * its mmap threshold (128 KiB at start) with a fresh {@code mmap} and raises that threshold only as
 * such blocks are freed; it also returns the top of its heap to the system beyond a trim threshold.
 * Until both have settled, every call whose tensors are larger than any before faults in new pages,
 * and the faults are charged to the sampling thread's CPU time ({@link DeviceClock#THREAD_CPU}). On
 * the bundled model, the first {@code s2-b6-g2} call of 16 images after the warm-up cost 616–978 ms
 * with glibc's defaults and 259–308 ms with the thresholds fixed at start (its settled calls cost
 * about 210 ms; pipelines/BENCHMARKS.md): the run's early batches cost what the quote cannot
 * foresee.
 *
 * <p>{@link #keepPages()} sets the mmap threshold to {@value #MMAP_THRESHOLD} bytes and the trim
 * threshold to {@value #TRIM_THRESHOLD} bytes, the values {@code
 * GLIBC_TUNABLES=glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824} sets
 * at process start. The cost: the process keeps the pages of its largest calls until it ends, so
 * its resident memory stays at its peak instead of falling back between batches. It is left alone
 * when
 *
 * <ul>
 *   <li>the environment already sets the allocator ({@code GLIBC_TUNABLES} with a {@code
 *       glibc.malloc.} tunable, or a {@code MALLOC_…_} variable): the deployment's choice wins;
 *   <li>the system property {@value #PROPERTY} is {@code system}: glibc's own defaults;
 *   <li>the C library is not glibc (macOS, Windows, musl): there is nothing to fix.
 * </ul>
 */
public final class NativeHeap {

  /** Set to {@code system} to leave the C allocator's defaults. */
  public static final String PROPERTY = "odelt.nativeHeap";

  /** Blocks below this come from the heap, not a fresh mmap. */
  public static final int MMAP_THRESHOLD = 256 << 20;

  /** Free memory at the top of the heap that is kept rather than returned to the system. */
  public static final int TRIM_THRESHOLD = 1 << 30;

  /** What {@link #keepPages()} did. */
  public enum Outcome {
    /** The thresholds are fixed. */
    FIXED,
    /** The environment sets the allocator; left as it says. */
    ENVIRONMENT,
    /** {@value #PROPERTY}{@code =system}: left at the C library's defaults. */
    SYSTEM,
    /** Not glibc: nothing to fix. */
    NOT_GLIBC,
    /** glibc refused a value (logged): its defaults stay. */
    REFUSED
  }

  private static final Logger LOG = LoggerFactory.getLogger(NativeHeap.class);

  // mallopt(3) parameters, from glibc's malloc.h.
  private static final int M_TRIM_THRESHOLD = -1;
  private static final int M_MMAP_THRESHOLD = -3;

  private static Outcome outcome;

  private NativeHeap() {}

  /** Fixes the thresholds once per process (later calls return the first outcome). */
  public static synchronized Outcome keepPages() {
    if (outcome == null) {
      outcome = decide(System.getenv(), System.getProperty(PROPERTY, "keep"));
      if (outcome == Outcome.FIXED) {
        outcome = fix();
      }
      LOG.debug("C allocator thresholds: {}", outcome);
    }
    return outcome;
  }

  /** What to do for this environment and property value, before looking at the C library. */
  static Outcome decide(Map<String, String> env, String property) {
    String tunables = env.getOrDefault("GLIBC_TUNABLES", "");
    if (tunables.contains("glibc.malloc.")
        || env.keySet().stream().anyMatch(k -> k.startsWith("MALLOC_") && k.endsWith("_"))) {
      return Outcome.ENVIRONMENT;
    }
    switch (property) {
      case "system":
        return Outcome.SYSTEM;
      case "keep":
        return Outcome.FIXED;
      default:
        throw new IllegalArgumentException(
            "-D" + PROPERTY + "=" + property + ": expected keep (the default) or system");
    }
  }

  private static Outcome fix() {
    if (!Platform.isLinux()) {
      return Outcome.NOT_GLIBC;
    }
    NativeLibrary c = NativeLibrary.getInstance(Platform.C_LIBRARY_NAME);
    Function version;
    Function mallopt;
    try {
      version = c.getFunction("gnu_get_libc_version"); // glibc's own: absent from other C libraries
      mallopt = c.getFunction("mallopt");
    } catch (UnsatisfiedLinkError e) {
      return Outcome.NOT_GLIBC;
    }
    // mallopt returns 1 on success. Older glibc versions refuse an mmap threshold above 32 MiB
    // (half their largest arena heap); a refusal only costs speed, so the job goes on with the
    // defaults.
    if (mallopt.invokeInt(new Object[] {M_MMAP_THRESHOLD, MMAP_THRESHOLD}) != 1
        || mallopt.invokeInt(new Object[] {M_TRIM_THRESHOLD, TRIM_THRESHOLD}) != 1) {
      LOG.warn(
          "glibc {} refused mallopt(M_MMAP_THRESHOLD, {}) or mallopt(M_TRIM_THRESHOLD, {}); the"
              + " first calls of each batch shape will cost more than later ones",
          version.invokeString(new Object[0], false),
          MMAP_THRESHOLD,
          TRIM_THRESHOLD);
      return Outcome.REFUSED;
    }
    return Outcome.FIXED;
  }
}
