package dev.odelt.model.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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
 * element and does not overlap another.
 */
public final class SafeTensors {

  private static final String METADATA = "__metadata__";
  private static final long MAX_HEADER_BYTES = 100L << 20;

  private final Map<String, Tensor> tensors;
  private final Map<String, String> metadata;

  private SafeTensors(Map<String, Tensor> tensors, Map<String, String> metadata) {
    this.tensors = Collections.unmodifiableMap(tensors);
    this.metadata = Collections.unmodifiableMap(metadata);
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
    Map<String, long[]> shapes = new LinkedHashMap<>();
    tensors.forEach((name, tensor) -> shapes.put(name, tensor.shape()));
    byte[] header = header(shapes, metadata);
    long total = header.length + dataBytes(shapes);
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("weights of " + total + " bytes exceed 2 GiB");
    }
    ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    out.put(header);
    for (Tensor tensor : tensors.values()) {
      out.asFloatBuffer().put(tensor.dataUnsafe());
      out.position(out.position() + 4 * tensor.size());
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
    byte[] header = header(shapes, metadata);
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

  /** The 8-byte length and the JSON header, padded with spaces to a multiple of 8. */
  private static byte[] header(Map<String, long[]> shapes, Map<String, String> metadata) {
    JsonObject header = new JsonObject();
    if (!metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      metadata.forEach(meta::addProperty);
      header.add(METADATA, meta);
    }
    long offset = 0;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      if (e.getKey().isEmpty() || e.getKey().equals(METADATA)) {
        throw new IllegalArgumentException("invalid tensor name '" + e.getKey() + "'");
      }
      JsonObject entry = new JsonObject();
      entry.addProperty("dtype", "F32");
      JsonArray shape = new JsonArray();
      for (long d : e.getValue()) {
        shape.add(d);
      }
      entry.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offset += 4L * Tensor.sizeOf(e.getValue());
      offsets.add(offset);
      entry.add("data_offsets", offsets);
      header.add(e.getKey(), entry);
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

  /**
   * Parses a whole file held in memory; see {@link #read(InputStream, String)}.
   *
   * @param bytes the file
   * @param file its location, used in error messages
   */
  public static SafeTensors read(byte[] bytes, String file) throws InvalidModelPackageException {
    try {
      return read(new ByteArrayInputStream(bytes), file);
    } catch (InvalidModelPackageException e) {
      throw e;
    } catch (IOException e) {
      throw new IllegalStateException("reading an array cannot fail", e);
    }
  }

  /**
   * Parses a file from a stream, one tensor at a time: memory holds the header and the tensors'
   * values, never the file's bytes, so files of any size (over 2 GiB) read. The stream is left
   * just after the last tensor's data; the caller closes it.
   *
   * @param in the file, from its first byte
   * @param file its location, used in error messages
   * @throws InvalidModelPackageException {@link Problem#TRUNCATED} when the header or a tensor
   *     reaches past the end of the stream (naming the tensor), {@link Problem#MALFORMED} for bad
   *     JSON, unsupported dtypes, inconsistent sizes or overlaps
   * @throws IOException when the stream itself fails
   */
  public static SafeTensors read(InputStream in, String file) throws IOException {
    byte[] prefix = in.readNBytes(8);
    if (prefix.length < 8) {
      throw new InvalidModelPackageException(
          Problem.TRUNCATED, file, "only " + prefix.length + " bytes, no safetensors header");
    }
    long headerLength = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
    if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, file, "implausible safetensors header length " + headerLength);
    }
    byte[] headerBytes = in.readNBytes((int) headerLength);
    if (headerBytes.length < headerLength) {
      throw new InvalidModelPackageException(
          Problem.TRUNCATED,
          file,
          "header of "
              + headerLength
              + " bytes but the file has "
              + (8 + headerBytes.length)
              + " bytes");
    }
    JsonObject header;
    try {
      String json = new String(headerBytes, StandardCharsets.UTF_8);
      header = JsonParser.parseString(json).getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, file, "safetensors header is not a JSON object: " + e.getMessage(), e);
    }

    Map<String, String> metadata = new LinkedHashMap<>();
    List<Entry> entries = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : header.entrySet()) {
      String name = e.getKey();
      try {
        JsonObject entry = e.getValue().getAsJsonObject();
        if (name.equals(METADATA)) {
          for (Map.Entry<String, JsonElement> m : entry.entrySet()) {
            metadata.put(m.getKey(), m.getValue().getAsString());
          }
          continue;
        }
        String dtype = entry.get("dtype").getAsString();
        if (!dtype.equals("F32")) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED, file, "tensor '" + name + "' has dtype " + dtype + ", need F32");
        }
        JsonArray shapeJson = entry.getAsJsonArray("shape");
        long[] shape = new long[shapeJson.size()];
        for (int i = 0; i < shape.length; i++) {
          shape[i] = shapeJson.get(i).getAsLong();
        }
        JsonArray offsets = entry.getAsJsonArray("data_offsets");
        if (offsets.size() != 2) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED, file, "tensor '" + name + "' needs two data_offsets");
        }
        long begin = offsets.get(0).getAsLong();
        long end = offsets.get(1).getAsLong();
        long elements = Tensor.sizeOf(shape);
        if (begin < 0 || end < begin || end - begin != 4 * elements) {
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
                  + 4 * elements
                  + " bytes");
        }
        if (elements > Integer.MAX_VALUE - 8) {
          throw new InvalidModelPackageException(
              Problem.MALFORMED,
              file,
              "tensor '" + name + "' has " + elements + " elements, more than one array holds");
        }
        entries.add(new Entry(name, shape, begin, end));
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
    byOffset.sort((a, b) -> Long.compare(a.begin, b.begin));
    for (int i = 1; i < byOffset.size(); i++) {
      if (byOffset.get(i).begin < byOffset.get(i - 1).end) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED, file, "tensor data ranges overlap at byte " + byOffset.get(i).begin);
      }
    }

    Map<String, Tensor> read = new LinkedHashMap<>();
    byte[] chunk = new byte[1 << 16];
    long position = 0;
    for (Entry e : byOffset) {
      float[] values = new float[(int) ((e.end - e.begin) / 4)];
      long available = position;
      try {
        in.skipNBytes(e.begin - position); // a gap between tensors
        available = e.begin;
        int filled = 0;
        while (filled < values.length) {
          int want = Math.min(chunk.length, 4 * (values.length - filled));
          int n = in.readNBytes(chunk, 0, want);
          available += n;
          if (n < want) {
            throw new EOFException();
          }
          ByteBuffer.wrap(chunk, 0, n)
              .order(ByteOrder.LITTLE_ENDIAN)
              .asFloatBuffer()
              .get(values, filled, n / 4);
          filled += n / 4;
        }
      } catch (EOFException eof) {
        throw new InvalidModelPackageException(
            Problem.TRUNCATED,
            file,
            "tensor '"
                + e.name
                + "' ends at data byte "
                + e.end
                + " but the file holds only "
                + available
                + " data bytes",
            eof);
      }
      position = e.end;
      read.put(e.name, new Tensor(e.shape, values));
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Entry e : entries) {
      tensors.put(e.name, read.get(e.name));
    }
    return new SafeTensors(tensors, metadata);
  }

  /** One header entry: a tensor's name, shape and byte range in the data section. */
  private record Entry(String name, long[] shape, long begin, long end) {}
}
