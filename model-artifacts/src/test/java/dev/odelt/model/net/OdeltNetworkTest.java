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
import dev.odelt.proto.v1.PositionLayout;
import java.util.Arrays;
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
  void columnFirstPositionsAreDesignsWorkedExample() {
    // DESIGN.md §1: D = 8 (quarter = 2, ω = [1, 1/100]), the token at row 1, column 2 of a 3×3
    // grid gets [sin 2, sin .02, cos 2, cos .02, sin 1, sin .01, cos 1, cos .01].
    float[] pe = OdeltNetwork.positionEmbedding(8, 3, PositionLayout.COLUMN_FIRST);
    int base = (1 * 3 + 2) * 8;
    float[] expected = {
      (float) Math.sin(2), (float) Math.sin(0.02), (float) Math.cos(2), (float) Math.cos(0.02),
      (float) Math.sin(1), (float) Math.sin(0.01), (float) Math.cos(1), (float) Math.cos(0.01)
    };
    assertArrayEquals(expected, Arrays.copyOfRange(pe, base, base + 8), 1e-6f);
  }

  @Test
  void rowFirstPositionsSwapTheHalves() {
    // The legacy layout of odelt-mnist 1.0.0: the same token, row in the first half.
    float[] pe = OdeltNetwork.positionEmbedding(8, 3, PositionLayout.ROW_FIRST);
    int base = (1 * 3 + 2) * 8;
    float[] expected = {
      (float) Math.sin(1), (float) Math.sin(0.01), (float) Math.cos(1), (float) Math.cos(0.01),
      (float) Math.sin(2), (float) Math.sin(0.02), (float) Math.cos(2), (float) Math.cos(0.02)
    };
    assertArrayEquals(expected, Arrays.copyOfRange(pe, base, base + 8), 1e-6f);
  }

  @Test
  void theLayoutChangesTheVelocity() {
    try (NDManager m = NDManager.newBaseManager()) {
      OdeltNetwork columnFirst = new OdeltNetwork(TINY);
      OdeltNetwork rowFirst = new OdeltNetwork(TINY.withPositionLayout(PositionLayout.ROW_FIRST));
      columnFirst.initialize(m, 3, OdeltNetwork.Init.RANDOM);
      rowFirst.initialize(m, 3, OdeltNetwork.Init.RANDOM);
      NDArray[] in = inputs(m, 2);
      ParameterStore ps = new ParameterStore(m, false);
      NDArray a = columnFirst.velocity(ps, in[0], in[1], in[2], in[3], 4, false);
      NDArray b = rowFirst.velocity(ps, in[0], in[1], in[2], in[3], 4, false);
      assertTrue(a.sub(b).abs().max().getFloat() > 1e-4f, "the layouts must give different v");
    }
  }

  @Test
  void deadBlocksAfterTheLastGroupEndAreSkippedWithoutChangingTheVelocity() {
    // depth 7, depth_min 3, G 2: L ∈ {3, 5, 7} evaluates blocks 0..1 / 0..3 / 0..5. The reference
    // loop below runs all L blocks; block L-1 only ever feeds x_r.
    // depth 5, depth_min 1, G 2: L = 1 ends no group, v_r stays zero (no block runs).
    ModelConfig xlLike = new ModelConfig(8, 1, 4, 16, 2, 2f, 7, 3, 2, 3, 7);
    ModelConfig belowOneGroup = new ModelConfig(8, 1, 4, 16, 2, 2f, 5, 1, 2, 3, 7);
    assertEquals(0, belowOneGroup.blocksRun(1));
    for (ModelConfig config : java.util.List.of(xlLike, belowOneGroup)) {
      try (NDManager m = NDManager.newBaseManager()) {
        OdeltNetwork net = new OdeltNetwork(config);
        net.initialize(m, 11, OdeltNetwork.Init.RANDOM);
        NDArray[] in = inputs(m, 2);
        ParameterStore ps = new ParameterStore(m, false);
        for (int blocks : config.allowedBlocks()) {
          float[] fast =
              net.velocity(ps, in[0], in[1], in[2], in[3], blocks, false).toFloatArray();
          float[] all = everyBlockVelocity(net, ps, in, blocks).toFloatArray();
          assertArrayEquals(all, fast, 0f, config.depthMin() + ": L=" + blocks);
        }
      }
    }
  }

  /** The reference's loop, evaluating all L blocks (including those after the last group end). */
  private static NDArray everyBlockVelocity(
      OdeltNetwork net, ParameterStore ps, NDArray[] in, int blocks) {
    ModelConfig c = net.config();
    NDManager m = in[0].getManager();
    int grid = c.imageSize() / c.patchSize();
    NDArray positions =
        m.create(
            OdeltNetwork.positionEmbedding(c.hiddenSize(), grid, c.positionLayout()),
            new Shape(1, (long) grid * grid, c.hiddenSize()));
    NDArray ones = m.ones(new Shape(c.hiddenSize()));
    NDArray zeros = m.zeros(new Shape(c.hiddenSize()));
    NDArray tokens = net.patchEmbed().embed(ps, in[0], false).add(positions); // (B, N, D)
    NDArray cond =
        net.timeEmbedder()
            .embed(ps, in[1], false)
            .add(net.stepLevelEmbedder().embed(ps, in[2], false))
            .add(net.labelEmbedder().lookup(ps, in[3], false)); // (B, D)
    NDArray cb = cond.add(net.blockCountEmbedder().row(ps, blocks, cond, false)); // (B, D)
    NDArray xr = tokens;
    NDArray vr = tokens.zerosLike();
    for (int i = 0; i < blocks; i++) {
      NDArray vb = net.blocks().get(i).apply(ps, xr, cb, ones, zeros, false);
      if (i % c.groupSize() == c.groupSize() - 1) {
        xr = xr.add(vb);
        vr = vr.add(vb);
      } else {
        xr = vb;
      }
    }
    return net.unpatchify(net.finalLayer().apply(ps, vr, cond, ones, zeros, false));
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
