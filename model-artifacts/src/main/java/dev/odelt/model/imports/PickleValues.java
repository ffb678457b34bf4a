package dev.odelt.model.imports;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Java forms of what {@link PickleReader} reads. Python's None, bool, int, float and str become
 * {@code null}, {@link Boolean}, {@link Long} (or {@link java.math.BigInteger}), {@link Double} and
 * {@link String}; list, dict and set become {@link java.util.ArrayList}, {@link
 * java.util.LinkedHashMap} and {@link java.util.LinkedHashSet} (insertion order kept). The types
 * here cover the rest: tuples, bytes (possibly still in the file), class references, inert
 * placeholders for every object of a class the reader does not honour, and numpy dtypes and arrays.
 */
public final class PickleValues {

  private PickleValues() {}

  /**
   * A Python tuple. Immutable; items may be {@code null} (None). Its nesting depth (1 + the deepest
   * tuple among its items) is known at construction, and its hash is computed once and kept, so
   * hashing a tuple whose items share structure costs one visit per distinct tuple.
   */
  public static final class Tuple {
    private final List<Object> items;
    private final int depth;
    private int hash;
    private boolean hashed;

    public Tuple(List<Object> items) {
      this.items = Collections.unmodifiableList(new ArrayList<>(items));
      int deepest = 0;
      for (Object item : this.items) {
        if (item instanceof Tuple t) {
          deepest = Math.max(deepest, t.depth);
        }
      }
      this.depth = deepest + 1;
    }

    public List<Object> items() {
      return items;
    }

    public Object get(int i) {
      return items.get(i);
    }

    public int size() {
      return items.size();
    }

    /** 1 for a tuple without tuples among its items, else 1 + the deepest item's depth. */
    public int depth() {
      return depth;
    }

    @Override
    public int hashCode() {
      if (!hashed) {
        int h = 1;
        for (Object item : items) {
          h = 31 * h + (item == null ? 0 : item.hashCode());
        }
        hash = h;
        hashed = true;
      }
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      if (o == this) {
        return true;
      }
      if (!(o instanceof Tuple t) || t.depth != depth || t.hashCode() != hashCode()) {
        return false;
      }
      return items.equals(t.items);
    }

    /** A shallow description (never the items: they may nest deeply). */
    @Override
    public String toString() {
      return "tuple of " + items.size() + " items";
    }
  }

  /** A reference to a Python class or function by module and name; never resolved or loaded. */
  public record Global(String module, String name) {

    public String qualifiedName() {
      return module + "." + name;
    }

    @Override
    public String toString() {
      return qualifiedName();
    }
  }

  /**
   * An object of a class the reader does not honour (an optax state, {@code os.system(…)} …): it
   * records what would have been called and stays inert. Equality is identity.
   */
  public static final class Placeholder {
    private final Global type;
    private final List<Object> args;
    private Object state;

    Placeholder(Global type, List<Object> args) {
      this.type = type;
      this.args = Collections.unmodifiableList(new ArrayList<>(args));
    }

    /** The class or function the pickle named. */
    public Global type() {
      return type;
    }

    /** The arguments the pickle passed to it. */
    public List<Object> args() {
      return args;
    }

    /** The state a BUILD opcode gave it ({@code null} when none). */
    public Object state() {
      return state;
    }

    void setState(Object newState) {
      state = newState;
    }

    @Override
    public String toString() {
      return "<placeholder for " + type + ">";
    }
  }

  /**
   * A Python bytes or bytearray value. Small values are held in memory; large ones stay in the file
   * as a region (offset, length) and are read when asked for, so arrays nobody uses (an optimizer
   * state) cost no memory. A protocol-2 pickle stores bytes as a latin-1 string encoded in UTF-8;
   * such regions are decoded on reading.
   */
  public static final class Bytes {
    private final byte[] inMemory;
    private final FileChannel channel;
    private final long offset;
    private final long fileLength;
    private final long length;
    private final boolean latin1InUtf8;
    private final String file;

    private Bytes(
        byte[] inMemory,
        FileChannel channel,
        String file,
        long offset,
        long fileLength,
        long length,
        boolean latin1InUtf8) {
      this.inMemory = inMemory;
      this.channel = channel;
      this.file = file;
      this.offset = offset;
      this.fileLength = fileLength;
      this.length = length;
      this.latin1InUtf8 = latin1InUtf8;
    }

    static Bytes of(byte[] value) {
      return new Bytes(value, null, null, 0, value.length, value.length, false);
    }

    static Bytes region(FileChannel channel, String file, long offset, long length) {
      return new Bytes(null, channel, file, offset, length, length, false);
    }

