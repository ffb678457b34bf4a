package dev.odelt.model.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import dev.odelt.model.sample.NativeHeap.Outcome;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NativeHeapTest {

  @Test
  void theEnvironmentsAllocatorSettingsWin() {
    assertEquals(
        Outcome.ENVIRONMENT,
        NativeHeap.decide(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2"), "keep"));
    assertEquals(
        Outcome.ENVIRONMENT, NativeHeap.decide(Map.of("MALLOC_MMAP_THRESHOLD_", "1024"), "keep"));
    assertEquals(
        Outcome.FIXED,
        NativeHeap.decide(Map.of("GLIBC_TUNABLES", "glibc.pthread.rseq=0", "HOME", "/"), "keep"));
  }

  @Test
  void thePropertyLeavesTheDefaultsOrRefusesNonsense() {
    assertEquals(Outcome.SYSTEM, NativeHeap.decide(Map.of(), "system"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> NativeHeap.decide(Map.of(), "big"));
    assertEquals("-Dodelt.nativeHeap=big: expected keep (the default) or system", e.getMessage());
  }

  /**
   * A 48 MiB block is above any threshold glibc sets by itself (its dynamic threshold stops at 32
   * MiB), so with the defaults it is a fresh mmap (one more in {@code mallinfo2().hblks}); with the
   * thresholds fixed it comes from the heap.
   */
  @Test
  void largeBlocksComeFromTheHeapOnceFixed() {
    assumeTrue(Platform.isLinux() && Platform.is64Bit(), "glibc on 64-bit Linux");
    assumeTrue(
        NativeHeap.decide(System.getenv(), System.getProperty(NativeHeap.PROPERTY, "keep"))
            == Outcome.FIXED,
        "the environment or -D" + NativeHeap.PROPERTY + " sets the allocator");
    assertEquals(Outcome.FIXED, NativeHeap.keepPages());
    assertEquals(Outcome.FIXED, NativeHeap.keepPages());

    C c = Native.load(Platform.C_LIBRARY_NAME, C.class);
    long before = c.mallinfo2().hblks;
    Pointer block = c.malloc(48L << 20);
    long during = c.mallinfo2().hblks;
    c.free(block);
    assertEquals(before, during, "mmapped blocks before and while holding 48 MiB");
  }

  /** The few glibc functions the test reads the allocator with. */
  public interface C extends Library {
    Mallinfo2.ByValue mallinfo2();

    Pointer malloc(long size);

    void free(Pointer block);
  }

  /** glibc's {@code struct mallinfo2} (2.33 and later): ten {@code size_t} counters. */
  @Structure.FieldOrder({
    "arena",
    "ordblks",
    "smblks",
    "hblks",
    "hblkhd",
    "usmblks",
    "fsmblks",
    "uordblks",
    "fordblks",
    "keepcost"
  })
  public static class Mallinfo2 extends Structure {
    public long arena;
    public long ordblks;
    public long smblks;
    public long hblks;
    public long hblkhd;
    public long usmblks;
    public long fsmblks;
    public long uordblks;
    public long fordblks;
    public long keepcost;

    /** Returned by value. */
    public static class ByValue extends Mallinfo2 implements Structure.ByValue {}
  }
}
