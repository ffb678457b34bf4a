package dev.odelt.model.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
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
 * and int64 tensors: an 8-byte little-endian header length n, n bytes of JSON {@code {name:
 * {"dtype": "F32", "shape": […], "data_offsets": [begin, end]}, "__metadata__": {string: string}}},
 * then the raw little-endian data; offsets count from the first byte after the header.
 *
 * <p>The writer stores tensors in the order given (float32 ones first, then int64 ones),
 * contiguously, and pads the header with spaces to a multiple of 8 bytes (as the reference
 * implementation does). The reader accepts any valid file with F32 and I64 tensors and checks that
 * every tensor lies inside the file, has exactly 4 (F32) or 8 (I64) bytes per element and does not
 * overlap another. Model weights are F32 only: {@link #tensors()} holds those, {@link
 * #int64Tensors()} the I64 ones (inputs such as labels).
 */
public final class SafeTensors {

  private static final String METADATA = "__metadata__";
  private static final long MAX_HEADER_BYTES = 100L << 20;

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

  /** The float32 (F32) tensors, in file header order. */
  public Map<String, Tensor> tensors() {
    return tensors;
  }

  /** The int64 (I64) tensors, in file header order. */
  public Map<String, Int64Tensor> int64Tensors() {
    return int64Tensors;
  }

  /** The dtype of a tensor of the file ({@code F32} or {@code I64}), or null when it has none. */
  public String dtypeOf(String name) {
    return tensors.containsKey(name) ? "F32" : int64Tensors.containsKey(name) ? "I64" : null;
  }

  /** The {@code __metadata__} map (empty when absent). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /**
   * Serialises tensors (in iteration order) and metadata.
   *
   * @throws IllegalArgumentException when a name is {@code __metadata__} or empty
   */
  public static byte[] write(Map<String, Tensor> tensors, Map<String, String> metadata) {
    return write(tensors, Map.of(), metadata);
  }

  /**
   * Serialises float32 tensors, then int64 tensors (each in iteration order), and metadata.
   *
   * @throws IllegalArgumentException when a name is {@code __metadata__}, empty or used twice
   */
  public static byte[] write(
      Map<String, Tensor> tensors,
      Map<String, Int64Tensor> int64Tensors,
      Map<String, String> metadata) {
    JsonObject header = new JsonObject();
    if (!metadata.isEmpty()) {
      JsonObject meta = new JsonObject();
      metadata.forEach(meta::addProperty);
      header.add(METADATA, meta);
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      offset = addEntry(header, e.getKey(), "F32", e.getValue().shape(), offset, 4);
    }
    for (Map.Entry<String, Int64Tensor> e : int64Tensors.entrySet()) {
      if (tensors.containsKey(e.getKey())) {
        throw new IllegalArgumentException("tensor name '" + e.getKey() + "' used twice");
      }
      offset = addEntry(header, e.getKey(), "I64", e.getValue().shape(), offset, 8);
    }
    byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
    int padded = (json.length + 7) / 8 * 8;
    long total = 8L + padded + offset;
    if (total > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("weights of " + total + " bytes exceed 2 GiB");
    }
    ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded);
    out.put(json);
    for (int i = json.length; i < padded; i++) {
      out.put((byte) ' ');
    }
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

  /** Adds a header entry for {@code shape} at {@code offset}; returns the offset after its data. */
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
   * Parses a whole file.
   *
   * @param bytes the file
   * @param file its location, used in error messages
   * @throws InvalidModelPackageException {@link Problem#TRUNCATED} when the header or a tensor
   *     reaches past the end, {@link Problem#MALFORMED} for bad JSON, unsupported dtypes,
   *     inconsistent sizes or overlaps
   */
  public static SafeTensors read(byte[] bytes, String file) throws InvalidModelPackageException {
    if (bytes.length < 8) {
      throw new InvalidModelPackageException(
          Problem.TRUNCATED, file, "only " + bytes.length + " bytes, no safetensors header");
    }
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = buffer.getLong(0);
    if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, file, "implausible safetensors header length " + headerLength);
    }
    if (8 + headerLength > bytes.length) {
      throw new InvalidModelPackageException(
          Problem.TRUNCATED,
          file,
          "header of " + headerLength + " bytes but the file has " + bytes.length + " bytes");
    }
    int dataStart = (int) (8 + headerLength);
    long dataLength = bytes.length - dataStart;
    JsonObject header;
    try {
      String json = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
      header = JsonParser.parseString(json).getAsJsonObject();
    } catch (JsonParseException | IllegalStateException e) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, file, "safetensors header is not a JSON object: " + e.getMessage(), e);
    }

    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Map<String, Int64Tensor> int64Tensors = new LinkedHashMap<>();
    List<long[]> ranges = new ArrayList<>();
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
        int bytesPerElement;
        if (dtype.equals("F32")) {
          bytesPerElement = 4;
        } else if (dtype.equals("I64")) {
          bytesPerElement = 8;
        } else {
          throw new InvalidModelPackageException(
              Problem.MALFORMED,
              file,
              "tensor '" + name + "' has dtype " + dtype + ", need F32 (or I64)");
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
        if (begin < 0 || end < begin || end - begin != bytesPerElement * elements) {
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
                  + bytesPerElement * elements
                  + " bytes");
        }
        if (end > dataLength) {
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
        ranges.add(new long[] {begin, end});
        ByteBuffer slice =
            ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) (end - begin))
                .slice()
                .order(ByteOrder.LITTLE_ENDIAN);
        if (bytesPerElement == 4) {
          float[] values = new float[(int) elements];
          slice.asFloatBuffer().get(values);
          tensors.put(name, new Tensor(shape, values));
        } else {
          long[] values = new long[(int) elements];
          slice.asLongBuffer().get(values);
          int64Tensors.put(name, new Int64Tensor(shape, values));
        }
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
    ranges.sort((a, b) -> Long.compare(a[0], b[0]));
    for (int i = 1; i < ranges.size(); i++) {
      if (ranges.get(i)[0] < ranges.get(i - 1)[1]) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED, file, "tensor data ranges overlap at byte " + ranges.get(i)[0]);
      }
    }
    return new SafeTensors(tensors, int64Tensors, metadata);
  }
}
