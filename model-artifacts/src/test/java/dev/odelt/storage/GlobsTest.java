package dev.odelt.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class GlobsTest {

  private static boolean matches(String glob, String location) {
    return Globs.toPattern(glob).matcher(location).matches();
  }

  @Test
  void detectsWildcards() {
    assertFalse(Globs.hasWildcard("gs://b/dir/file.jsonl"));
    assertTrue(Globs.hasWildcard("/data/*.jsonl"));
    assertTrue(Globs.hasWildcard("/data/?.jsonl"));
    assertTrue(Globs.hasWildcard("/data/[ab].jsonl"));
    assertTrue(Globs.hasWildcard("/data/{a,b}.jsonl"));
  }

  @Test
  void literalPrefixStopsAtTheLastSlashBeforeTheFirstWildcard() {
    assertEquals("gs://b/req/", Globs.literalPrefix("gs://b/req/*.jsonl"));
    assertEquals("gs://b/", Globs.literalPrefix("gs://b/req*/x.jsonl"));
    assertEquals("/data/a/", Globs.literalPrefix("/data/a/{x,y}/z"));
    assertEquals("", Globs.literalPrefix("*.jsonl"));
    assertEquals("/data/a/", Globs.literalPrefix("/data/a/file.jsonl"));
  }

  @Test
  void starStaysInsideOneSegment() {
    assertTrue(matches("/d/*.jsonl", "/d/a.jsonl"));
    assertTrue(matches("/d/*.jsonl", "/d/.jsonl"));
    assertFalse(matches("/d/*.jsonl", "/d/sub/a.jsonl"));
    assertFalse(matches("/d/*.jsonl", "/d/a.jsonl.bak"));
  }

  @Test
  void doubleStarCrossesSegmentsAndMayBeEmpty() {
    assertTrue(matches("/d/**.jsonl", "/d/a/b/c.jsonl"));
    assertTrue(matches("/d/**/*.jsonl", "/d/c.jsonl"));
    assertTrue(matches("/d/**/*.jsonl", "/d/a/b/c.jsonl"));
    assertFalse(matches("/d/**/*.jsonl", "/e/c.jsonl"));
    assertTrue(matches("/d/**", "/d/x/y"));
  }

  @Test
  void questionMarkIsOneCharacterOfASegment() {
    assertTrue(matches("/d/?.png", "/d/a.png"));
    assertFalse(matches("/d/?.png", "/d/ab.png"));
    assertFalse(matches("/d/a?b", "/d/a/b"));
  }

  @Test
  void bracesAreAlternativesAndNest() {
    assertTrue(matches("/d/{a,b}.csv", "/d/a.csv"));
    assertTrue(matches("/d/{a,b}.csv", "/d/b.csv"));
    assertFalse(matches("/d/{a,b}.csv", "/d/c.csv"));
    assertTrue(matches("/d/{x{1,2},y}.csv", "/d/x2.csv"));
    assertFalse(matches("/d/{x{1,2},y}.csv", "/d/x3.csv"));
    assertTrue(matches("/d/a,b.csv", "/d/a,b.csv"));
    assertThrows(IllegalArgumentException.class, () -> Globs.toPattern("/d/{a,b.csv"));
  }

  @Test
  void characterClasses() {
    assertTrue(matches("/d/part-[0-9].csv", "/d/part-7.csv"));
    assertFalse(matches("/d/part-[0-9].csv", "/d/part-x.csv"));
    assertTrue(matches("/d/part-[!0-9].csv", "/d/part-x.csv"));
    assertFalse(matches("/d/part-[!0-9].csv", "/d/part-7.csv"));
    assertFalse(matches("/d/a[!x]b", "/d/a/b"));
    assertTrue(matches("/d/a[&^]b", "/d/a^b"));
  }

  @Test
  void regexCharactersAreLiteral() {
    assertTrue(matches("/d/a+b(1).$x|y^z", "/d/a+b(1).$x|y^z"));
    assertFalse(matches("/d/a.b", "/d/aXb"));
    assertTrue(matches("/d/x]y}", "/d/x]y}"));
    assertEquals(Pattern.compile("/d/a\\.b").pattern(), Globs.toPattern("/d/a.b").pattern());
  }
}
