package dev.odelt.transforms.requests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SeedsTest {

  @Test
  void imageSeedsArePureDistinctAndNonNegative() {
    Set<Long> seen = new HashSet<>();
    for (long i = 0; i < 10_000; i++) {
      long s = Seeds.forImage(42, i);
      assertTrue(s >= 0);
      assertEquals(s, Seeds.forImage(42, i));
      seen.add(s);
    }
    assertEquals(10_000, seen.size());
    assertNotEquals(Seeds.forImage(42, 0), Seeds.forImage(43, 0));
  }

  @Test
  void requestSeedsComeFromTheIdOnly() {
    assertEquals(Seeds.fromRequestId("r1"), Seeds.fromRequestId("r1"));
    assertNotEquals(Seeds.fromRequestId("r1"), Seeds.fromRequestId("r2"));
    assertTrue(Seeds.fromRequestId("r1") >= 0);
  }
}
