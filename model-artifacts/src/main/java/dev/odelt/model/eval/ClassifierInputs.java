package dev.odelt.model.eval;

import dev.odelt.model.sample.GeneratedImage;
import java.util.Arrays;
import java.util.List;

/**
 * Turns generated 8-bit images into {@link DigitClassifier} inputs, the same way real digits are
 * prepared ({@link dev.odelt.model.data.DigitSet#imageAsModelInput}): grey = mean of the channels,
 * x = 2·p/255 − 1, images up to 32×32 centred on the background −1, larger ones area-averaged down
 * to 32×32.
 */
final class ClassifierInputs {

  private ClassifierInputs() {}

  /** (B, 1, 32, 32) inputs for the images, row-major. */
  static float[] of(List<GeneratedImage> images) {
    int size = DigitClassifier.INPUT_SIZE;
    float[] out = new float[images.size() * size * size];
    for (int i = 0; i < images.size(); i++) {
      write(images.get(i), out, i * size * size);
    }
    return out;
  }

  private static void write(GeneratedImage image, float[] out, int offset) {
    int size = DigitClassifier.INPUT_SIZE;
    int h = image.height();
    int w = image.width();
    float[] grey = grey(image);
    if (h <= size && w <= size) {
      Arrays.fill(out, offset, offset + size * size, -1f);
      int top = (size - h) / 2;
      int left = (size - w) / 2;
      for (int r = 0; r < h; r++) {
        for (int c = 0; c < w; c++) {
          out[offset + (top + r) * size + left + c] = 2f * grey[r * w + c] / 255f - 1f;
        }
      }
      return;
    }
    // Area average: output pixel (r, c) averages the source pixels whose centres fall in its box.
    for (int r = 0; r < size; r++) {
      int r0 = r * h / size;
      int r1 = Math.max(r0 + 1, (r + 1) * h / size);
      for (int c = 0; c < size; c++) {
        int c0 = c * w / size;
        int c1 = Math.max(c0 + 1, (c + 1) * w / size);
        double sum = 0;
        for (int y = r0; y < r1; y++) {
          for (int x = c0; x < c1; x++) {
            sum += grey[y * w + x];
          }
        }
        double mean = sum / ((r1 - r0) * (c1 - c0));
        out[offset + r * size + c] = (float) (2 * mean / 255 - 1);
      }
    }
  }

  private static float[] grey(GeneratedImage image) {
    int h = image.height();
    int w = image.width();
    int channels = image.channels();
    float[] grey = new float[h * w];
    for (int r = 0; r < h; r++) {
      for (int c = 0; c < w; c++) {
        float sum = 0;
        for (int ch = 0; ch < channels; ch++) {
          sum += image.pixel(r, c, ch);
        }
        grey[r * w + c] = sum / channels;
      }
    }
    return grey;
  }
}
