package dev.odelt.model.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format (https://github.com/huggingface/safetensors) for float32
 * tensors: an 8-byte little-endian header length n, n bytes of JSON {@code {name: {"dtype": "F32",
 * "shape": […], "data_offsets": [begin, end]}, "__metadata__": {string: string}}}, then the raw
 * little-endian data; offsets count from the first byte after the header.
 *
 * <p>The writer stores tensors in the order given, contiguously, and pads the header with spaces to
 * a multiple of 8 bytes (as the reference implementation does). The reader accepts any valid file
 * with F32 tensors and checks that every tensor lies inside the file, has exactly 4 bytes per
 * element and does not overlap another; {@link #readAsFloat32} also takes F16 and BF16 tensors (2
 * bytes per element) from files made elsewhere and widens them to float32 exactly. Files of any
 * size are read from a stream ({@link #read(InputStream, String, long)}), one tensor at a time;
 * byte arrays go through the same reader and the same checks. Int64 ({@code I64}, 8 bytes per
 * element) tensors are read and written too, apart from the float ones ({@link #int64Tensors()}):
 * integer inputs such as class labels; model weights are F32 only.
 */
public final class SafeTensors {

  private static final String METADATA = "__metadata__";
  private static final long MAX_HEADER_BYTES = InputLimits.MAX_HEADER_BYTES;

  /** The most elements a Java array (and so a {@link Tensor}) holds. */
  private static final long MAX_ELEMENTS = InputLimits.MAX_ELEMENTS;

  /** Bytes read from a stream at a time (a multiple of 4). */
  private static final int CHUNK_BYTES = 1 << 20;

  /** Elements allocated for a tensor before its data arrives (64 MiB of floats). */
  private static final int FIRST_ALLOCATION = 1 << 24;

  private final Map<String, Tensor> tensors;
  private final Map<String, Int64Tensor> int64Tensors;
  private final Map<String, String> metadata;

  private SafeTensors(
      Map<String, Tensor> tensors,
      Map<String, Int64Tensor> int64Tensors,
      Map<String, String> metadata) {
    this.tensors = Collections.unmodifiableMap(tensors);
    this.int64Tensors = Collections.unmodifiableMap(int64Tensors);
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /** The int64 (I64) tensors, in file header order. */
  public Map<String, Int64Tensor> int64Tensors() {
    return int64Tensors;
  }

  /** The dtype of a tensor of the file ({@code F32} or {@code I64}), or null when it has none. */
  public String dtypeOf(String name) {
    return tensors.containsKey(name) ? "F32" : int64Tensors.containsKey(name) ? "I64" : null;
  }

  /** The tensors, in file header order. */
  public Map<String, Tensor> tensors() {
    return tensors;
  }

  /** The {@code __metadata__} map (empty when absent). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * Serialises tensors (in iteration order) and metadata.
   *
   * @throws IllegalArgumentException when a name is {@code __metadata__} or empty, or the file
   *     would exceed 2 GiB (use {@link #write(OutputStream, Map, Map, TensorValues)})
   */
  public static byte[] write(Map<String, Tensor> tensors, Map<String, String> metadata) {
    return write(tensors, Map.of(), metadata);
  }

  /**
   * Serialises float32 tensors, then int64 tensors (each in iteration order), and metadata.
   *
   * @throws IllegalArgumentException when a name is {@code __metadata__}, empty or used twice, or
   *     the file would exceed 2 GiB
   */
  public static byte[] write(
      Map<String, Tensor> tensors,
      Map<String, Int64Tensor> int64Tensors,
      Map<String, String> metadata) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    tensors.forEach((name, tensor) -> shapes.put(name, tensor.shape()));
    Map<String, long[]> longShapes = new LinkedHashMap<>();
    for (Map.Entry<String, Int64Tensor> e : int64Tensors.entrySet()) {
      if (shapes.containsKey(e.getKey())) {
        throw new IllegalArgumentException("tensor name '" + e.getKey() + "' used twice");
      }
      longShapes.put(e.getKey(), e.getValue().shape());
    }
    byte[] header = header(shapes, longShapes, metadata);
    long total = header.length + dataBytes(shapes) + 2 * dataBytes(longShapes);
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("weights of " + total + " bytes exceed 2 GiB");
    }
    ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    out.put(header);
    for (Tensor tensor : tensors.values()) {
      out.asFloatBuffer().put(tensor.dataUnsafe());
      out.position(out.position() + 4 * tensor.size());
    }
    for (Int64Tensor tensor : int64Tensors.values()) {
      out.asLongBuffer().put(tensor.dataUnsafe());
      out.position(out.position() + 8 * tensor.size());
    }
    return out.array();
  }

  /**
   * Produces one tensor's values, row-major, when {@link #write(OutputStream, Map, Map,
   * TensorValues)} reaches it.
   */
  @FunctionalInterface
  public interface TensorValues {
    /**
     * @param name the tensor's name
     * @param shape its shape
     * @return exactly the product of {@code shape} values
     */
    float[] values(String name, long[] shape) throws IOException;
  }

  /**
   * Streams a file of any size: the header for {@code shapes} (in iteration order), then each
   * tensor's values as {@code values} produces them, one tensor in memory at a time. The bytes
   * equal those of {@link #write(Map, Map)} for the same tensors.
   *
   * @return the number of bytes written
   * @throws IllegalArgumentException for an invalid name or when {@code values} returns the wrong
   *     number of values for a tensor (naming it)
   */
  public static long write(
      OutputStream out,
      Map<String, long[]> shapes,
      Map<String, String> metadata,
      TensorValues values)
      throws IOException {
    byte[] header = header(shapes, Map.of(), metadata);
    out.write(header);
    long written = header.length;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      float[] v = values.values(e.getKey(), e.getValue());
      if (v.length != Tensor.sizeOf(e.getValue())) {
        throw new IllegalArgumentException(
            "tensor '"
                + e.getKey()
                + "' of shape "
                + Arrays.toString(e.getValue())
                + " got "
                + v.length
                + " values");
      }
      ByteBuffer bytes = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asFloatBuffer().put(v);
      out.write(bytes.array());
      written += bytes.capacity();
    }
    return written;
  }

  private static long dataBytes(Map<String, long[]> shapes) {
    long total = 0;
    for (long[] shape : shapes.values()) {
      total += 4L * Tensor.sizeOf(shape);
    }
    return total;
  }

  /**
   * The 8-byte length and the JSON header, padded with spaces to a multiple of 8: F32 tensors
   * first, then I64 ones, contiguously.
   */
  private static byte[] header(
      Map<String, long[]> shapes, Map<String, long[]> int64Shapes, Map<String, String> metadata) {
    JsonObject header = new JsonObject();
    if (!metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      metadata.forEach(meta::addProperty);
      header.add(METADATA, meta);
    }
    long offset = 0;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      offset = addEntry(header, e.getKey(), "F32", e.getValue(), offset, 4);
    }
    for (Map.Entry<String, long[]> e : int64Shapes.entrySet()) {
      offset = addEntry(header, e.getKey(), "I64", e.getValue(), offset, 8);
    }
    byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded);
    out.put(json);
    while (out.hasRemaining()) {
      out.put((byte) ' ');
    }
    return out.array();
  }

  /** Adds a header entry for {@code dims} at {@code offset}; returns the offset after its data. */
  private static long addEntry(
      JsonObject header, String name, String dtype, long[] dims, long offset, int bytesPerElement) {
    if (name.isEmpty() || name.equals(METADATA)) {
      throw new IllegalArgumentException("invalid tensor name '" + name + "'");
    }
    JsonObject entry = new JsonObject();
    entry.addProperty("dtype", dtype);
    JsonArray shape = new JsonArray();
    for (long d : dims) {
      shape.add(d);
    }
    entry.add("shape", shape);
    JsonArray offsets = new JsonArray();
    offsets.add(offset);
    long end = offset + bytesPerElement * Tensor.sizeOf(dims);
    offsets.add(end);
    entry.add("data_offsets", offsets);
    header.add(name, entry);
    return end;
  }

  /**
   * Parses a whole file held in memory (as {@link #read(InputStream, String, long)} with the
   * array's length as the size).
   *
   * @param bytes the file
   * @param file its location, used in error messages
   * @throws InvalidModelPackageException {@link Problem#TRUNCATED} when the header or a tensor
   *     reaches past the end, {@link Problem#MALFORMED} for bad JSON, unsupported dtypes,
   *     inconsistent sizes or overlaps
   */
  public static SafeTensors read(byte[] bytes, String file) throws InvalidModelPackageException {
    return readBytes(bytes, file, false);
  }

  /**
   * Parses a whole file from outside (for importers), as {@link #read(byte[], String)} but also
   * accepting F16 and BF16 tensors, which are converted exactly to float32.
   */
  public static SafeTensors readAsFloat32(byte[] bytes, String file)
      throws InvalidModelPackageException {
    return readBytes(bytes, file, true);
  }

  /** As {@link #read(InputStream, String, long)} for a stream of unknown size. */
  public static SafeTensors read(InputStream in, String file) throws IOException {
    return read(in, file, -1);
  }

  /**
   * Parses a file of any size from a stream, one tensor at a time: the header first (at most 100
   * MiB), checked whole before any tensor is allocated, then the data in offset order, each tensor
   * read straight into its own float array. Memory is the tensors plus a 1 MiB buffer; the
   * allocation for a tensor never runs ahead of the bytes the stream actually delivered by more
   * than 64 MiB, so a header that lies about shapes cannot exhaust the heap.
   *
   * <p>The checks and their {@link Problem} kinds are those of {@link #read(byte[], String)}: with
   * a known {@code size} every tensor must lie inside it before anything is read; without one a
   * stream that ends inside a tensor (or a gap before it) is {@link Problem#TRUNCATED}, naming the
   * tensor. Reading stops after the last tensor's data: bytes after it are left in the stream.
   *
   * @param in the stream, positioned at the file's first byte (not closed here)
   * @param file its location, used in error messages
   * @param size the file's size in bytes when known (a manifest's size), else -1
   * @throws InvalidModelPackageException for a file that is not valid, as above
   * @throws IOException when the stream fails
   */
  public static SafeTensors read(InputStream in, String file, long size) throws IOException {
    return read(in, file, size, false);
  }

  /**
   * As {@link #read(InputStream, String, long)}, also accepting F16 and BF16 tensors, which are
   * converted exactly to float32 (as {@link #readAsFloat32(byte[], String)}).
   */
  public static SafeTensors readAsFloat32(InputStream in, String file, long size)
      throws IOException {
    return read(in, file, size, true);
  }

  private static SafeTensors readBytes(byte[] bytes, String file, boolean halfPrecision)
      throws InvalidModelPackageException {
    try {
      return read(new ByteArrayInputStream(bytes), file, bytes.length, halfPrecision);
    } catch (InvalidModelPackageException e) {
      throw e;
    } catch (IOException e) {
      throw new UncheckedIOException("reading a byte array cannot fail", e);
    }
  }

  /** One tensor's header entry, validated. */
  private record Entry(
      int index, String name, String dtype, long[] shape, long begin, long end, int width) {}

  /** A parsed and validated header: metadata and tensor entries in header order. */
  private record Header(Map<String, String> metadata, List<Entry> entries) {}

  private static SafeTensors read(InputStream in, String file, long size, boolean halfPrecision)
      throws IOException {
    byte[] prefix = in.readNBytes(8);
    if (prefix.length < 8) {
      throw new InvalidModelPackageException(
          Problem.TRUNCATED, file, "only " + prefix.length + " bytes, no safetensors header");
    }
    long headerLength = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, file, "implausible safetensors header length " + headerLength);
    }
    if (size >= 0 && 8 + headerLength > size) {
      throw new InvalidModelPackageException(
          Problem.TRUNCATED,
          file,
          "header of " + headerLength + " bytes but the file has " + size + " bytes");
    }
    byte[] json = in.readNBytes((int) headerLength);
    if (json.length < headerLength) {
      throw new InvalidModelPackageException(
          Problem.TRUNCATED,
          file,
          "header of " + headerLength + " bytes but the file has " + (8 + json.length) + " bytes");
    }
    long dataLength = size >= 0 ? size - 8 - headerLength : -1;
    Header header = parseHeader(json, file, halfPrecision, dataLength);

    List<Entry> byOffset = new ArrayList<>(header.entries());
    byOffset.sort(Comparator.comparingLong(Entry::begin));
    float[][] values = new float[byOffset.size()][];
    long[][] longs = new long[byOffset.size()][];
    byte[] buffer = new byte[CHUNK_BYTES];
    long position = 0;
    for (Entry entry : byOffset) {
      while (position < entry.begin()) {
        int n = (int) Math.min(buffer.length, entry.begin() - position);
        int got = readFully(in, buffer, n);
        position += got;
        if (got < n) {
          throw truncated(file, entry, position);
        }
      }
      if (entry.dtype().equals("I64")) {
        longs[entry.index()] = readLongs(in, file, entry, buffer);
      } else {
        values[entry.index()] = readValues(in, file, entry, buffer);
      }
      position = entry.end();
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Map<String, Int64Tensor> int64Tensors = new LinkedHashMap<>();
    for (Entry entry : header.entries()) {
      if (entry.dtype().equals("I64")) {
        int64Tensors.put(entry.name(), new Int64Tensor(entry.shape(), longs[entry.index()]));
      } else {
        tensors.put(entry.name(), Tensor.owning(entry.shape(), values[entry.index()]));
      }
    }
    return new SafeTensors(tensors, int64Tensors, header.metadata());
  }

  /**
   * Reads one tensor's bytes (the stream is at its first byte) into floats, little-endian, widening
   * half precision. The array grows with the data actually read when the tensor is larger than
   * {@link #FIRST_ALLOCATION} elements.
   */
  private static float[] readValues(InputStream in, String file, Entry entry, byte[] buffer)
      throws IOException {
    int elements = (int) Tensor.sizeOf(entry.shape());
    float[] values = new float[Math.min(elements, FIRST_ALLOCATION)];
    boolean bf16 = entry.dtype().equals("BF16");
    int filled = 0;
    long position = entry.begin();
    while (position < entry.end()) {
      int n = (int) Math.min(buffer.length, entry.end() - position);
      int got = readFully(in, buffer, n);
      if (got < n) {
        throw truncated(file, entry, position + got);
      }
      position += n;
      int count = n / entry.width();
      if (filled + count > values.length) {
        int grown = (int) Math.min(elements, Math.max(2L * values.length, filled + count));
        values = Arrays.copyOf(values, grown);
      }
      ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n).order(ByteOrder.LITTLE_ENDIAN);
      if (entry.width() == 4) {
        bytes.asFloatBuffer().get(values, filled, count);
      } else {
        for (int i = 0; i < count; i++) {
          short bits = bytes.getShort(2 * i);
          values[filled + i] = bf16 ? bfloat16ToFloat(bits) : float16ToFloat(bits);
        }
      }
      filled += count;
    }
    return values;
  }

  /**
   * Reads one I64 tensor's bytes (the stream is at its first byte), little-endian. Inputs only
   * (labels, levels): small, so allocated at once (the header check bounds the element count).
   */
  private static long[] readLongs(InputStream in, String file, Entry entry, byte[] buffer)
      throws IOException {
    long[] values = new long[(int) Tensor.sizeOf(entry.shape())];
    int filled = 0;
    long position = entry.begin();
    while (position < entry.end()) {
      int n = (int) Math.min(buffer.length, entry.end() - position);
      int got = readFully(in, buffer, n);
      if (got < n) {
        throw truncated(file, entry, position + got);
      }
      position += n;
      int count = n / 8;
      ByteBuffer.wrap(buffer, 0, n).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(values, filled, count);
      filled += count;
    }
    return values;
  }

  /**
   * Reads {@code n} bytes into the start of {@code buffer}, fewer only at the end of the stream;
   * returns how many. Loops on {@link InputStream#read(byte[], int, int)} itself: some streams'
   * {@code readNBytes} return after one partial read.
   */
  private static int readFully(InputStream in, byte[] buffer, int n) throws IOException {
    int got = 0;
    while (got < n) {
      int r = in.read(buffer, got, n - got);
      if (r < 0) {
        break;
      }
      got += r;
    }
    return got;
  }

  private static InvalidModelPackageException truncated(String file, Entry entry, long dataBytes) {
    return new InvalidModelPackageException(
        Problem.TRUNCATED,
        file,
        "tensor '"
            + entry.name()
            + "' ends at data byte "
            + entry.end()
            + " but the file holds only "
            + dataBytes
            + " data bytes");
  }

  /**
   * Parses and validates the JSON header, the one set of rules of every reader: each entry has a
   * supported dtype, a shape and two data_offsets spanning exactly its bytes; with a known {@code
   * dataLength} (≥ 0) no entry ends past it; data ranges do not overlap (gaps are allowed).
   */
  private static Header parseHeader(
      byte[] json, String file, boolean halfPrecision, long dataLength)
      throws InvalidModelPackageException {
    JsonElement root = StrictJson.parse(json, file);
    if (!root.isJsonObject()) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, file, "safetensors header is not a JSON object");
    }
    JsonObject header = root.getAsJsonObject();
    if (header.size() > InputLimits.MAX_TENSORS + 1) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          "safetensors header lists "
              + header.size()
              + " entries, the limit is "
              + InputLimits.MAX_TENSORS
              + " tensors");
    }

    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      String name = e.getKey();
      try {
        JsonObject entry = e.getValue().getAsJsonObject();
        if (name.equals(METADATA)) {
          for (Map.Entry<String, JsonElement> m : entry.entrySet()) {
            if (!m.getValue().isJsonPrimitive() || !m.getValue().getAsJsonPrimitive().isString()) {
              throw new InvalidModelPackageException(
                  Problem.MALFORMED,
                  file,
                  "__metadata__ '" + m.getKey() + "' is not a string");
            }
            metadata.put(m.getKey(), m.getValue().getAsString());
          }
          continue;
        }
        for (String key : entry.keySet()) {
          if (!key.equals("dtype") && !key.equals("shape") && !key.equals("data_offsets")) {
            throw new InvalidModelPackageException(
                Problem.MALFORMED,
                file,
                "tensor '" + name + "' has an unknown field '" + key + "'");
          }
        }
        JsonElement dtypeJson = entry.get("dtype");
        if (dtypeJson == null
            || !dtypeJson.isJsonPrimitive()
            || !dtypeJson.getAsJsonPrimitive().isString()) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED, file, "tensor '" + name + "' has no dtype string");
        }
        String dtype = dtypeJson.getAsString();
        int width =
            dtype.equals("F32") ? 4 : dtype.equals("I64") ? 8 : halfPrecision && isHalf(dtype) ? 2 : 0;
        if (width == 0) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED,
              file,
              "tensor '"
                  + name
                  + "' has dtype "
                  + dtype
                  + ", need F32"
                  + (halfPrecision ? ", F16 or BF16" : " (or I64)"));
        }
        JsonArray shapeJson = entry.getAsJsonArray("shape");
        if (shapeJson.size() > InputLimits.MAX_RANK) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED,
              file,
              "tensor '"
                  + name
                  + "' has "
                  + shapeJson.size()
                  + " dimensions, the limit is "
                  + InputLimits.MAX_RANK);
        }
        long[] shape = new long[shapeJson.size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] =
              StrictJson.integer(
                  shapeJson.get(i),
                  file,
                  "tensor '" + name + "' shape[" + i + "]",
                  0,
                  MAX_ELEMENTS);
        }
        JsonArray offsets = entry.getAsJsonArray("data_offsets");
        if (offsets.size() != 2) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED, file, "tensor '" + name + "' needs two data_offsets");
        }
        long maxOffset = Long.MAX_VALUE;
        long begin =
            StrictJson.integer(
                offsets.get(0), file, "tensor '" + name + "' data_offsets[0]", 0, maxOffset);
        long end =
            StrictJson.integer(
                offsets.get(1), file, "tensor '" + name + "' data_offsets[1]", 0, maxOffset);
        long elements = InputLimits.elements(file, name, shape);
        if (end < begin || end - begin != width * elements) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED,
              file,
              "tensor '"
                  + name
                  + "' of shape "
                  + Arrays.toString(shape)
                  + " has data_offsets ["
                  + begin
                  + ", "
                  + end
                  + "], need "
                  + width * elements
                  + " bytes");
        }
        if (dataLength >= 0 && end > dataLength) {
          throw new InvalidModelPackageException(
              Problem.TRUNCATED,
              file,
              "tensor '"
                  + name
                  + "' ends at data byte "
                  + end
                  + " but the file holds only "
                  + dataLength
                  + " data bytes");
        }
        entries.add(new Entry(entries.size(), name, dtype, shape, begin, end, width));
      } catch (IllegalStateException
          | UnsupportedOperationException
          | NullPointerException
          | ClassCastException
          | ArithmeticException
          | IllegalArgumentException ex) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED, file, "bad safetensors entry '" + name + "': " + ex, ex);
      }
    }
    List<Entry> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(Entry::begin));
    for (int i = 1; i < byOffset.size(); i++) {
      if (byOffset.get(i).begin() < byOffset.get(i - 1).end()) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED,
            file,
            "tensor data ranges overlap at byte " + byOffset.get(i).begin());
      }
    }
    return new Header(metadata, entries);
  }

  private static boolean isHalf(String dtype) {
    return dtype.equals("F16") || dtype.equals("BF16");
  }

  /** bfloat16 is the upper half of a float32: exact. */
  static float bfloat16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** IEEE 754 binary16 → float32, exact (subnormals, infinities and NaN included). */
  static float float16ToFloat(short bits) {
    int h = bits & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      // Zero or subnormal: mantissa · 2^-24, exact in float32.
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
}
