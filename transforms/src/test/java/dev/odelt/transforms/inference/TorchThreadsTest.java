package dev.odelt.transforms.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TorchThreadsTest {

  @Test
  void threadsPerCallShareTheCores() {
    assertEquals(1, TorchThreads.perCall(2, 2));
    assertEquals(2, TorchThreads.perCall(2, 1));
    assertEquals(4, TorchThreads.perCall(16, 4));
    assertEquals(1, TorchThreads.perCall(2, 8));
  }
}
