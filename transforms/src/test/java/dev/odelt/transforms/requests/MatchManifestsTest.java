package dev.odelt.transforms.requests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.odelt.transforms.TestManifests;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MatchManifestsTest {

  @TempDir Path dir;

  @Test
  void globsListsAndBraces() throws IOException {
    String a = TestManifests.write(dir, "a.jsonl", "{}");
    String b = TestManifests.write(dir, "sub/b.csv", "x");
    String c = TestManifests.write(dir, "c.txt", "x");
    assertEquals(List.of(a, c), MatchManifests.match(dir + "/*.{jsonl,txt}"));
    assertEquals(List.of(a, c, b), MatchManifests.match(dir + "/**.*, " + a));
    assertEquals(List.of(b), MatchManifests.match(b));
  }

  @Test
  void nothingMatchingIsAnError() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MatchManifests.match(dir + "/*.jsonl"));
    assertEquals("--requests: nothing matches '" + dir + "/*.jsonl'", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> MatchManifests.match(" , "));
  }
}
