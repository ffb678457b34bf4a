package dev.odelt.model.sample;

import java.util.Locale;

/** Recognises a device allocation failure as PyTorch reports it, so callers can split work. */
public final class DeviceMemory {

  private DeviceMemory() {}

  /**
   * Whether a failure (or any of its causes) is a device allocation failure: "CUDA out of
   * memory", "out of memory", "can't allocate memory", "not enough memory".
   */
  public static boolean isOutOfMemory(Throwable e) {
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
