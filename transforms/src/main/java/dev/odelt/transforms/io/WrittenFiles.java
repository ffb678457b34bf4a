package dev.odelt.transforms.io;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * Is a file what its record says? The checks {@code --resume} runs before it keeps a file that an
 * earlier run wrote, shared by every output format: the bytes' sha256 against the one recorded in
 * the file's metadata when it was written ({@link #problem}), and for a PNG also that it decodes
 * whole and has the recorded size ({@link #pngProblem}). A file that fails is regenerated, never
 * kept and never a crash.
 *
 * <p>Where the store keeps no metadata (a local file system without user extended attributes) or
 * the file was written before sha256s were recorded, only the format checks can run.
 */
public final class WrittenFiles {

  /** Metadata key: lowercase hex sha256 of the bytes as written. */
  public static final String SHA256 = "sha256";

  /** Metadata key: an image's width in pixels as written. */
  public static final String WIDTH = "width";

  /** Metadata key: an image's height in pixels as written. */
  public static final String HEIGHT = "height";

  private WrittenFiles() {}

  /**
   * What is wrong with {@code bytes} given the metadata they were written with: empty when their
   * sha256 equals the recorded one, or when none was recorded.
   */
  public static Optional<String> problem(byte[] bytes, Map<String, String> metadata) {
    String recorded = metadata.get(SHA256);
    if (recorded == null || recorded.isEmpty()) {
      return Optional.empty();
    }
    String actual = Hashes.sha256(bytes);
    if (!actual.equalsIgnoreCase(recorded)) {
      return Optional.of(
          "sha256 "
              + actual.substring(0, 12)
              + "… differs from the "
              + recorded.substring(0, Math.min(12, recorded.length()))
              + "… recorded when it was written ("
              + bytes.length
              + " bytes)");
    }
    return Optional.empty();
  }

  /**
   * What is wrong with a PNG: it does not decode whole, its size is not the recorded one (or, when
   * none was recorded, {@code expectedWidth} × {@code expectedHeight} where those are > 0), or its
   * sha256 is not the recorded one ({@link #problem}). Empty when it passes.
   */
  public static Optional<String> pngProblem(
      byte[] png, Map<String, String> metadata, int expectedWidth, int expectedHeight) {
    BufferedImage image;
    try {
      image = PngImages.read(png);
      // ImageIO fills missing rows of a truncated image with zeros on some paths: make it read
      // all of them, then check the bytes by hash below where a hash was recorded.
      image.getRGB(image.getWidth() - 1, image.getHeight() - 1);
    } catch (IOException | RuntimeException e) {
      return Optional.of("does not decode as a PNG (" + png.length + " bytes): " + e.getMessage());
    }
    int width = intOr(metadata.get(WIDTH), expectedWidth);
    int height = intOr(metadata.get(HEIGHT), expectedHeight);
    if ((width > 0 && image.getWidth() != width) || (height > 0 && image.getHeight() != height)) {
      return Optional.of(
          "is "
              + image.getWidth()
              + "x"
              + image.getHeight()
              + ", expected "
              + width
              + "x"
              + height);
    }
    return problem(png, metadata);
  }

  private static int intOr(String text, int fallback) {
    if (text == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }
}
