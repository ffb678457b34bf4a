package dev.odelt.model.train;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.train.TrainOptions.DropoutRows;
import dev.odelt.model.train.TrainOptions.LengthTeacher;
import dev.odelt.model.train.TrainOptions.Recipe;
import dev.odelt.model.train.TrainOptions.StudentBlocks;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * What one training batch holds, row by row, drawn on the host before anything runs (DESIGN.md §5,
 * "Training recipe"). Each row is one of three {@link Term}s:
 *
 * <ul>
 *   <li>{@link Term#SELF_CONSISTENCY} (the first {@code selfConsistencyFraction} of the batch):
 *       level d ~ U{0..d_max−1}, t on the grid of step 2^−d, the target two half steps of the EMA
 *       teacher at level d+1 and full depth, guided for the first {@code guidedFraction} of them;
 *   <li>{@link Term#FLOW}: flow matching at the finest level d_max, t on the 1/{@code
 *       flowTimeGrid} grid, labels dropped with probability {@code labelDropout};
 *   <li>{@link Term#LENGTH} (the last {@code lengthConsistencyFraction}, drawn like flow rows): the
 *       target is the EMA teacher's velocity at {@link #teacherBlocks} instead of x₁ − x₀.
 * </ul>
 *
 * Every row's student runs {@link #studentBlocks} blocks. Rows are ordered by student block count
 * (stable), so each count is one contiguous slice the student runs as one call. Everything derives
 * from the random source in a fixed order, so a step's batch is a pure function of (seed, step).
 */
record BatchPlan(
    int[] dataIndex,
    int[] label,
    float[] time,
    float[] level,
    int[] studentBlocks,
    int[] teacherBlocks,
    Term[] term,
    boolean[] guided) {

  /** The training term a row contributes to. */
  enum Term {
    FLOW,
    SELF_CONSISTENCY,
    LENGTH
  }

  int size() {
    return term.length;
  }

  /** Row indices of one term, in row order. */
  int[] rowsOf(Term t) {
    return IntStream.range(0, size()).filter(i -> term[i] == t).toArray();
  }

  /**
   * Draws a batch. {@code labels} gives the class of a data index; {@code dataCount} the number
   * of items to draw from.
   */
  static BatchPlan draw(
      SplittableRandom rng,
      TrainOptions options,
      int dataCount,
      java.util.function.IntUnaryOperator labels) {
    ModelConfig config = options.model();
    Recipe recipe = options.recipe();
    int b = options.batchSize();
    List<Integer> allowed = config.allowedBlocks();
    int nSc = Math.round(b * options.selfConsistencyFraction());
    int nLc = allowed.size() < 2 ? 0 : Math.round(b * options.lengthConsistencyFraction());
    int nGuided =
        recipe.teacherGuidance() == 1f ? 0 : Math.round(nSc * recipe.guidedFraction());
    int dMax = config.maxStepLevel();
    int depth = config.depth();

    int[] index = new int[b];
    int[] label = new int[b];
    float[] t = new float[b];
    float[] d = new float[b];
    int[] student = new int[b];
    int[] teacher = new int[b];
    Term[] term = new Term[b];
    boolean[] guided = new boolean[b];
    // The shared shallower count of the FULL recipe's length rows, drawn once per batch.
    int sharedShallow =
        allowed.size() < 2 ? depth : allowed.get(rng.nextInt(allowed.size() - 1));
    for (int i = 0; i < b; i++) {
      index[i] = rng.nextInt(dataCount);
      term[i] = i < nSc ? Term.SELF_CONSISTENCY : i >= b - nLc ? Term.LENGTH : Term.FLOW;
      boolean flowLike = term[i] != Term.SELF_CONSISTENCY;
      boolean drop =
          (flowLike || recipe.dropoutRows() == DropoutRows.ALL)
              && rng.nextDouble() < options.labelDropout();
      label[i] = drop ? config.nullClass() : labels.applyAsInt(index[i]);
      if (flowLike) {
        d[i] = dMax;
        double u = rng.nextDouble();
        int grid = recipe.flowTimeGrid();
        t[i] = grid > 0 ? (float) (Math.floor(grid * u) / grid) : (float) u;
      } else {
        int lv = rng.nextInt(dMax);
        t[i] = rng.nextInt(1 << lv) / (float) (1 << lv);
        d[i] = lv;
        guided[i] = i < nGuided;
      }
      if (recipe.studentBlocks() == StudentBlocks.RANDOM) {
        student[i] = allowed.get(rng.nextInt(allowed.size()));
      } else {
        student[i] = term[i] == Term.LENGTH ? sharedShallow : depth;
      }
      if (term[i] == Term.LENGTH) {
        if (recipe.lengthTeacher() == LengthTeacher.INDEPENDENT) {
          teacher[i] = allowed.get(rng.nextInt(allowed.size()));
        } else {
          int si = allowed.indexOf(student[i]);
          int deeper = allowed.size() - 1 - si;
          teacher[i] = deeper > 0 ? allowed.get(si + 1 + rng.nextInt(deeper)) : student[i];
        }
      } else {
        teacher[i] = depth;
      }
    }
    Integer[] order = new Integer[b];
    for (int i = 0; i < b; i++) {
      order[i] = i;
    }
    Arrays.sort(order, Comparator.comparingInt(i -> student[i])); // stable
    return new BatchPlan(
        permute(index, order),
        permute(label, order),
        permute(t, order),
        permute(d, order),
        permute(student, order),
        permute(teacher, order),
        Arrays.stream(order).map(i -> term[i]).toArray(Term[]::new),
        permute(guided, order));
  }

  private static int[] permute(int[] a, Integer[] order) {
    return Arrays.stream(order).mapToInt(i -> a[i]).toArray();
  }

  private static float[] permute(float[] a, Integer[] order) {
    float[] out = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[order[i]];
    }
    return out;
  }

  private static boolean[] permute(boolean[] a, Integer[] order) {
    boolean[] out = new boolean[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = a[order[i]];
    }
    return out;
  }
}
