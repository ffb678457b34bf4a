package dev.odelt.model.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchSplitterTest {

  /** A call that fails like PyTorch on a GPU when more than {@code capacity} items are sent. */
  private static List<Integer> squaresWithCapacity(
      List<Integer> items, int capacity, List<Integer> sizes) {
    sizes.add(items.size());
    if (items.size() > capacity) {
      throw new EngineException(
          "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)");
    }
    List<Integer> out = new ArrayList<>();
    for (int i : items) {
      out.add(i * i);
    }
    return out;
  }

  @Test
  void splitsOnOutOfMemoryAndKeepsOrder() {
    List<Integer> items = List.of(0, 1, 2, 3, 4, 5, 6);
    List<Integer> sizes = new ArrayList<>();
    List<BatchSplitter.Part<Integer, List<Integer>>> parts =
        BatchSplitter.run(items, b -> squaresWithCapacity(b, 2, sizes));
    List<Integer> all = new ArrayList<>();
    int expectedOffset = 0;
    for (BatchSplitter.Part<Integer, List<Integer>> p : parts) {
      assertEquals(expectedOffset, p.offset());
      assertTrue(p.items().size() <= 2);
      all.addAll(p.result());
      expectedOffset += p.items().size();
    }
    assertEquals(List.of(0, 1, 4, 9, 16, 25, 36), all);
    assertEquals(7, sizes.get(0));
  }

  @Test
  void noSplitWhenItFits() {
    List<Integer> sizes = new ArrayList<>();
    assertEquals(
        1, BatchSplitter.run(List.of(1, 2, 3), b -> squaresWithCapacity(b, 8, sizes)).size());
    assertEquals(List.of(3), sizes);
  }

  @Test
  void otherFailuresAndSingleItemOutOfMemoryAreRethrown() {
    IllegalArgumentException bad = new IllegalArgumentException("class 12 out of range");
    assertSame(
        bad,
        assertThrows(
            IllegalArgumentException.class,
            () ->
                BatchSplitter.run(
                    List.of(1, 2),
                    b -> {
                      throw bad;
                    })));
    IllegalStateException oom =
        assertThrows(
            IllegalStateException.class,
            () ->
                BatchSplitter.run(
                    List.of(1, 2), b -> squaresWithCapacity(b, 0, new ArrayList<>())));
    assertTrue(BatchSplitter.isDeviceOutOfMemory(oom.getCause()));
  }

  @Test
  void recognisesPyTorchMessages() {
    assertTrue(
        BatchSplitter.isDeviceOutOfMemory(
            new RuntimeException(
                "wrapped",
                new EngineException(
                    "[enforce fail at alloc_cpu.cpp:114] DefaultCPUAllocator: can't allocate"
                        + " memory"))));
    assertFalse(BatchSplitter.isDeviceOutOfMemory(new EngineException("shape mismatch")));
  }
}
