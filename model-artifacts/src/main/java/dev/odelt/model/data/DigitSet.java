package dev.odelt.model.data;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * An immutable set of single-channel 8-bit digit images with their class labels.
 *
 * <p>Model inputs use the generator's pixel space: a pixel p in 0..255 becomes {@code x = 2p/255 −
 * 1} in [−1, 1], and an image is zero-padded to a square of side {@code padTo} with the background
 * value −1 (pixel 0), centred (for 28×28 → 32×32, two pixels on every side).
 *
 * @param count number of images
 * @param height image height in pixels
 * @param width image width in pixels
 * @param pixels {@code count × height × width} uint8 values, row-major per image (copied in and
 *     out; use {@link #pixel} to read without copying)
 * @param labels {@code count} class ids (copied in and out; use {@link #label} to read without
 *     copying)
 */
public record DigitSet(int count, int height, int width, byte[] pixels, int[] labels) {

  public DigitSet {
    if (count < 0 || height < 1 || width < 1) {
      throw new IllegalArgumentException(
          "bad shape: count=" + count + " height=" + height + " width=" + width);
    }
    if (pixels == null || pixels.length != (long) count * height * width) {
      throw new IllegalArgumentException(
          "pixels must hold count*height*width = "
              + ((long) count * height * width)
              + " values, got "
              + (pixels == null ? "null" : pixels.length));
    }
    if (labels == null || labels.length != count) {
      throw new IllegalArgumentException(
          "labels must hold "
              + count
              + " values, got "
              + (labels == null ? "null" : labels.length));
    }
    for (int label : labels) {
      if (label < 0) {
        throw new IllegalArgumentException("negative label " + label);
      }
    }
    pixels = pixels.clone();
    labels = labels.clone();
  }

  /** A copy of all pixels. */
  @Override
  public byte[] pixels() {
    return pixels.clone();
  }

  /** A copy of all labels. */
  @Override
  public int[] labels() {
    return labels.clone();
  }

  /** The class id of image {@code index}. */
  public int label(int index) {
    return labels[checkIndex(index)];
  }

  /** Pixel value 0..255 of image {@code index} at ({@code row}, {@code col}). */
  public int pixel(int index, int row, int col) {
    checkIndex(index);
    if (row < 0 || row >= height || col < 0 || col >= width) {
      throw new IndexOutOfBoundsException("pixel (" + row + ", " + col + ") outside the image");
    }
    return pixels[(index * height + row) * width + col] & 0xff;
  }

  /** The {@code height × width} pixels of image {@code index}, row-major. */
  public byte[] image(int index) {
    int size = height * width;
    int start = checkIndex(index) * size;
    return Arrays.copyOfRange(pixels, start, start + size);
  }

  /** The number of images of class {@code classId}. */
  public int countOf(int classId) {
    int n = 0;
    for (int label : labels) {
      if (label == classId) {
        n++;
      }
    }
    return n;
  }

  /** The indices of the images of class {@code classId}, ascending. */
  public int[] indicesOf(int classId) {
    return IntStream.range(0, count).filter(i -> labels[i] == classId).toArray();
  }

  /** The class ids of the given images, in the given order. */
  public int[] labelsOf(int[] indices) {
    int[] out = new int[indices.length];
    for (int i = 0; i < indices.length; i++) {
      out[i] = label(indices[i]);
    }
    return out;
  }

  /** A new set holding the given images in the given order (repeats allowed). */
  public DigitSet select(int[] indices) {
    int size = height * width;
    byte[] outPixels = new byte[indices.length * size];
    for (int i = 0; i < indices.length; i++) {
      System.arraycopy(pixels, checkIndex(indices[i]) * size, outPixels, i * size, size);
    }
    return new DigitSet(indices.length, height, width, outPixels, labelsOf(indices));
  }

  /**
   * Image {@code index} as a model input: {@code padTo × padTo} floats in [−1, 1], row-major, the
   * image centred on a background of −1.
   *
   * @param padTo side of the square output, at least {@code max(height, width)}
   */
  public float[] imageAsModelInput(int index, int padTo) {
    float[] out = new float[padTo * padTo];
    writeModelInput(index, padTo, out, 0);
    return out;
  }

  /**
   * The given images as one model-input batch of shape (B, 1, padTo, padTo), row-major, B = {@code
   * indices.length}; each image as in {@link #imageAsModelInput}.
   */
  public float[] batchAsModelInput(int[] indices, int padTo) {
    int plane = padTo * padTo;
    float[] out = new float[indices.length * plane]; // (B, 1, P, P)
    for (int i = 0; i < indices.length; i++) {
      writeModelInput(indices[i], padTo, out, i * plane);
    }
    return out;
  }

  /** The model-space value {@code 2p/255 − 1} of an 8-bit pixel p. */
  public static float toModelValue(int pixel) {
    return pixel * (2f / 255f) - 1f;
  }

  private void writeModelInput(int index, int padTo, float[] out, int offset) {
    checkIndex(index);
    if (padTo < height || padTo < width) {
      throw new IllegalArgumentException(
          "padTo " + padTo + " is smaller than the " + height + "x" + width + " image");
    }
    Arrays.fill(out, offset, offset + padTo * padTo, -1f);
    int top = (padTo - height) / 2;
    int left = (padTo - width) / 2;
    int base = index * height * width;
    for (int r = 0; r < height; r++) {
      int dst = offset + (top + r) * padTo + left;
      int src = base + r * width;
      for (int c = 0; c < width; c++) {
        out[dst + c] = toModelValue(pixels[src + c] & 0xff);
      }
    }
  }

  private int checkIndex(int index) {
    if (index < 0 || index >= count) {
      throw new IndexOutOfBoundsException("image " + index + " outside 0.." + (count - 1));
    }
    return index;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DigitSet d
        && count == d.count
        && height == d.height
        && width == d.width
        && Arrays.equals(pixels, d.pixels)
        && Arrays.equals(labels, d.labels);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Integer.hashCode(count) + Arrays.hashCode(labels)) + Arrays.hashCode(pixels);
  }

  @Override
  public String toString() {
    return "DigitSet[count=" + count + ", height=" + height + ", width=" + width + "]";
  }
}