    /** A region holding {@code chars} latin-1 characters as UTF-8 ({@code _codecs.encode}). */
    static Bytes latin1Region(
        FileChannel channel, String file, long offset, long utf8, long chars) {
      return new Bytes(null, channel, file, offset, utf8, chars, true);
    }

    /** Number of bytes of the value. */
    public long length() {
      return length;
    }

    /** Whether the value is still in the file (read on demand). */
    public boolean inFile() {
      return inMemory == null;
    }

    /** The value, read from the file when needed; at most 2 GiB − 8 bytes. */
    public byte[] read() throws IOException {
      if (inMemory != null) {
        return inMemory.clone();
      }
      if (length > Integer.MAX_VALUE - 8) {
        throw new IOException(file + ": a value of " + length + " bytes is too large to read");
      }
      ByteBuffer raw = ByteBuffer.allocate((int) fileLength);
      long at = offset;
      while (raw.hasRemaining()) {
        int n = channel.read(raw, at);
        if (n < 0) {
          throw new EOFException(file + " changed while it was read: no data at byte " + at);
        }
        at += n;
      }
      if (!latin1InUtf8) {
        return raw.array();
      }
      return decodeLatin1(raw.array(), (int) length, file, offset);
    }

    /** The value as little- or big-endian floats. */
    float[] readFloats(ByteOrder order) throws IOException {
      byte[] bytes = read();
      float[] out = new float[bytes.length / 4];
      ByteBuffer.wrap(bytes).order(order).asFloatBuffer().get(out);
      return out;
    }

    /** Decodes UTF-8 text of latin-1 characters (each 1 or 2 bytes) into those characters. */
    static byte[] decodeLatin1(byte[] utf8, int chars, String file, long offset)
        throws IOException {
      byte[] out = new byte[chars];
      int j = 0;
      for (int i = 0; i < utf8.length; i++) {
        int b = utf8[i] & 0xff;
        if (b < 0x80) {
          out[j++] = (byte) b;
        } else if ((b == 0xc2 || b == 0xc3) && i + 1 < utf8.length) {
          out[j++] = (byte) (((b & 0x1f) << 6) | (utf8[++i] & 0x3f));
        } else {
          throw new IOException(
              file + " changed while it was read: not latin-1 text at byte " + (offset + i));
        }
      }
      if (j != chars) {
        throw new IOException(file + " changed while it was read (text at byte " + offset + ")");
      }
      return out;
    }

    @Override
    public String toString() {
      return "<" + length + " bytes" + (inFile() ? " at byte " + offset + ">" : ">");
    }
  }

  /**
   * A numpy dtype: its type string ({@code f4}, {@code i8} …) and byte order ({@code <}, {@code >},
   * {@code |} or {@code =}), set by the pickle's BUILD.
   */
  public static final class Dtype {
    private final String descr;
    private String byteOrder = "=";

    Dtype(String descr) {
      this.descr = descr;
    }

    void setByteOrder(String order) {
      byteOrder = order;
    }

    /** The type string without byte order, e.g. {@code f4}. */
    public String descr() {
      return descr;
    }

    public String byteOrder() {
      return byteOrder;
    }

    /** Whether values are 4-byte IEEE floats. */
    public boolean isFloat32() {
      return descr.equals("f4") || descr.equals("float32");
    }

    /** Whether values are signed or unsigned integers of 1, 2, 4 or 8 bytes. */
    public boolean isInteger() {
      return descr.matches("[iu][1248]");
    }

    /** Bytes per value, or -1 for a type string this class cannot size. */
    public int itemSize() {
      if (descr.equals("float32")) {
        return 4;
      }
      if (descr.length() == 2 && Character.isDigit(descr.charAt(1))) {
        return descr.charAt(1) - '0';
      }
      return -1;
    }

