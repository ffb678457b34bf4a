package dev.odelt.model.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.testing.TestVaes;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The decoder in bfloat16 against the same package in float32. */
class VaeBfloat16Test {

  private static final int H = 4;
  private static final int W = 4;

  @TempDir static Path dir;

  private static String location;
  private static LoadedVae fp32;
  private static LoadedVae bf16;

  @BeforeAll
  static void load() throws Exception {
    location = TestVaes.writeRandomPackage(dir, TestVaes.SMALL, 11);
    fp32 = Vaes.load(location, "cpu", Precision.FP32);
    bf16 = Vaes.load(location, "cpu", Precision.BF16);
  }

  @AfterAll
  static void free() {
    fp32.close();
    bf16.close();
    Vaes.releaseShared();
  }

  private static float[] decode(LoadedVae vae, float[] latents, int count) {
    try (NDManager call = vae.manager().newSubManager()) {
      NDArray z = call.create(latents, new Shape(count, 4, H, W));
      NDArray images = vae.decode(z);
      assertEquals(DataType.FLOAT32, images.getDataType());
      assertEquals(new Shape(count, 3, 8 * H, 8 * W), images.getShape());
      return images.toFloatArray();
    }
  }

  @Test
  void staysWithinOnePercentOfTheRangeOfFloat32() {
    float[] z = GaussianNoise.standardNormal(1, 2 * 4 * H * W);
    float[] reference = decode(fp32, z, 2);
    float[] reduced = decode(bf16, z, 2);
    double max = 0;
    double worst = 0;
    for (int i = 0; i < reference.length; i++) {
      assertTrue(Float.isFinite(reduced[i]));
      max = Math.max(max, Math.abs(reference[i]));
      worst = Math.max(worst, Math.abs(reference[i] - reduced[i]));
    }
    assertTrue(max > 0.01, "a random decoder gives a non-trivial image");
    assertTrue(worst > 0, "bfloat16 rounds somewhere");
    assertTrue(worst <= 0.01 * max, "max |Δ| " + worst + " against max |x| " + max);
  }

  @Test
  void holdsWeightsInBfloat16AndNormsInFloat32() {
    assertEquals(Precision.BF16, bf16.precision());
    assertEquals(Precision.FP32, fp32.precision());
    ImageDecoder decoder = bf16.decoder();
    assertEquals(
        Precision.BF16,
        Precision.of(decoder.namedParameters().get("decoder.conv_in.weight").getArray()));
    assertEquals(
        Precision.BF16,
        Precision.of(
            decoder.namedParameters().get("decoder.mid_block.attentions.0.to_q.bias").getArray()));
    assertEquals(
        Precision.FP32,
        Precision.of(decoder.namedParameters().get("decoder.conv_norm_out.weight").getArray()));
    assertEquals(
        Precision.FP32,
        Precision.of(decoder.namedParameters().get("decoder.conv_out.weight").getArray()));
    assertTrue(bf16.parameterBytes() < fp32.parameterBytes());
    assertTrue(bf16.parameterBytes() > fp32.parameterBytes() / 2);
  }

  @Test
  void freesEveryIntermediate() {
    float[] z = GaussianNoise.standardNormal(2, 4 * H * W);
    decode(bf16, z, 1);
    int live = bf16.liveArrayCount();
    decode(bf16, z, 1);
    assertEquals(live, bf16.liveArrayCount());
  }

  @Test
  void sharedCopiesAreKeptPerPrecision() {
    LoadedVae a = Vaes.shared(location, Models.resolveDevice("cpu"), Precision.BF16);
    LoadedVae b = Vaes.shared(location, a.device(), Precision.BF16);
    LoadedVae c = Vaes.shared(location, "cpu");
    assertSame(a, b);
    assertNotSame(a, c);
    assertEquals(Precision.FP32, c.precision());
  }
}
