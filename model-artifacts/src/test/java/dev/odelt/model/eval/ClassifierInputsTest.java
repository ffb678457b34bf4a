package dev.odelt.model.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.odelt.model.data.DigitSet;
import dev.odelt.model.data.MnistDigits;
import dev.odelt.model.sample.GeneratedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClassifierInputsTest {

  @Test
  void greyDigitMatchesTheRealDigitPreparation() {
    DigitSet held = MnistDigits.load().heldOut();
    GeneratedImage image = new GeneratedImage(28, 28, 1, held.image(17));
    assertArrayEquals(held.imageAsModelInput(17, 32), ClassifierInputs.of(List.of(image)), 1e-6f);
  }

  @Test
  void smallRgbImageIsAveragedAndCentred() {
    byte[] pixels = new byte[2 * 2 * 3];
    for (int i = 0; i < 4; i++) {
      pixels[3 * i] = (byte) 255; // R
      pixels[3 * i + 1] = (byte) (i == 0 ? 255 : 0); // G
      pixels[3 * i + 2] = 0; // B
    }
    float[] x = ClassifierInputs.of(List.of(new GeneratedImage(2, 2, 3, pixels)));
    assertEquals(1024, x.length);
    // 2×2 in 32×32: rows/cols 15..16.
    assertEquals(2f * 170 / 255 - 1, x[15 * 32 + 15], 1e-6f);
    assertEquals(2f * 85 / 255 - 1, x[15 * 32 + 16], 1e-6f);
    assertEquals(2f * 85 / 255 - 1, x[16 * 32 + 16], 1e-6f);
    assertEquals(-1f, x[14 * 32 + 15], 0f);
    assertEquals(-1f, x[0], 0f);
  }

  @Test
  void largeImageIsAreaAveraged() {
    // 64×64 grey with 2×2 blocks of values 0 and 255 alternating per block column.
    byte[] pixels = new byte[64 * 64];
    for (int r = 0; r < 64; r++) {
      for (int c = 0; c < 64; c++) {
        pixels[r * 64 + c] = (byte) ((c / 2) % 2 == 0 ? 0 : 255);
      }
    }
    float[] x = ClassifierInputs.of(List.of(new GeneratedImage(64, 64, 1, pixels)));
    assertEquals(-1f, x[5 * 32 + 0], 1e-6f);
    assertEquals(1f, x[5 * 32 + 1], 1e-6f);
    assertEquals(-1f, x[31 * 32 + 30], 1e-6f);
  }
}