    /** The byte order of the values; {@code =} and {@code |} are little endian (x86, ARM). */
    public ByteOrder order() {
      return byteOrder.equals(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    @Override
    public String toString() {
      return (byteOrder.equals("=") || byteOrder.equals("|") ? "" : byteOrder) + descr;
    }
  }

  /**
   * A numpy array (or numpy scalar, shape {@code []}): dtype, shape, memory order and the raw data.
   * The data is {@link Bytes} for plain dtypes; object arrays keep the pickled list, which no
   * reader here converts.
   */
  public static final class NdArray {
    private Dtype dtype;
    private long[] shape;
    private boolean fortranOrder;
    private Object data;

    NdArray() {}

    NdArray(Dtype dtype, long[] shape, boolean fortranOrder, Object data) {
      set(dtype, shape, fortranOrder, data);
    }

    void set(Dtype newDtype, long[] newShape, boolean fortran, Object newData) {
      this.dtype = newDtype;
      this.shape = newShape.clone();
      this.fortranOrder = fortran;
      this.data = newData;
    }

    /** Whether a BUILD gave the array its dtype, shape and data. */
    public boolean isComplete() {
      return dtype != null && shape != null && data != null;
    }

    public Dtype dtype() {
      return dtype;
    }

    public long[] shape() {
      return shape == null ? null : shape.clone();
    }

    /** Whether the data is in column-major (Fortran) order. */
    public boolean fortranOrder() {
      return fortranOrder;
    }

    /** {@link Bytes} for plain dtypes, the pickled items for object arrays. */
    public Object data() {
      return data;
    }

    /** The number of elements: the product of the shape. */
    public long size() {
      long n = 1;
      for (long d : shape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }

    /**
     * The values of a float32 array in row-major (C) order, whatever its byte and memory order.
     *
     * @throws IllegalStateException when the array is not a complete float32 array whose data
     *     length fits its shape (check with {@link #isComplete()} and {@link Dtype#isFloat32()})
     */
    public float[] toFloatArray() throws IOException {
      if (!isComplete() || !dtype.isFloat32() || !(data instanceof Bytes bytes)) {
        throw new IllegalStateException("not a complete float32 array: " + this);
      }
      if (bytes.length() != 4 * size()) {
        throw new IllegalStateException(
            "float32 array of shape "
                + Arrays.toString(shape)
                + " has "
                + bytes.length()
                + " bytes");
      }
      float[] values = bytes.readFloats(dtype.order());
      return fortranOrder && shape.length > 1 ? fortranToC(values, shape) : values;
    }

    /**
     * The value of a one-element integer array or scalar.
     *
     * @throws IllegalStateException when the array is not a complete one-element integer array
     */
    public long longValue() throws IOException {
      if (!isComplete() || !dtype.isInteger() || size() != 1 || !(data instanceof Bytes bytes)) {
        throw new IllegalStateException("not a one-element integer array: " + this);
      }
      byte[] raw = bytes.read();
      if (raw.length != dtype.itemSize()) {
        throw new IllegalStateException("integer scalar with " + raw.length + " bytes: " + this);
      }
      ByteBuffer b = ByteBuffer.wrap(raw).order(dtype.order());
      boolean signed = dtype.descr().charAt(0) == 'i';
      return switch (raw.length) {
        case 1 -> signed ? b.get() : b.get() & 0xffL;
        case 2 -> signed ? b.getShort() : b.getShort() & 0xffffL;
        case 4 -> signed ? b.getInt() : b.getInt() & 0xffffffffL;
        default -> b.getLong();
      };
    }

    /** Reorders column-major values of {@code shape} into row-major order. */
    static float[] fortranToC(float[] values, long[] shape) {
      int rank = shape.length;
      float[] out = new float[values.length];
      int[] index = new int[rank];
      long[] fStride = new long[rank];
      long s = 1;
      for (int k = 0; k < rank; k++) {
        fStride[k] = s;
        s *= shape[k];
      }
      for (int c = 0; c < out.length; c++) {
        long f = 0;
        for (int k = 0; k < rank; k++) {
          f += index[k] * fStride[k];
        }
        out[c] = values[(int) f];
        for (int k = rank - 1; k >= 0; k--) {
          if (++index[k] < shape[k]) {
            break;
          }
          index[k] = 0;
        }
      }
      return out;
    }

    @Override
    public String toString() {
      return "numpy array "
          + (dtype == null ? "?" : dtype.toString())
          + (shape == null ? "" : " " + Arrays.toString(shape));
    }
  }

  /** A short description of a value's type for error messages (never its contents). */
  public static String describe(Object value) {
    if (value == null) {
      return "None";
    }
    if (value instanceof Placeholder p) {
      return "an object of " + p.type() + " (not honoured, kept as an inert placeholder)";
    }
    if (value instanceof Global g) {
      return "the class or function " + g;
    }
    if (value instanceof NdArray a) {
      return "a " + a;
    }
    if (value instanceof String s) {
      return "the string '" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "'";
    }
    if (value instanceof Map<?, ?> m) {
      return "a dict of " + m.size() + " entries";
    }
    if (value instanceof List<?> l) {
      return "a list of " + l.size() + " items";
    }
    if (value instanceof Tuple t) {
      return "a tuple of " + t.size() + " items";
    }
    if (value instanceof Bytes b) {
      return "bytes (" + b.length() + ")";
    }
    return "a " + value.getClass().getSimpleName().toLowerCase(Locale.ROOT) + " (" + value + ")";
  }
}
