package dev.odelt.model.sample;

import java.util.Arrays;

/**
 * An 8-bit image: {@code pixels} holds height rows of width pixels of {@code channels} interleaved
 * values (row-major HWC; 1 channel = grey, 3 = RGB). Immutable: the array is copied in and out.
 */
public record GeneratedImage(int width, int height, int channels, byte[] pixels) {

  public GeneratedImage {
    if (pixels.length != (long) width * height * channels) {
      throw new IllegalArgumentException(
          width
              + "x"
              + height
              + "x"
              + channels
              + " image needs "
              + (long) width * height * channels
              + " bytes, got "
              + pixels.length);
    }
    pixels = pixels.clone();
  }

  @Override
  public byte[] pixels() {
    return pixels.clone();
  }

  /** The value at (row, column, channel), 0..255. */
  public int pixel(int row, int column, int channel) {
    return pixels[(row * width + column) * channels + channel] & 0xFF;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof GeneratedImage g
        && width == g.width
        && height == g.height
        && channels == g.channels
        && Arrays.equals(pixels, g.pixels);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * (31 * width + height) + channels) + Arrays.hashCode(pixels);
  }

  @Override
  public String toString() {
    return "GeneratedImage[" + width + "x" + height + "x" + channels + "]";
  }
}
