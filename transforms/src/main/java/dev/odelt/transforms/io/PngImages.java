package dev.odelt.transforms.io;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/**
 * PNG encoding with {@code javax.imageio}: deterministic (no timestamps or other varying chunks, so
 * the same pixels always give the same bytes) and without ImageIO's disk cache (nothing is written
 * outside the output).
 */
public final class PngImages {

  static {
    ImageIO.setUseCache(false);
  }

  private PngImages() {}

  /**
   * Encodes 8-bit pixels, row-major with channels interleaved.
   *
   * @param channels 1 (grey) or 3 (RGB)
   */
  public static byte[] encode(int width, int height, int channels, byte[] pixels) {
    if (width < 1 || height < 1 || pixels.length != width * height * channels) {
      throw new IllegalArgumentException(
          "Pixel buffer of "
              + pixels.length
              + " bytes does not hold "
              + width
              + "x"
              + height
              + "x"
              + channels);
    }
    BufferedImage image;
    if (channels == 1) {
      image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
      image.getRaster().setDataElements(0, 0, width, height, pixels);
    } else if (channels == 3) {
      image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
      WritableRaster raster = image.getRaster();
      int[] rgb = new int[3];
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          int o = (y * width + x) * 3;
          rgb[0] = pixels[o] & 0xff;
          rgb[1] = pixels[o + 1] & 0xff;
          rgb[2] = pixels[o + 2] & 0xff;
          raster.setPixel(x, y, rgb);
        }
      }
    } else {
      throw new IllegalArgumentException("Only 1 or 3 channels can be written as PNG: " + channels);
    }
    return write(image);
  }

  /** Encodes an image. */
  public static byte[] write(BufferedImage image) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, "png", out)) {
        throw new IllegalStateException("No PNG writer in this JVM");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("PNG encoding to memory failed", e);
    }
    return out.toByteArray();
  }

  /** Decodes a PNG. */
  public static BufferedImage read(byte[] png) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    if (image == null) {
      throw new IOException("Not a PNG image");
    }
    return image;
  }

  /** Width and height from the IHDR chunk, without decoding. */
  public static int[] size(byte[] png) throws IOException {
    if (png.length < 24 || png[12] != 'I' || png[13] != 'H' || png[14] != 'D' || png[15] != 'R') {
      throw new IOException("Not a PNG image");
    }
    return new int[] {readInt(png, 16), readInt(png, 20)};
  }

  /**
   * Channels per pixel of a PNG from its IHDR colour type: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
   * (an indexed-colour image counts as RGB).
   *
   * @throws IOException when the bytes do not start with a PNG header
   */
  public static int channels(byte[] png) throws IOException {
    size(png);
    if (png.length < 26) {
      throw new IOException("Not a PNG image");
    }
    return switch (png[25]) {
      case 0 -> 1;
      case 4 -> 2;
      case 6 -> 4;
      default -> 3;
    };
  }

  private static int readInt(byte[] b, int o) {
    return (b[o] & 0xff) << 24
        | (b[o + 1] & 0xff) << 16
        | (b[o + 2] & 0xff) << 8
        | (b[o + 3] & 0xff);
  }
}
