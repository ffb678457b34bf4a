package dev.odelt.model.sample;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The clock a sampler call's device time is read from ({@link SampleStats#deviceNanos()}), the
 * quantity the job charges and the quote predicts.
 *
 * <ul>
 *   <li>{@link #THREAD_CPU}: on a CPU where PyTorch computes on the calling thread alone (one
 *       intra-op thread, the job's default whenever its slots share the cores), the calling
 *       thread's CPU time. Each core-second is then charged to the one call that used it: when the
 *       rest of the job (PNG encoding, shuffles, the collector) or another slot's thread takes the
 *       core for a while, the call's wall time grows by that while, its CPU time does not.
 *   <li>{@link #WALL}: otherwise — a GPU (the host thread waits for the device), an intra-op pool
 *       (its workers' time is not the calling thread's), or an engine other than PyTorch — the
 *       call's wall time.
 * </ul>
 */
public enum DeviceClock {
  THREAD_CPU,
  WALL;

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final boolean CPU_TIME =
      THREADS.isCurrentThreadCpuTimeSupported() && THREADS.isThreadCpuTimeEnabled();

  /**
   * The clock for a call made now, on this thread, on {@code device}; {@code pytorch} says whether
   * the engine is PyTorch (its intra-op thread count is read on this thread).
   */
  public static DeviceClock forCall(Device device, boolean pytorch) {
    return CPU_TIME && pytorch && !device.isGpu() && JniUtils.getNumThreads() == 1
        ? THREAD_CPU
        : WALL;
  }

  /** This clock's reading on the calling thread, in nanoseconds from an arbitrary origin. */
  public long now() {
    return this == THREAD_CPU ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
  }

  /** How the clock is described in outputs and logs. */
  public String describe() {
    return this == THREAD_CPU
        ? "CPU time of the sampling thread (one PyTorch thread per call)"
        : "wall time of the call";
  }
}
