package dev.odelt.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Targets of the three training terms against values computed by hand. */
class TargetsTest {

  @Test
  void interpolationAndFlowMatchingTarget() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray noise = m.create(new float[] {1f, -2f}, new Shape(2, 1, 1, 1));
      NDArray data = m.create(new float[] {3f, 4f}, new Shape(2, 1, 1, 1));
      NDArray t = m.create(new float[] {0.25f, 1f});
      // (1 − 0.25)·1 + 0.25·3 = 1.5; (1 − 1)·(−2) + 1·4 = 4
      assertArrayEquals(
          new float[] {1.5f, 4f}, Targets.interpolate(noise, data, t).toFloatArray(), 1e-6f);
      assertArrayEquals(
          new float[] {2f, 6f}, Targets.flowMatching(noise, data).toFloatArray(), 1e-6f);
    }
  }

  @Test
  void selfConsistencyAveragesTwoHalfStepsOfTheTeacherAtTheFinerLevel() {
    // Teacher v(x, t, d) = x + t + d, blocks ignored. Student level d = 1 (step 1/2),
    // so the teacher runs at level 2 with half step h = 1/4.
    // Item: x = 2, t = 0.5: v1 = 2 + 0.5 + 2 = 4.5; x' = 2 + 4.5/4 = 3.125;
    // v2 = 3.125 + 0.75 + 2 = 5.875; target = (4.5 + 5.875)/2 = 5.1875.
    // Item with d = 0 (h = 1/2, teacher level 1): x = 1, t = 0: v1 = 1 + 0 + 1 = 2;
    // x' = 1 + 2/2 = 2; v2 = 2 + 0.5 + 1 = 3.5; target = 2.75.
    List<Integer> blocksSeen = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      Teacher teacher =
          (x, t, d, y, blocks) -> {
            blocksSeen.add(blocks);
            return x.add(t.add(d).reshape(-1, 1, 1, 1));
          };
      NDArray x = m.create(new float[] {2f, 1f}, new Shape(2, 1, 1, 1));
      NDArray t = m.create(new float[] {0.5f, 0f});
      NDArray level = m.create(new float[] {1f, 0f});
      NDArray labels = m.create(new int[] {3, 10});
      NDArray target = Targets.selfConsistency(teacher, x, t, level, labels, 6);
      assertArrayEquals(new float[] {5.1875f, 2.75f}, target.toFloatArray(), 1e-5f);
      assertEquals(List.of(6, 6), blocksSeen);
    }
  }

  @Test
  void lengthConsistencyIsTheTeachersVelocityAtTheDeeperBlockCount() {
    try (NDManager m = NDManager.newBaseManager()) {
      Teacher teacher = (x, t, d, y, blocks) -> x.mul((float) blocks);
      NDArray x = m.create(new float[] {0.5f, -1f}, new Shape(2, 1, 1, 1));
      NDArray t = m.create(new float[] {0f, 0f});
      NDArray level = m.create(new float[] {7f, 7f});
      NDArray labels = m.create(new int[] {1, 2});
      assertArrayEquals(
          new float[] {3f, -6f},
          Targets.lengthConsistency(teacher, x, t, level, labels, 6).toFloatArray(),
          1e-6f);
    }
  }

  @Test
  void guidedTeacherIsTheUnconditionalPlusWTimesTheDifference() {
    // Teacher v = x + y: conditional (y = 3) gives x + 3, unconditional (null 10) gives x + 10.
    // w = 1.5: (x + 10) + 1.5·((x + 3) − (x + 10)) = x − 0.5.
    List<Integer> labelsSeen = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager()) {
      Teacher teacher =
          (x, t, d, y, blocks) -> {
            for (int v : y.toIntArray()) {
              labelsSeen.add(v);
            }
            return x.add(y.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).reshape(-1, 1, 1, 1));
          };
      NDArray x = m.create(new float[] {2f, -1f}, new Shape(2, 1, 1, 1));
      NDArray t = m.create(new float[] {0f, 0.5f});
      NDArray level = m.create(new float[] {7f, 7f});
      NDArray labels = m.create(new int[] {3, 3});
      NDArray v = Targets.guided(teacher, 1.5f, 10).velocity(x, t, level, labels, 6);
      assertArrayEquals(new float[] {1.5f, -1.5f}, v.toFloatArray(), 1e-6f);
      assertEquals(List.of(3, 3, 10, 10), labelsSeen);
    }
  }
}
