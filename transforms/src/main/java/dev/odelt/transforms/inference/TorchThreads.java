package dev.odelt.transforms.inference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PyTorch's thread pools, set through DJL's system properties before the engine starts. Several
 * DoFn threads share the cores already (one per Flink slot), so each PyTorch call gets {@code cores
 * / parallelism} intra-op threads and one inter-op thread; otherwise P slots × C PyTorch threads
 * would oversubscribe C cores. A value the user set with {@code -D} is kept.
 */
public final class TorchThreads {

  private static final Logger LOG = LoggerFactory.getLogger(TorchThreads.class);

  static final String INTRA_OP = "ai.djl.pytorch.num_threads";
  static final String INTER_OP = "ai.djl.pytorch.num_interop_threads";

  private TorchThreads() {}

  /** Intra-op threads per call when {@code parallelism} calls share {@code cores} cores. */
  public static int perCall(int cores, int parallelism) {
    return Math.max(1, cores / Math.max(1, parallelism));
  }

  /** Sets the thread counts unless already set; a no-op for {@code intraOp} ≤ 0. */
  public static synchronized void configure(int intraOp) {
    if (intraOp <= 0) {
      return;
    }
    if (System.getProperty(INTRA_OP) == null) {
      System.setProperty(INTRA_OP, Integer.toString(intraOp));
      LOG.debug("PyTorch intra-op threads per call: {}", intraOp);
    }
    if (System.getProperty(INTER_OP) == null) {
      System.setProperty(INTER_OP, "1");
    }
  }
}
