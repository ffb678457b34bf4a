package dev.odelt.model.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.odelt.model.ModelConfig;
import org.junit.jupiter.api.Test;

class OdeltNetworkTest {

  static final ModelConfig TINY = new ModelConfig(8, 1, 4, 16, 2, 2f, 4, 2, 2, 3, 7);

  private static NDArray[] inputs(NDManager m, int b) {
    NDArray x = m.randomNormal(new Shape(b, 1, 8, 8));
    NDArray t = m.create(new float[] {0.1f, 0.7f}).get("0:" + b);
    NDArray d = m.create(new float[] {3f, 3f}).get("0:" + b);
    NDArray y = m.create(new int[] {0, 3}).get("0:" + b);
    return new NDArray[] {x, t, d, y};
  }

  @Test
  void velocityHasTheInputShapeAndDependsOnBlockCount() {
    try (NDManager m = NDManager.newBaseManager()) {
      OdeltNetwork net = new OdeltNetwork(TINY);
      net.initialize(m, 1, OdeltNetwork.Init.RANDOM);
      NDArray[] in = inputs(m, 2);
      ParameterStore ps = new ParameterStore(m, false);
      NDArray v2 = net.velocity(ps, in[0], in[1], in[2], in[3], 2, false);
      NDArray v4 = net.velocity(ps, in[0], in[1], in[2], in[3], 4, false);
      assertEquals(new Shape(2, 1, 8, 8), v2.getShape());
      assertTrue(v2.sub(v4).abs().max().getFloat() > 1e-4f, "L=2 and L=4 must differ");
    }
  }

  @Test
  void inferenceInPlaceStepsGiveTheTrainingPathsBitsAndLeaveInputsAlone() {
    try (NDManager m = NDManager.newBaseManager()) {
      OdeltNetwork net = new OdeltNetwork(TINY);
      net.initialize(m, 5, OdeltNetwork.Init.RANDOM);
      NDArray[] in = inputs(m, 2);
      float[] xBefore = in[0].toFloatArray();
      ParameterStore ps = new ParameterStore(m, false);
      boolean previous = JniUtils.isGradMode();
      JniUtils.setGradMode(false); // as the Sampler runs it: nothing records gradients
      try {
        // training = true takes the out-of-place path; training = false the in-place one.
        float[] outOfPlace = net.velocity(ps, in[0], in[1], in[2], in[3], 4, true).toFloatArray();
        float[] inPlace = net.velocity(ps, in[0], in[1], in[2], in[3], 4, false).toFloatArray();
        assertArrayEquals(outOfPlace, inPlace, 0f);
        assertArrayEquals(xBefore, in[0].toFloatArray(), 0f, "the input is not overwritten");
      } finally {
        JniUtils.setGradMode(previous);
      }
    }
  }

  @Test
  void rejectsBlockCountsTheModelDoesNotAllow() {
    try (NDManager m = NDManager.newBaseManager()) {
      OdeltNetwork net = new OdeltNetwork(TINY);
      net.initialize(m, 1, OdeltNetwork.Init.RANDOM);
      NDArray[] in = inputs(m, 2);
      ParameterStore ps = new ParameterStore(m, false);
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> net.velocity(ps, in[0], in[1], in[2], in[3], 3, false));
      assertTrue(e.getMessage().contains("[2, 4]"), e.getMessage());
    }
  }

  @Test
  void trainingInitStartsAtZeroVelocityAndIsDeterministic() {
    try (NDManager m = NDManager.newBaseManager()) {
      OdeltNetwork a = new OdeltNetwork(TINY);
      OdeltNetwork b = new OdeltNetwork(TINY);
      a.initialize(m, 7, OdeltNetwork.Init.TRAINING);
      b.initialize(m, 7, OdeltNetwork.Init.TRAINING);
      for (String name : a.namedParameters().keySet()) {
        assertArrayEquals(
            a.namedParameters().get(name).getArray().toFloatArray(),
            b.namedParameters().get(name).getArray().toFloatArray(),
            name);
      }
      NDArray[] in = inputs(m, 2);
      NDArray v = a.velocity(new ParameterStore(m, false), in[0], in[1], in[2], in[3], 4, false);
      assertEquals(0f, v.abs().max().getFloat(), 0f, "adaLN-zero output head starts at zero");
    }
  }

  @Test
  void gradientsReachEveryParameterUsedAtFullDepth() {
    try (NDManager m = NDManager.newBaseManager()) {
      OdeltNetwork net = new OdeltNetwork(TINY);
      net.initialize(m, 3, OdeltNetwork.Init.RANDOM);
      for (Parameter p : net.namedParameters().values()) {
        p.getArray().setRequiresGradient(true);
      }
      NDArray[] in = inputs(m, 2);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray v = net.velocity(new ParameterStore(m, false), in[0], in[1], in[2], in[3], 4, true);
        gc.backward(v.square().mean());
      }
      int nonZero = 0;
      for (var e : net.namedParameters().entrySet()) {
        NDArray g = e.getValue().getArray().getGradient();
        assertNotNull(g, e.getKey());
        if (g.abs().sum().getFloat() > 0) {
          nonZero++;
        }
      }
      // Every tensor but the unused label rows gets a gradient; the tables still get one.
      assertEquals(net.namedParameters().size(), nonZero);
    }
  }

  @Test
  void positionEmbeddingMatchesHandValues() {
    // D = 8: quarter = 2, ω = [1, 1/100]. Token (row 1, col 2) of a 3×3 grid.
    float[] pe = OdeltNetwork.positionEmbedding(8, 3);
    int base = (1 * 3 + 2) * 8;
    float[] expected = {
      (float) Math.sin(1), (float) Math.sin(0.01), (float) Math.cos(1), (float) Math.cos(0.01),
      (float) Math.sin(2), (float) Math.sin(0.02), (float) Math.cos(2), (float) Math.cos(0.02)
    };
    for (int i = 0; i < 8; i++) {
      assertEquals(expected[i], pe[base + i], 1e-6f, "channel " + i);
    }
  }

  @Test
  void unpatchifyInvertsAPatchLayoutByHand() {
    // 1 image, C = 1, H = W = 8, p = 4: token (h, w) holds values (p_row, p_col).
    try (NDManager m = NDManager.newBaseManager()) {
      OdeltNetwork net = new OdeltNetwork(TINY);
      float[] tokens = new float[4 * 16];
      for (int h = 0; h < 2; h++) {
        for (int w = 0; w < 2; w++) {
          for (int pr = 0; pr < 4; pr++) {
            for (int pc = 0; pc < 4; pc++) {
              tokens[(h * 2 + w) * 16 + pr * 4 + pc] = (h * 4 + pr) * 8 + (w * 4 + pc);
            }
          }
        }
      }
      float[] image =
          net.unpatchify(m.create(tokens, new Shape(1, 4, 16))).toFloatArray();
      for (int i = 0; i < 64; i++) {
        assertEquals(i, image[i], 0f);
      }
    }
  }
}
