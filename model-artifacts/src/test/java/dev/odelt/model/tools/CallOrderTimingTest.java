package dev.odelt.model.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.odelt.model.Tier;
import org.junit.jupiter.api.Test;

class CallOrderTimingTest {

  @Test
  void parsesTierBatchAndThread() throws Exception {
    CallOrderTiming.Call c = CallOrderTiming.parse("s1-b6-g3:16@1");
    assertEquals(Tier.of(1, 6).withGuidance(3f), c.tier());
    assertEquals(16, c.batch());
    assertEquals(1, c.thread());
    assertEquals(0, CallOrderTiming.parse("s2-b6:6").thread());
  }

  @Test
  void rejectsMalformedCalls() {
    for (String bad : new String[] {"s2-b6", ":4", "s2-b6:0", "s2-b6:4@2", "s2-b6:x", "q:4"}) {
      assertThrows(ToolInputException.class, () -> CallOrderTiming.parse(bad), bad);
    }
  }
}
