package dev.odelt.transforms.accounting;

import java.io.Serializable;

/**
 * Where the DoFns that count {@link Progress} publish their JVM's snapshot for the launcher's
 * whole-cluster view: a folder any worker and the launcher can reach, and the seconds between
 * snapshots. {@link #none()} publishes nothing (embedded runs: the launcher's JVM is the job's).
 *
 * @param directory the snapshot folder; empty for none
 * @param seconds the least seconds between two snapshots of one JVM while counts change
 */
public record ProgressSnapshots(String directory, long seconds) implements Serializable {

  private static final long serialVersionUID = 1L;

  public ProgressSnapshots {
    if (directory == null) {
      throw new IllegalArgumentException("directory must not be null (empty for none)");
    }
    if (seconds < 1) {
      throw new IllegalArgumentException("seconds must be >= 1, got " + seconds);
    }
  }

  /** No snapshots. */
  public static ProgressSnapshots none() {
    return new ProgressSnapshots("", 1);
  }

  /** True when snapshots are written. */
  public boolean enabled() {
    return !directory.isEmpty();
  }

  /** From a DoFn's {@code @Setup}: this JVM's {@link Progress} publishes here. */
  public void start() {
    if (enabled()) {
      Progress.global().publishTo(directory, seconds);
    }
  }

  /** From a DoFn's {@code @FinishBundle}: the counts so far are written now. */
  public void flush() {
    if (enabled()) {
      Progress.global().flush();
    }
  }
}
