package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class OutputLayoutTest {

  @Test
  void namesArePureFunctionsOfTheRequest() {
    assertEquals("images/s4-b6/r1/3.png", OutputLayout.imagePath("s4-b6", "r1", 3));
    assertEquals(
        "/out/images/s4-b6/r1/3.png", OutputLayout.location("/out", "images/s4-b6/r1/3.png"));
    assertEquals("gs://b/p/run.json", OutputLayout.location("gs://b/p/", "run.json"));
    assertEquals("records/records-00007.jsonl", OutputLayout.recordsPath(7));
  }

  @Test
  void namesThatLeaveTheRootAreRefused() {
    for (String bad :
        new String[] {
          "../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a\\..\\b", "c:x", "a\nb", ""
        }) {
      assertThrows(IllegalArgumentException.class, () -> OutputLayout.location("/out", bad), bad);
    }
  }
}
