package dev.odelt.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.testing.TestVaes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link SafeTensors#read(InputStream, String, long)}: the byte[] reader's rules, streamed. */
class SafeTensorsStreamReadTest {

  /** A stream that hands out at most a few bytes per read, as network streams may. */
  private static InputStream trickling(byte[] bytes) {
    return new ByteArrayInputStream(bytes) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, 7));
      }
    };
  }

  /** The 8-byte length, the JSON header and {@code data}. */
  private static byte[] file(String json, byte[] data) {
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + header.length + data.length)
        .order(ByteOrder.LITTLE_ENDIAN)
        .putLong(header.length)
        .put(header)
        .put(data)
        .array();
  }

  private static byte[] littleEndian(float... values) {
    ByteBuffer out = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    out.asFloatBuffer().put(values);
    return out.array();
  }

  private static Problem problem(byte[] file, long size) {
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> SafeTensors.read(trickling(file), "w.safetensors", size));
    assertTrue(e.getMessage().contains("w.safetensors"), e.getMessage());
    return e.problem();
  }

  @Test
  void streamedReadEqualsTheInMemoryOneAcrossChunks() throws Exception {
    SplittableRandom random = new SplittableRandom(3);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    // 3 + 300,001 floats: the big tensor starts at byte 12 and crosses 1 MiB chunk boundaries.
    for (long[] shape : new long[][] {{3}, {300_001}, {}, {0, 5}, {2, 2}}) {
      float[] v = new float[(int) Tensor.sizeOf(shape)];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) random.nextGaussian();
      }
      tensors.put("t" + tensors.size(), new Tensor(shape, v));
    }
    byte[] bytes = SafeTensors.write(tensors, Map.of("format", "pt"));
    for (long size : new long[] {bytes.length, -1}) {
      SafeTensors read = SafeTensors.read(trickling(bytes), "w", size);
      assertEquals(tensors, read.tensors());
      assertEquals(List.copyOf(tensors.keySet()), List.copyOf(read.tensors().keySet()));
      assertEquals(Map.of("format", "pt"), read.metadata());
    }
  }

  @Test
  void tensorsAreReadInOffsetOrderWithGapsAndLeftoverBytesAlone() throws Exception {
    // Header order b, a; data: a at [0, 8), 4 gap bytes, b at [12, 16), then 4 trailing bytes.
    String json =
        "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]},"
            + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    byte[] data = littleEndian(1.5f, -2f, 99f, 7.25f, 42f);
    byte[] bytes = file(json, data);
    InputStream in = trickling(bytes);
    SafeTensors read = SafeTensors.read(in, "w", -1);
    assertEquals(List.of("b", "a"), List.copyOf(read.tensors().keySet()));
    assertArrayEquals(new float[] {1.5f, -2f}, read.tensors().get("a").data(), 0f);
    assertArrayEquals(new float[] {7.25f}, read.tensors().get("b").data(), 0f);
    assertEquals(4, in.readAllBytes().length, "bytes after the last tensor stay in the stream");
    assertEquals(read.tensors(), SafeTensors.read(bytes, "w").tensors());
  }

  @Test
  void halfPrecisionStreamsToo() throws Exception {
    float[] values = new float[300_001];
    for (int i = 0; i < values.length; i++) {
      values[i] = (i % 256) - 128f; // exact in F16 and BF16
    }
    Map<String, Tensor> tensors = Map.of("x", new Tensor(new long[] {values.length}, values));
    for (String dtype : new String[] {"F16", "BF16"}) {
      byte[] file = TestVaes.writeHalf(tensors, dtype);
      assertArrayEquals(
          values,
          SafeTensors.readAsFloat32(trickling(file), "h", -1).tensors().get("x").data(),
          0f);
      assertEquals(Problem.MALFORMED, problem(file, file.length));
    }
  }

  @Test
  void truncatedStreamsNameTheTensor() {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("first", new Tensor(new long[] {4}, new float[] {1, 2, 3, 4}));
    tensors.put("second", new Tensor(new long[] {2}, new float[] {5, 6}));
    byte[] bytes = SafeTensors.write(tensors, Map.of());
    byte[] cut = Arrays.copyOf(bytes, bytes.length - 4);
    // Size unknown: found at the end of the stream; known (the real, shorter size): up front.
    for (long size : new long[] {-1, cut.length}) {
      InvalidModelPackageException e =
          assertThrows(
              InvalidModelPackageException.class,
              () -> SafeTensors.read(trickling(cut), "w.safetensors", size));
      assertEquals(Problem.TRUNCATED, e.problem());
      assertTrue(
          e.getMessage().contains("'second' ends at data byte 24")
              && e.getMessage().contains("only 20 data bytes"),
          e.getMessage());
    }
    // A size that claims more than the stream holds: the stream's end decides.
    assertEquals(Problem.TRUNCATED, problem(cut, bytes.length));
    // Cut inside the gap before a tensor.
    String json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}";
    assertEquals(Problem.TRUNCATED, problem(file(json, new byte[6]), -1));
    // Cut inside the header, and before the header length ends.
    assertEquals(Problem.TRUNCATED, problem(Arrays.copyOf(bytes, 20), -1));
    assertEquals(Problem.TRUNCATED, problem(new byte[3], -1));
  }

  @Test
  void headersThatLieAreRejectedBeforeTheData() {
    byte[] eight = new byte[8];
    String[] malformed = {
      // overlapping ranges
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
          + "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
      // offsets that do not span the shape
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}",
      // negative offsets
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}",
      // more elements than an array holds
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,17179869184]}}",
      // element count overflows a long
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
      // a dtype the reader does not widen
      "{\"x\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
    };
    for (String json : malformed) {
      assertEquals(Problem.MALFORMED, problem(file(json, eight), -1), json);
    }
    // Past the end of a file of known size: rejected before anything is allocated.
    String past = "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
    assertEquals(Problem.TRUNCATED, problem(file(past, eight), file(past, eight).length));
    // An absurd header length.
    byte[] huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array();
    assertEquals(Problem.MALFORMED, problem(huge, -1));
  }

  @Test
  void aHugeTensorClaimOnATinyStreamDoesNotExhaustTheHeap() {
    // 1e9 floats (4 GB) claimed, 8 bytes delivered, size unknown: the reader may not allocate
    // the whole tensor before its data arrives (the tests run with -Xmx2g).
    String json =
        "{\"x\":{\"dtype\":\"F32\",\"shape\":[1000000000],\"data_offsets\":[0,4000000000]}}";
    assertEquals(Problem.TRUNCATED, problem(file(json, new byte[8]), -1));
  }

  /** A safetensors stream generated on the fly: one tensor whose value i is i % 1000. */
  private static final class Generated extends InputStream {
    private final byte[] header;
    private final long total;
    private long position;

    Generated(long elements) {
      this.header =
          file(
              "{\"x\":{\"dtype\":\"F32\",\"shape\":["
                  + elements
                  + "],\"data_offsets\":[0,"
                  + 4 * elements
                  + "]}}",
              new byte[0]);
      this.total = header.length + 4 * elements;
    }

    @Override
    public int read() {
      if (position >= total) {
        return -1;
      }
      long p = position++;
      if (p < header.length) {
        return header[(int) p] & 0xff;
      }
      long data = p - header.length;
      int bits = Float.floatToRawIntBits((float) ((data / 4) % 1000));
      return (bits >>> (8 * (int) (data % 4))) & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (position >= total) {
        return -1;
      }
      int n = (int) Math.min(len, total - position);
      for (int i = 0; i < n; i++) {
        b[off + i] = (byte) read();
      }
      return n;
    }
  }

  @Test
  void tensorsLargerThanTheFirstAllocationGrowToTheirExactSize() throws IOException {
    int elements = (1 << 24) + 1_000_003; // above the 2^24 elements allocated up front
    float[] values = SafeTensors.read(new Generated(elements), "g", -1).tensors().get("x").data();
    assertEquals(elements, values.length);
    for (int i : new int[] {0, 999, 1000, (1 << 24) - 1, 1 << 24, elements - 1}) {
      assertEquals(i % 1000, values[i], 0f, "value " + i);
    }
  }
}
