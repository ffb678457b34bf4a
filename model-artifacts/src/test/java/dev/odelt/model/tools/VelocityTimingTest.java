package dev.odelt.model.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.odelt.model.ModelConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class VelocityTimingTest {

  @Test
  void runningEveryBlockRunsAllOfTheAllowedBlocks() {
    ModelConfig xl = VelocityTiming.shape("dit-xl-2");
    ModelConfig every = VelocityTiming.runningEveryBlock(xl);
    assertEquals(4, every.groupSize());
    assertEquals(List.of(12, 20, 28), xl.allowedBlocks().stream().map(every::blocksRun).toList());
    assertEquals(List.of(8, 16, 24), xl.allowedBlocks().stream().map(xl::blocksRun).toList());
    ModelConfig b = VelocityTiming.shape("dit-b-2");
    assertEquals(b, VelocityTiming.runningEveryBlock(b));
    assertEquals(VelocityTiming.CONFIG, VelocityTiming.shape("small"));
    assertThrows(IllegalArgumentException.class, () -> VelocityTiming.shape("dit-s-2"));
  }
}
