package dev.odelt.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.train.BatchPlan.Term;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The batch composition of each recipe, row by row (DESIGN.md §5, "Training recipe"). */
class BatchPlanTest {

  /** Default model (depth 6, depth_min 2, G 2: L ∈ {2, 4, 6}, 10 classes, d_max 7), B = 64. */
  private static BatchPlan draw(long seed, String... more) {
    String[] args = new String[more.length + 2];
    args[0] = "--batchSize=64";
    args[1] = "--labelDropout=0.5";
    System.arraycopy(more, 0, args, 2, more.length);
    TrainOptions o = TrainOptions.parse(args);
    return BatchPlan.draw(new SplittableRandom(seed), o, 1000, i -> i % 10);
  }

  @Test
  void referenceRecipeRowByRow() {
    Set<String> studentByTerm = new HashSet<>();
    boolean teacherShallowerThanStudent = false;
    for (long seed = 0; seed < 20; seed++) {
      BatchPlan p = draw(seed);
      assertEquals(8, p.rowsOf(Term.SELF_CONSISTENCY).length, "B/8 self-consistency rows");
      assertEquals(8, p.rowsOf(Term.LENGTH).length, "B/8 length rows");
      assertEquals(48, p.rowsOf(Term.FLOW).length);
      int guided = 0;
      for (int i = 0; i < p.size(); i++) {
        assertTrue(List.of(2, 4, 6).contains(p.studentBlocks()[i]));
        if (i > 0) {
          assertTrue(p.studentBlocks()[i - 1] <= p.studentBlocks()[i], "ordered by student L");
        }
        studentByTerm.add(p.term()[i] + "@" + p.studentBlocks()[i]);
        float t = p.time()[i];
        if (p.term()[i] == Term.SELF_CONSISTENCY) {
          int level = (int) p.level()[i];
          assertTrue(level >= 0 && level < 7);
          assertEquals(0f, t * (1 << level) % 1f, 0f, "t on the 2^-d grid");
          assertTrue(p.label()[i] < 10, "no label dropout on self-consistency rows");
          assertEquals(6, p.teacherBlocks()[i], "self-consistency teacher at full depth");
          guided += p.guided()[i] ? 1 : 0;
        } else {
          assertEquals(7f, p.level()[i], "flow and length rows at the finest level");
          assertEquals(0f, t * 128 % 1f, 0f, "flow t on the 1/128 grid");
          assertTrue(!p.guided()[i]);
          if (p.term()[i] == Term.LENGTH) {
            assertTrue(List.of(2, 4, 6).contains(p.teacherBlocks()[i]));
            teacherShallowerThanStudent |= p.teacherBlocks()[i] < p.studentBlocks()[i];
          }
        }
        assertEquals(p.label()[i] == 10 ? 10 : p.dataIndex()[i] % 10, p.label()[i]);
      }
      assertEquals(4, guided, "half the self-consistency rows have a guided teacher");
    }
    for (Term term : Term.values()) {
      for (int l : List.of(2, 4, 6)) {
        assertTrue(studentByTerm.contains(term + "@" + l), "student runs " + l + " on " + term);
      }
    }
    assertTrue(teacherShallowerThanStudent, "the length teacher's L is drawn independently");
  }

  @Test
  void labelDropoutOnFlowRowsOnlyUnlessAllRowsAreAsked() {
    int droppedSc = 0;
    int droppedFlow = 0;
    int droppedScAll = 0;
    for (long seed = 0; seed < 20; seed++) {
      BatchPlan reference = draw(seed);
      BatchPlan all = draw(seed, "--dropoutRows=all");
      for (int i = 0; i < reference.size(); i++) {
        boolean dropped = reference.label()[i] == 10;
        if (reference.term()[i] == Term.SELF_CONSISTENCY) {
          droppedSc += dropped ? 1 : 0;
        } else {
          droppedFlow += dropped ? 1 : 0;
        }
        if (all.term()[i] == Term.SELF_CONSISTENCY && all.label()[i] == 10) {
          droppedScAll++;
        }
      }
    }
    assertEquals(0, droppedSc);
    assertTrue(droppedFlow > 300 && droppedFlow < 800, "about half of 1120: " + droppedFlow);
    assertTrue(droppedScAll > 40, "about half of 160: " + droppedScAll);
  }

  @Test
  void shippedModelsRecipeIsStillAvailable() {
    for (long seed = 0; seed < 10; seed++) {
      BatchPlan p =
          draw(
              seed,
              "--studentBlocks=full",
              "--lengthTeacher=deeper",
              "--flowTimeGrid=0",
              "--guidedFraction=0");
      Set<Integer> lengthStudents = new HashSet<>();
      boolean offGrid = false;
      for (int i = 0; i < p.size(); i++) {
        if (p.term()[i] == Term.LENGTH) {
          lengthStudents.add(p.studentBlocks()[i]);
          assertTrue(p.teacherBlocks()[i] > p.studentBlocks()[i], "teacher deeper");
        } else {
          assertEquals(6, p.studentBlocks()[i], "flow and self-consistency at full depth");
          offGrid |= p.term()[i] == Term.FLOW && p.time()[i] * 128 % 1f != 0f;
        }
        assertTrue(!p.guided()[i]);
      }
      assertEquals(1, lengthStudents.size(), "one shared shallower L");
      assertTrue(lengthStudents.iterator().next() < 6);
      assertTrue(offGrid, "continuous flow times");
    }
  }

  @Test
  void aStepsBatchIsAPureFunctionOfItsRandomSource() {
    BatchPlan a = draw(42);
    BatchPlan b = draw(42);
    assertArrayEquals(a.dataIndex(), b.dataIndex());
    assertArrayEquals(a.time(), b.time());
    assertArrayEquals(a.studentBlocks(), b.studentBlocks());
    assertArrayEquals(a.teacherBlocks(), b.teacherBlocks());
    assertArrayEquals(a.term(), b.term());
  }
}
