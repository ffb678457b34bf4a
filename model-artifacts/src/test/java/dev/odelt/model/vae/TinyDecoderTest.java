package dev.odelt.model.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.odelt.model.Precision;
import dev.odelt.model.io.DiffusersVae;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.testing.TestVaes;
import dev.odelt.proto.v1.VaeManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tiny decoder (TAESD, diffusers AutoencoderTiny): import, names, shapes, decoding. */
class TinyDecoderTest {

  @TempDir Path dir;

  @Test
  void taesdHasDiffusersSequentialNamesAndAboutOnePointTwoMillionParameters() {
    ImageDecoder decoder = ImageDecoder.create(VaeConfig.taesd());
    assertTrue(decoder instanceof TinyDecoder);
    Map<String, Shape> shapes = decoder.parameterShapes();
    assertEquals(new Shape(64, 4, 3, 3), shapes.get("decoder.layers.0.weight"));
    for (int block : new int[] {2, 3, 4, 7, 8, 9, 12, 13, 14, 17}) {
      for (int conv : new int[] {0, 2, 4}) {
        String p = "decoder.layers." + block + ".conv." + conv + ".";
        assertEquals(new Shape(64, 64, 3, 3), shapes.get(p + "weight"), p);
        assertEquals(new Shape(64), shapes.get(p + "bias"), p);
      }
    }
    for (int stage : new int[] {6, 11, 16}) {
      assertEquals(new Shape(64, 64, 3, 3), shapes.get("decoder.layers." + stage + ".weight"));
      assertFalse(shapes.containsKey("decoder.layers." + stage + ".bias"), "no bias: " + stage);
    }
    assertEquals(new Shape(3, 64, 3, 3), shapes.get("decoder.layers.18.weight"));
    assertEquals(new Shape(3), shapes.get("decoder.layers.18.bias"));
    assertEquals(2 + 10 * 6 + 3 + 2, shapes.size());
    assertEquals(1_222_531, decoder.parameterCount());
    assertEquals(8, VaeConfig.taesd().upsampling());
  }

  @Test
  void importsAnAutoencoderTinyFolderDroppingTheEncoder() throws Exception {
    VaeConfig config = TestVaes.TAESD_SMALL;
    Map<String, Tensor> tensors = TestVaes.randomTensors(config, 3);
    Path folder = dir.resolve("taesd");
    TestVaes.writeDiffusersFolder(folder, config, tensors, TestVaes.Naming.NEW, "F32");
    VaeManifest manifest =
        DiffusersVae.importFolder(folder.toString(), dir.resolve("pkg").toString());
    assertEquals("AutoencoderTiny", manifest.getArchitecture().getClassName());
    assertEquals(List.of(1, 2, 1, 1), manifest.getArchitecture().getNumDecoderBlocksList());
    assertEquals(DiffusersVae.TINY_SOURCE_FORMAT, manifest.getSourceFormat());
    assertEquals(1f, manifest.getArchitecture().getScalingFactor());
    try (LoadedVae vae = Vaes.load(dir.resolve("pkg").toString(), "cpu")) {
      assertEquals(config, vae.config());
      assertTrue(vae.decoder() instanceof TinyDecoder);
      try (NDManager call = vae.manager().newSubManager()) {
        NDArray z =
            call.create(GaussianNoise.standardNormal(1, 2 * 4 * 3 * 5), new Shape(2, 4, 3, 5));
        NDArray images = vae.decode(z);
        assertEquals(new Shape(2, 3, 24, 40), images.getShape());
        float[] v = images.toFloatArray();
        for (float x : v) {
          assertTrue(Float.isFinite(x));
        }
      }
    }
  }

  @Test
  void eachImageIsIndependentAndIntermediatesAreFreed() throws Exception {
    String at = TestVaes.writeRandomPackage(dir.resolve("pkg"), TestVaes.TAESD_SMALL, 5);
    try (LoadedVae vae = Vaes.load(at, "cpu")) {
      float[] z = GaussianNoise.standardNormal(2, 2 * 4 * 4 * 4);
      float[] both = decode(vae, z, 2);
      int live = vae.liveArrayCount();
      float[] second = decode(vae, java.util.Arrays.copyOfRange(z, 64, 128), 1);
      assertEquals(live, vae.liveArrayCount());
      int perImage = 3 * 32 * 32;
      for (int i = 0; i < perImage; i++) {
        assertEquals(both[perImage + i], second[i], 1e-5f);
      }
    }
  }

  @Test
  void bfloat16StaysWithinThreePercentOfFloat32() throws Exception {
    String at = TestVaes.writeRandomPackage(dir.resolve("pkg"), TestVaes.TAESD_SMALL, 6);
    float[] z = GaussianNoise.standardNormal(3, 4 * 4 * 4);
    float[] reference;
    float[] reduced;
    try (LoadedVae fp32 = Vaes.load(at, "cpu", Precision.FP32);
        LoadedVae bf16 = Vaes.load(at, "cpu", Precision.BF16)) {
      reference = decode(fp32, z, 1);
      reduced = decode(bf16, z, 1);
      assertTrue(bf16.parameterBytes() < fp32.parameterBytes());
    }
    double max = 0;
    double worst = 0;
    for (int i = 0; i < reference.length; i++) {
      max = Math.max(max, Math.abs(reference[i]));
      worst = Math.max(worst, Math.abs(reference[i] - reduced[i]));
    }
    assertTrue(worst > 0 && worst <= 0.03 * max, "max |d| " + worst + " against " + max);
  }

  @Test
  void rejectsOptionsItDoesNotImplement() throws Exception {
    Path folder = dir.resolve("taesd");
    TestVaes.writeDiffusersFolder(
        folder,
        TestVaes.TAESD_SMALL,
        TestVaes.randomTensors(TestVaes.TAESD_SMALL, 3),
        TestVaes.Naming.NEW,
        "F32");
    String json = Files.readString(folder.resolve("config.json"));
    Files.writeString(folder.resolve("config.json"), json.replace("\"relu\"", "\"silu\""));
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> DiffusersVae.importFolder(folder.toString(), dir.resolve("pkg").toString()));
    assertTrue(e.getMessage().contains("act_fn"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new VaeDecoder(VaeConfig.taesd()));
    assertThrows(
        IllegalArgumentException.class,
        () -> VaeConfig.tiny(List.of(16, 16), List.of(1), 4, 3, 1f));
  }

  private static float[] decode(LoadedVae vae, float[] latents, int count) {
    try (NDManager call = vae.manager().newSubManager()) {
      return vae.decode(call.create(latents, new Shape(count, 4, 4, 4))).toFloatArray();
    }
  }
}
