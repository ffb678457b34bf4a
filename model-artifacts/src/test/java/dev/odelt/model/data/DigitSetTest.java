package dev.odelt.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class DigitSetTest {

  /** Two 2×3 images: 0..5 and 250..255. */
  private static DigitSet twoImages() {
    byte[] pixels = new byte[12];
    for (int i = 0; i < 6; i++) {
      pixels[i] = (byte) i;
      pixels[6 + i] = (byte) (250 + i);
    }
    return new DigitSet(2, 2, 3, pixels, new int[] {7, 3});
  }

  @Test
  void modelValueMapsPixelRangeOntoMinusOneToOne() {
    assertEquals(-1f, DigitSet.toModelValue(0), 0f);
    assertEquals(1f, DigitSet.toModelValue(255), 1e-6f);
    assertEquals(2f * 128 / 255 - 1, DigitSet.toModelValue(128), 1e-6f);
  }

  @Test
  void imageIsCentredOnMinusOneBackground() {
    DigitSet set = twoImages();
    // 2×3 in 5×5: top = (5-2)/2 = 1, left = (5-3)/2 = 1.
    float[] x = set.imageAsModelInput(1, 5);
    float[] want = new float[25];
    Arrays.fill(want, -1f);
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 3; c++) {
        want[(1 + r) * 5 + 1 + c] = 2f * (250 + r * 3 + c) / 255f - 1f;
      }
    }
    assertArrayEquals(want, x, 1e-6f);
    // 2×3 in 3×3: top = 0, left = 0; the last row is background.
    assertArrayEquals(
        new float[] {
          -1, 2f / 255 - 1, 4f / 255 - 1, 6f / 255 - 1, 8f / 255 - 1, 10f / 255 - 1, -1, -1, -1
        },
        set.imageAsModelInput(0, 3),
        1e-6f);
  }

  @Test
  void mnistDigitPadsTwoPixelsEachSide() {
    DigitSet held = MnistDigits.load().heldOut();
    float[] x = held.imageAsModelInput(5, 32);
    for (int r = 0; r < 32; r++) {
      for (int c = 0; c < 32; c++) {
        float v = x[r * 32 + c];
        if (r < 2 || r >= 30 || c < 2 || c >= 30) {
          assertEquals(-1f, v, 0f);
        } else {
          assertEquals(DigitSet.toModelValue(held.pixel(5, r - 2, c - 2)), v, 0f);
        }
      }
    }
  }

  @Test
  void batchStacksImagesInIndexOrder() {
    DigitSet set = twoImages();
    float[] batch = set.batchAsModelInput(new int[] {1, 0, 1}, 4); // (3, 1, 4, 4)
    assertEquals(48, batch.length);
    assertArrayEquals(set.imageAsModelInput(1, 4), Arrays.copyOfRange(batch, 0, 16));
    assertArrayEquals(set.imageAsModelInput(0, 4), Arrays.copyOfRange(batch, 16, 32));
    assertArrayEquals(set.imageAsModelInput(1, 4), Arrays.copyOfRange(batch, 32, 48));
    assertArrayEquals(new int[] {3, 7, 3}, set.labelsOf(new int[] {1, 0, 1}));
  }

  @Test
  void valuesAreImmutableAndCompareByContent() {
    byte[] pixels = new byte[6];
    int[] labels = {1};
    DigitSet a = new DigitSet(1, 2, 3, pixels, labels);
    pixels[0] = 9;
    labels[0] = 4;
    a.pixels()[1] = 9;
    a.labels()[0] = 5;
    assertEquals(0, a.pixel(0, 0, 0));
    assertEquals(0, a.pixel(0, 0, 1));
    assertEquals(1, a.label(0));
    assertEquals(new DigitSet(1, 2, 3, new byte[6], new int[] {1}), a);
    assertEquals(new DigitSet(1, 2, 3, new byte[6], new int[] {1}).hashCode(), a.hashCode());
    assertNotEquals(new DigitSet(1, 2, 3, new byte[6], new int[] {2}), a);
    DigitSet sel = twoImages().select(new int[] {1});
    assertEquals(1, sel.count());
    assertEquals(3, sel.label(0));
    assertEquals(255, sel.pixel(0, 1, 2));
  }

  @Test
  void badArgumentsFailClearly() {
    assertThrows(
        IllegalArgumentException.class, () -> new DigitSet(1, 2, 3, new byte[5], new int[1]));
    assertThrows(
        IllegalArgumentException.class, () -> new DigitSet(1, 2, 3, new byte[6], new int[2]));
    assertThrows(
        IllegalArgumentException.class, () -> new DigitSet(1, 2, 3, new byte[6], new int[] {-1}));
    DigitSet set = twoImages();
    assertThrows(IndexOutOfBoundsException.class, () -> set.imageAsModelInput(2, 4));
    assertThrows(IllegalArgumentException.class, () -> set.imageAsModelInput(0, 2));
    assertThrows(IndexOutOfBoundsException.class, () -> set.pixel(0, 2, 0));
  }
}
