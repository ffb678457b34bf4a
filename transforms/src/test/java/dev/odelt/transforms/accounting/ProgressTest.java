package dev.odelt.transforms.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProgressTest {

  @Test
  void linesShowDoneOfPlannedRateAndEta() {
    Progress p = new Progress();
    p.planned("s4-b4", 100);
    p.planned("s4-b4", 100);
    p.planned("s2-b2", 10);
    p.done("s4-b4", 50);
    p.done("s2-b2", 10);
    Map<String, String> lines = p.lines(10);
    assertEquals("50/200 images (25%), 5.0 img/s, ETA 30 s", lines.get("s4-b4"));
    assertEquals("10/10 images (100%), 1.0 img/s, done", lines.get("s2-b2"));
  }
}
