package dev.odelt.model.solver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ClassifierFreeGuidanceTest {

  private static final int NULL = 10;
  private static NDManager manager;

  @BeforeAll
  static void open() {
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  /** v(x | y) = x·(y + 1); records the label vectors of every call. */
  private static ConditionalVelocity recording(List<int[]> calls) {
    return (x, t, level, labels) -> {
      calls.add(labels.clone());
      float[] factor = new float[labels.length];
      for (int i = 0; i < labels.length; i++) {
        factor[i] = labels[i] + 1;
      }
      return x.mul(x.getManager().create(factor).reshape(-1, 1));
    };
  }

  private static float[] run(float guidance, List<int[]> calls) {
    NDArray x = manager.create(new float[] {1, 2}).reshape(2, 1);
    NDArray t = manager.zeros(new ai.djl.ndarray.types.Shape(2));
    VelocityField field =
        ClassifierFreeGuidance.of(recording(calls), new int[] {1, 3}, NULL, guidance);
    return field.evaluate(x, t, 0).toFloatArray();
  }

  @Test
  void guidanceOneIsOneConditionalPass() {
    List<int[]> calls = new ArrayList<>();
    assertArrayEquals(new float[] {2, 8}, run(1f, calls));
    assertEquals(1, calls.size());
    assertArrayEquals(new int[] {1, 3}, calls.get(0));
  }

  @Test
  void guidanceZeroIsOneNullLabelPass() {
    List<int[]> calls = new ArrayList<>();
    assertArrayEquals(new float[] {11, 22}, run(0f, calls));
    assertEquals(1, calls.size());
    assertArrayEquals(new int[] {NULL, NULL}, calls.get(0));
  }

  @Test
  void otherWeightsRunBothHalvesInOneCall() {
    List<int[]> calls = new ArrayList<>();
    // v = v_u + 3 (v_c - v_u): item 0: 11 + 3 (2 - 11) = -16; item 1: 22 + 3 (8 - 22) = -20.
    assertArrayEquals(new float[] {-16, -20}, run(3f, calls), 1e-5f);
    assertEquals(1, calls.size());
    assertArrayEquals(new int[] {1, 3, NULL, NULL}, calls.get(0));
  }

  @Test
  void restrictKeepsTheLabelsOfTheChosenItems() {
    List<int[]> calls = new ArrayList<>();
    VelocityField field =
        ClassifierFreeGuidance.of(recording(calls), new int[] {4, 5, 6}, NULL, 2f)
            .restrict(new int[] {2, 0});
    NDArray x = manager.ones(new ai.djl.ndarray.types.Shape(2, 1));
    field.evaluate(x, manager.zeros(new ai.djl.ndarray.types.Shape(2)), 0);
    assertArrayEquals(new int[] {6, 4, NULL, NULL}, calls.get(0));
  }
}
