package dev.odelt.model.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.testing.TestVaes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VaeDecoderTest {

  private static final int H = 4;
  private static final int W = 3;

  @TempDir static Path dir;

  private static LoadedVae vae;

  @BeforeAll
  static void load() throws Exception {
    vae = Vaes.load(TestVaes.writeRandomPackage(dir, TestVaes.SMALL, 9), "cpu");
  }

  @AfterAll
  static void free() {
    vae.close();
    Vaes.releaseShared();
  }

  private static float[] latents(int count, long seed) {
    return GaussianNoise.standardNormal(seed, count * 4 * H * W);
  }

  private static float[] decode(float[] latents, int count) {
    try (NDManager call = vae.manager().newSubManager()) {
      NDArray z = call.create(latents, new Shape(count, 4, H, W));
      NDArray images = vae.decode(z);
      assertEquals(new Shape(count, 3, 8 * H, 8 * W), images.getShape());
      assertSame(call, images.getManager());
      return images.toFloatArray();
    }
  }

  @Test
  void decodesToEightTimesTheLatentSize() {
    float[] images = decode(latents(1, 1), 1);
    double max = 0;
    for (float v : images) {
      assertTrue(Float.isFinite(v));
      max = Math.max(max, Math.abs(v));
    }
    assertTrue(max > 0.01, "a random decoder gives a non-trivial image");
  }

  @Test
  void sameLatentsGiveSameBytes() {
    float[] z = latents(2, 3);
    assertArrayEquals(decode(z, 2), decode(z, 2), 0f);
  }

  @Test
  void eachImageIsIndependentOfTheRestOfTheBatch() {
    int perLatent = 4 * H * W;
    int perImage = 3 * 8 * H * 8 * W;
    float[] batch = latents(3, 4);
    float[] together = decode(batch, 3);
    float[] other = latents(3, 5);
    System.arraycopy(batch, perLatent, other, 0, perLatent); // item 1 first, among others
    float[] shuffled = decode(other, 3);
    float[] alone = decode(Arrays.copyOfRange(batch, perLatent, 2 * perLatent), 1);
    for (int i = 0; i < perImage; i++) {
      assertEquals(together[perImage + i], alone[i], 1e-5f, "batch vs alone at " + i);
      assertEquals(together[perImage + i], shuffled[i], 1e-5f, "batch vs other batch at " + i);
    }
  }

  @Test
  void dividesByTheScalingFactorFirst() {
    ImageDecoder decoder = vae.decoder();
    float[] z = latents(1, 6);
    try (NDManager call = vae.manager().newSubManager()) {
      NDArray latent = call.create(z, new Shape(1, 4, H, W));
      NDArray viaDecode = decoder.decode(latent);
      NDArray scaled = latent.div(call.create(0.18215f));
      boolean grad = JniUtils.isGradMode();
      JniUtils.setGradMode(false);
      try {
        assertArrayEquals(viaDecode.toFloatArray(), decoder.apply(scaled).toFloatArray(), 0f);
      } finally {
        JniUtils.setGradMode(grad);
      }
    }
  }

  @Test
  void freesEveryIntermediateAndRestoresGradMode() {
    decode(latents(1, 7), 1);
    int live = vae.liveArrayCount();
    boolean grad = JniUtils.isGradMode();
    decode(latents(2, 7), 2);
    assertEquals(live, vae.liveArrayCount());
    assertEquals(grad, JniUtils.isGradMode());
  }

  @Test
  void threadsShareOneDecoder() throws Exception {
    float[] z = latents(1, 8);
    float[] expected = decode(z, 1);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<float[]>> results = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        results.add(pool.submit(() -> decode(z, 1)));
      }
      for (Future<float[]> f : results) {
        assertArrayEquals(expected, f.get(), 0f);
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void rejectsBadLatents() {
    try (NDManager call = vae.manager().newSubManager()) {
      assertThrows(
          IllegalArgumentException.class, () -> vae.decode(call.zeros(new Shape(1, 3, H, W))));
      assertThrows(
          IllegalArgumentException.class, () -> vae.decode(call.zeros(new Shape(4, H, W))));
      assertThrows(
          IllegalArgumentException.class,
          () -> vae.decode(call.zeros(new Shape(1, 4, H, W), DataType.FLOAT64)));
    }
  }

  @Test
  void unloadedDecoderRefuses() {
    VaeDecoder empty = new VaeDecoder(TestVaes.TINY);
    try (NDManager call = NDManager.newBaseManager()) {
      assertThrows(
          IllegalStateException.class, () -> empty.decode(call.zeros(new Shape(1, 4, 2, 2))));
    }
  }

  @Test
  void setParametersNamesTheTensor() {
    VaeDecoder decoder = new VaeDecoder(TestVaes.TINY);
    try (NDManager m = NDManager.newBaseManager()) {
      decoder.initialize(m, 1);
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      decoder.namedParameters().forEach((k, p) -> arrays.put(k, p.getArray()));
      arrays.put("decoder.conv_in.bias", m.zeros(new Shape(3)));
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> decoder.setParameters(arrays));
      assertTrue(e.getMessage().contains("decoder.conv_in.bias"), e.getMessage());
    }
  }

  @Test
  void sharedLoaderKeepsOneCopyPerDevice() {
    LoadedVae a = Vaes.shared(dir.toString(), "cpu");
    LoadedVae b = Vaes.shared(dir.resolve("manifest.json").toString(), "cpu");
    assertSame(a, b);
    a.close(); // shared copies ignore close
    assertEquals(new Shape(1, 3, 8, 8), decodeWith(a));
  }

  private static Shape decodeWith(LoadedVae v) {
    try (NDManager call = v.manager().newSubManager()) {
      return v.decode(call.zeros(new Shape(1, 4, 1, 1))).getShape();
    }
  }
}
