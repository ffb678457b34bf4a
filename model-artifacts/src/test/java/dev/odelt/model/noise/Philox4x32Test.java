package dev.odelt.model.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class Philox4x32Test {

  /** Known-answer vectors of Random123 (kat_vectors, "philox4x32 10"). */
  @Test
  void matchesRandom123KnownAnswers() {
    assertBlock(
        new int[] {0, 0, 0, 0}, 0, 0, new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
    assertBlock(
        new int[] {-1, -1, -1, -1},
        -1,
        -1,
        new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
    assertBlock(
        new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
        0xa4093822,
        0x299f31d0,
        new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
  }

  private static void assertBlock(int[] counter, int key0, int key1, int[] expected) {
    int[] out = new int[4];
    Philox4x32.block(counter, key0, key1, out);
    assertArrayEquals(expected, out);
  }
}
