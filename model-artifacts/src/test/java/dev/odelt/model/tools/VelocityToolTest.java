package dev.odelt.model.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.io.Int64Tensor;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.testing.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VelocityToolTest {

  private static final ModelConfig CONFIG = TestModels.TINY;
  private static final int B = 3;
  private static final int S = CONFIG.imageSize();
  private static final int C = CONFIG.channels();

  @TempDir static Path dir;
  static String model;

  @BeforeAll
  static void writeModel() {
    model = TestModels.writeRandomPackage(dir.resolve("model"), CONFIG, 11);
  }

  /** A distinct, smooth value per (item, channel, row, column). */
  private static float value(int n, int ch, int y, int x) {
    return (float) Math.sin(0.7 * n + 1.3 * ch + 0.31 * y - 0.17 * x);
  }

  /** x written element by element in NHWC, independently of the tool's transposition. */
  private static float[] nhwc() {
    float[] out = new float[B * S * S * C];
    int i = 0;
    for (int n = 0; n < B; n++) {
      for (int y = 0; y < S; y++) {
        for (int x = 0; x < S; x++) {
          for (int ch = 0; ch < C; ch++) {
            out[i++] = value(n, ch, y, x);
          }
        }
      }
    }
    return out;
  }

  private static float[] nchw() {
    float[] out = new float[B * C * S * S];
    int i = 0;
    for (int n = 0; n < B; n++) {
      for (int ch = 0; ch < C; ch++) {
        for (int y = 0; y < S; y++) {
          for (int x = 0; x < S; x++) {
            out[i++] = value(n, ch, y, x);
          }
        }
      }
    }
    return out;
  }

  private static final float[] TIMES = {0f, 0.375f, 1f};
  private static final long[] LEVELS = {0, 3, 7};
  private static final long[] LABELS = {0, 9, 10};

  private static Map<String, Tensor> floats(float[] x) {
    Map<String, Tensor> f = new LinkedHashMap<>();
    f.put("x", new Tensor(new long[] {B, S, S, C}, x));
    f.put("t", new Tensor(new long[] {B}, TIMES));
    return f;
  }

  private static Map<String, Int64Tensor> longs() {
    Map<String, Int64Tensor> l = new LinkedHashMap<>();
    l.put("level", new Int64Tensor(new long[] {B}, LEVELS));
    l.put("label", new Int64Tensor(new long[] {B}, LABELS));
    return l;
  }

  private static Path inputs(
      String name, Map<String, Tensor> floats, Map<String, Int64Tensor> longs) throws Exception {
    Path file = dir.resolve(name + ".safetensors");
    Files.write(file, SafeTensors.write(floats, longs, Map.of()));
    return file;
  }

  @Test
  void transpositionsInvertEachOtherAndMatchHandIndexing() {
    assertArrayEquals(nchw(), VelocityTool.toNchw(nhwc(), B, S, S, C));
    assertArrayEquals(nhwc(), VelocityTool.toNhwc(nchw(), B, C, S, S));
    float[] odd = new float[2 * 3 * 5 * 7];
    for (int i = 0; i < odd.length; i++) {
      odd[i] = i;
    }
    assertArrayEquals(odd, VelocityTool.toNhwc(VelocityTool.toNchw(odd, 2, 3, 5, 7), 2, 7, 3, 5));
    // (n=1, y=2, x=4, c=6) in a (2, 3, 5, 7) NHWC array sits at NCHW index ((1·7+6)·3+2)·5+4.
    float[] t = VelocityTool.toNchw(odd, 2, 3, 5, 7);
    assertEquals(((1 * 3 + 2) * 5 + 4) * 7 + 6, t[((1 * 7 + 6) * 3 + 2) * 5 + 4]);
  }

  @Test
  void velocityInNhwcIsTheNetworksNchwVelocityTransposed() throws Exception {
    Path in = inputs("good", floats(nhwc()), longs());
    for (int blocks : CONFIG.allowedBlocks()) {
      Path out = dir.resolve("out/v" + blocks + ".safetensors");
      VelocityTool.Result result = VelocityTool.run(model, in, blocks, out);
      assertEquals(B, result.batch());
      SafeTensors written = SafeTensors.read(Files.readAllBytes(out), out.toString());
      Tensor v = written.tensors().get("v");
      assertArrayEquals(new long[] {B, S, S, C}, v.shape());
      assertEquals("NHWC", written.metadata().get("layout"));
      assertEquals(Integer.toString(blocks), written.metadata().get("blocks"));

      float[] expected;
      try (LoadedModel loaded = Models.load(model, "cpu");
          NDManager m = loaded.manager().newSubManager()) {
        NDArray direct =
            loaded
                .network()
                .velocity(
                    new ParameterStore(m, false),
                    m.create(nchw(), new Shape(B, C, S, S)),
                    m.create(TIMES),
                    m.create(new float[] {0, 3, 7}),
                    m.create(new int[] {0, 9, 10}),
                    blocks,
                    false);
        expected = direct.toFloatArray(); // (B, C, H, W)
      }
      float[] actual = v.data(); // (B, H, W, C)
      for (int n = 0; n < B; n++) {
        for (int ch = 0; ch < C; ch++) {
          for (int y = 0; y < S; y++) {
            for (int x = 0; x < S; x++) {
              assertEquals(
                  expected[((n * C + ch) * S + y) * S + x],
                  actual[((n * S + y) * S + x) * C + ch],
                  1e-6f,
                  "L=" + blocks + " at (" + n + ", " + ch + ", " + y + ", " + x + ")");
            }
          }
        }
      }
    }
  }

  private static String rejected(Path in, int blocks, String modelLocation, String name) {
    Path out = dir.resolve("rejected/" + name + ".safetensors");
    ToolInputException e =
        assertThrows(
            ToolInputException.class, () -> VelocityTool.run(modelLocation, in, blocks, out));
    assertFalse(Files.exists(out), "nothing is written for " + name);
    return e.getMessage();
  }

  @Test
  void badInputsAreRejectedByNameAndNothingIsWritten() throws Exception {
    Path good = inputs("good2", floats(nhwc()), longs());

    String msg = rejected(good, 3, model, "blocks");
    assertTrue(msg.contains("--blocks=3") && msg.contains("[2, 4]"), msg);
    msg = rejected(good, 2, dir.resolve("nowhere").toString(), "model");
    assertTrue(msg.startsWith("--model"), msg);
    msg = rejected(dir.resolve("absent.safetensors"), 2, model, "absent");
    assertTrue(msg.startsWith("--inputs") && msg.contains("does not exist"), msg);
    Path notSafetensors = Files.writeString(dir.resolve("text.safetensors"), "hello, world");
    msg = rejected(notSafetensors, 2, model, "text");
    assertTrue(msg.startsWith("--inputs"), msg);

    Map<String, Int64Tensor> noLabel = longs();
    noLabel.remove("label");
    msg = rejected(inputs("no-label", floats(nhwc()), noLabel), 2, model, "no-label");
    assertTrue(msg.contains("'label' is missing"), msg);

    Map<String, Tensor> levelAsFloat = floats(nhwc());
    levelAsFloat.put("level", new Tensor(new long[] {B}, new float[] {0, 3, 7}));
    Map<String, Int64Tensor> labelOnly = longs();
    labelOnly.remove("level");
    msg = rejected(inputs("level-f32", levelAsFloat, labelOnly), 2, model, "level-f32");
    assertTrue(msg.contains("'level' has dtype F32, need I64"), msg);

    Map<String, Tensor> nchwX = floats(nhwc());
    nchwX.put("x", new Tensor(new long[] {B, C, S, S}, nhwc()));
    msg = rejected(inputs("nchw", nchwX, longs()), 2, model, "nchw");
    assertTrue(msg.contains("'x' has shape [3, 3, 8, 8]") && msg.contains("NHWC"), msg);

    Map<String, Tensor> shortT = floats(nhwc());
    shortT.put("t", new Tensor(new long[] {2}, new float[] {0, 1}));
    msg = rejected(inputs("short-t", shortT, longs()), 2, model, "short-t");
    assertTrue(msg.contains("'t' has shape [2], need (3)"), msg);

    Map<String, Int64Tensor> badLabel = longs();
    badLabel.put("label", new Int64Tensor(new long[] {B}, new long[] {0, 11, 1}));
    msg = rejected(inputs("label-11", floats(nhwc()), badLabel), 2, model, "label-11");
    assertTrue(msg.contains("'label' holds 11"), msg);

    Map<String, Int64Tensor> badLevel = longs();
    badLevel.put("level", new Int64Tensor(new long[] {B}, new long[] {0, 8, 1}));
    msg = rejected(inputs("level-8", floats(nhwc()), badLevel), 2, model, "level-8");
    assertTrue(msg.contains("'level' holds 8"), msg);

    Files.createDirectories(dir.resolve("a-directory"));
    ToolInputException e =
        assertThrows(
            ToolInputException.class,
            () -> VelocityTool.run(model, good, 2, dir.resolve("a-directory")));
    assertTrue(e.getMessage().startsWith("--output"), e.getMessage());
  }
}
