package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class PngImagesTest {

  private static byte[] ramp(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 7);
    }
    return b;
  }

  @Test
  void greyRoundTripIsExactAndEncodingDeterministic() throws IOException {
    byte[] pixels = ramp(5 * 3);
    byte[] png = PngImages.encode(5, 3, 1, pixels);
    assertArrayEquals(png, PngImages.encode(5, 3, 1, pixels.clone()));
    BufferedImage back = PngImages.read(png);
    assertEquals(5, back.getWidth());
    assertEquals(3, back.getHeight());
    assertEquals(1, back.getRaster().getNumBands());
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 5; x++) {
        assertEquals(pixels[y * 5 + x] & 0xff, back.getRaster().getSample(x, y, 0));
      }
    }
    assertArrayEquals(new int[] {5, 3}, PngImages.size(png));
  }

  @Test
  void rgbChannelsStayInOrder() throws IOException {
    byte[] pixels = {10, 20, 30, 40, 50, 60};
    BufferedImage back = PngImages.read(PngImages.encode(2, 1, 3, pixels));
    assertEquals(20, back.getRaster().getSample(0, 0, 1));
    assertEquals(0x0A141E, back.getRGB(0, 0) & 0xffffff);
    assertEquals(0x28323C, back.getRGB(1, 0) & 0xffffff);
  }
}
