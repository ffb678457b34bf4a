package dev.odelt.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.io.InvalidModelPackageException.Problem;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafeTensorsTest {

  private static Map<String, Tensor> sample() {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("a.weight", new Tensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f}));
    tensors.put("a.bias", new Tensor(new long[] {2}, new float[] {0.25f, Float.MIN_VALUE}));
    tensors.put("scalar", new Tensor(new long[] {}, new float[] {7}));
    return tensors;
  }

  @Test
  void roundTripsTensorsOrderAndMetadata() throws Exception {
    byte[] bytes = SafeTensors.write(sample(), Map.of("format", "pt"));
    SafeTensors file = SafeTensors.read(bytes, "mem");
    assertEquals(sample(), file.tensors());
    assertEquals(List.of("a.weight", "a.bias", "scalar"), List.copyOf(file.tensors().keySet()));
    assertEquals(Map.of("format", "pt"), file.metadata());
  }

  @Test
  void streamingWriteGivesTheSameBytesOneTensorAtATime() throws Exception {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    sample().forEach((name, t) -> shapes.put(name, t.shape()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long written =
        SafeTensors.write(
            out, shapes, Map.of("format", "pt"), (name, shape) -> sample().get(name).data());
    assertArrayEquals(SafeTensors.write(sample(), Map.of("format", "pt")), out.toByteArray());
    assertEquals(out.size(), written);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SafeTensors.write(
                    new ByteArrayOutputStream(), shapes, Map.of(), (n, s) -> new float[1]));
    assertTrue(e.getMessage().contains("a.weight"), e.getMessage());
  }

  @Test
  void layoutIsTheSafetensorsFormat() {
    byte[] bytes = SafeTensors.write(sample(), Map.of());
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = buffer.getLong(0);
    assertEquals(0, headerLength % 8, "header padded to 8 bytes");
    String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
    assertTrue(
        header.contains("\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"),
        header);
    assertTrue(
        header.contains("\"a.bias\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]}"));
    // Data: little-endian float32, tensors contiguous in order.
    int data = 8 + (int) headerLength;
    assertEquals(1f, buffer.getFloat(data));
    assertEquals(-6.5f, buffer.getFloat(data + 20));
    assertEquals(0.25f, buffer.getFloat(data + 24));
    assertEquals(7f, buffer.getFloat(data + 32));
    assertEquals(data + 36, bytes.length);
  }

  @Test
  void truncatedDataIsReportedAsTruncated() {
    byte[] bytes = SafeTensors.write(sample(), Map.of());
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> SafeTensors.read(Arrays.copyOf(bytes, bytes.length - 4), "w.safetensors"));
    assertEquals(Problem.TRUNCATED, e.problem());
    assertTrue(e.getMessage().contains("w.safetensors") && e.getMessage().contains("scalar"));
    assertEquals(
        Problem.TRUNCATED,
        assertThrows(
                InvalidModelPackageException.class,
                () -> SafeTensors.read(Arrays.copyOf(bytes, 20), "w"))
            .problem());
    assertEquals(
        Problem.TRUNCATED,
        assertThrows(InvalidModelPackageException.class, () -> SafeTensors.read(new byte[3], "w"))
            .problem());
  }

  private static byte[] withHeader(String json, int dataBytes) {
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out =
        ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(header.length).put(header);
    return out.array();
  }

  @Test
  void streamsReadTensorsBetweenGapsFromShortReads() throws Exception {
    // Data: 4 bytes of gap, a = 1.5, 4 bytes of gap, b = -2; header order b, a.
    byte[] file =
        withHeader(
            "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
            16);
    ByteBuffer data = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
    data.putFloat(file.length - 12, 1.5f).putFloat(file.length - 4, -2f);
    InputStream trickle =
        new FilterInputStream(new ByteArrayInputStream(file)) {
          @Override
          public int read(byte[] b, int off, int len) throws IOException {
            return super.read(b, off, Math.min(len, 3));
          }
        };
    SafeTensors read = SafeTensors.read(trickle, "w");
    assertEquals(List.of("b", "a"), List.copyOf(read.tensors().keySet()));
    assertArrayEquals(new float[] {1.5f}, read.tensors().get("a").data());
    assertArrayEquals(new float[] {-2f}, read.tensors().get("b").data());
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () ->
                SafeTensors.read(
                    new ByteArrayInputStream(Arrays.copyOf(file, file.length - 6)), "w"));
    assertEquals(Problem.TRUNCATED, e.problem());
    assertTrue(e.getMessage().contains("'b'"), e.getMessage());
  }

  @Test
  void malformedHeadersAreRejected() {
    String[] bad = {
      "not json",
      "{\"x\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
          + "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
      "{\"x\":{\"dtype\":\"F32\",\"shape\":[1]}}",
      "{\"x\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,8]}}",
      "{\"x\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
    };
    for (String json : bad) {
      InvalidModelPackageException e =
          assertThrows(
              InvalidModelPackageException.class, () -> SafeTensors.read(withHeader(json, 8), "w"));
      assertEquals(Problem.MALFORMED, e.problem(), json);
    }
  }

  @Test
  void int64TensorsRoundTripBesideFloatTensors() throws Exception {
    Map<String, Int64Tensor> ints = new LinkedHashMap<>();
    ints.put("label", new Int64Tensor(new long[] {3}, new long[] {0, 1000, Long.MIN_VALUE}));
    ints.put("level", new Int64Tensor(new long[] {1, 2}, new long[] {7, -1}));
    byte[] bytes = SafeTensors.write(sample(), ints, Map.of("k", "v"));
    SafeTensors file = SafeTensors.read(bytes, "mem");
    assertEquals(sample(), file.tensors());
    assertEquals(ints, file.int64Tensors());
    assertEquals(List.of("label", "level"), List.copyOf(file.int64Tensors().keySet()));
    assertEquals("I64", file.dtypeOf("label"));
    assertEquals("F32", file.dtypeOf("scalar"));
    assertEquals(null, file.dtypeOf("nothing"));
    assertEquals(Map.of("k", "v"), file.metadata());
  }

  @Test
  void int64LayoutIsLittleEndianEightBytesAfterTheFloats() {
    byte[] bytes =
        SafeTensors.write(
            Map.of("f", new Tensor(new long[] {1}, new float[] {2.5f})),
            Map.of("i", new Int64Tensor(new long[] {2}, new long[] {207, -3})),
            Map.of());
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    long headerLength = buffer.getLong(0);
    String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
    assertTrue(
        header.contains("\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[4,20]}"), header);
    int data = 8 + (int) headerLength;
    assertEquals(2.5f, buffer.getFloat(data));
    assertEquals(207L, buffer.getLong(data + 4));
    assertEquals(-3L, buffer.getLong(data + 12));
    assertEquals(data + 20, bytes.length);
  }

  @Test
  void aNameUsedByBothDtypesIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SafeTensors.write(
                Map.of("x", new Tensor(new long[] {1}, new float[] {1})),
                Map.of("x", new Int64Tensor(new long[] {1}, new long[] {1})),
                Map.of()));
  }
}
