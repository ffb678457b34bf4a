package dev.odelt.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.testing.TestVaes;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SafeTensorsHalfPrecisionTest {

  @Test
  void float16BitsConvertExactly() {
    assertEquals(1f, SafeTensors.float16ToFloat((short) 0x3c00));
    assertEquals(-2f, SafeTensors.float16ToFloat((short) 0xc000));
    assertEquals(65504f, SafeTensors.float16ToFloat((short) 0x7bff)); // largest normal
    assertEquals(0x1p-14f, SafeTensors.float16ToFloat((short) 0x0400)); // smallest normal
    assertEquals(0x1p-24f, SafeTensors.float16ToFloat((short) 0x0001)); // smallest subnormal
    assertEquals(1023 * 0x1p-24f, SafeTensors.float16ToFloat((short) 0x03ff));
    assertEquals(-0x1p-24f, SafeTensors.float16ToFloat((short) 0x8001));
    assertEquals(0x1.004p0f, SafeTensors.float16ToFloat((short) 0x3c01));
    assertEquals(Float.POSITIVE_INFINITY, SafeTensors.float16ToFloat((short) 0x7c00));
    assertEquals(Float.NEGATIVE_INFINITY, SafeTensors.float16ToFloat((short) 0xfc00));
    assertTrue(Float.isNaN(SafeTensors.float16ToFloat((short) 0x7e00)));
    assertEquals(
        Float.floatToRawIntBits(-0f),
        Float.floatToRawIntBits(SafeTensors.float16ToFloat((short) 0x8000)));
  }

  @Test
  void bfloat16IsTheUpperHalfOfFloat32() {
    assertEquals(1f, SafeTensors.bfloat16ToFloat((short) 0x3f80));
    assertEquals(-0x1.fep127f, SafeTensors.bfloat16ToFloat((short) 0xff7f));
    assertEquals(0.15625f, SafeTensors.bfloat16ToFloat((short) 0x3e20));
  }

  @Test
  void halfFilesReadAsFloat32OnlyWhenAsked() throws Exception {
    float[] values = {0f, 1f, -0.5f, 0.15625f, 3.75f, -7.96875f};
    Map<String, Tensor> tensors = Map.of("x", new Tensor(new long[] {2, 3}, values));
    for (String dtype : new String[] {"F16", "BF16"}) {
      byte[] file = TestVaes.writeHalf(tensors, dtype);
      assertArrayEquals(
          values, SafeTensors.readAsFloat32(file, "h.safetensors").tensors().get("x").data(), 0f);
      InvalidModelPackageException e =
          assertThrows(
              InvalidModelPackageException.class, () -> SafeTensors.read(file, "h.safetensors"));
      assertTrue(e.getMessage().contains("dtype " + dtype), e.getMessage());
    }
  }

  @Test
  void halfSizesAreChecked() {
    byte[] file = TestVaes.writeHalf(Map.of("x", new Tensor(new long[] {4}, new float[4])), "F16");
    // Claim 4 bytes per element: the data offsets no longer fit the dtype.
    String header = new String(file, 8, file.length - 8 - 8, StandardCharsets.UTF_8);
    assertTrue(header.contains("\"F16\""));
    byte[] wrong = file.clone();
    byte[] f32 = "\"F32\"".getBytes(StandardCharsets.UTF_8);
    int at = header.indexOf("\"F16\"") + 8;
    System.arraycopy(f32, 0, wrong, at, f32.length);
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class, () -> SafeTensors.readAsFloat32(wrong, "w"));
    assertTrue(e.getMessage().contains("need 16 bytes"), e.getMessage());
  }
}
