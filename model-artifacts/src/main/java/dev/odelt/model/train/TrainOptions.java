package dev.odelt.model.train;

import dev.odelt.model.ModelConfig;
import dev.odelt.proto.v1.PositionLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Trainer options, parsed from {@code --name=value} arguments. Every option has a default; {@link
 * #usage()} documents them.
 */
public record TrainOptions(
    ModelConfig model,
    int steps,
    int batchSize,
    float learningRate,
    int warmupSteps,
    float minLearningRateFraction,
    float weightDecay,
    float gradClip,
    float emaDecay,
    float selfConsistencyFraction,
    float lengthConsistencyFraction,
    float labelDropout,
    long seed,
    int threads,
    String checkpointDir,
    int checkpointEvery,
    int logEvery,
    double maxMinutes,
    int stepsPerProcess,
    Recipe recipe) {

  /** Which block count each student row runs. */
  public enum StudentBlocks {
    /** Every row at a block count drawn uniformly from the allowed ones (the reference). */
    RANDOM,
    /**
     * Flow and self-consistency rows at full depth; the length rows share one shallower count
     * (odelt-mnist 1.0.0's recipe).
     */
    FULL
  }

  /** The block count the EMA teacher runs for a length-consistency row. */
  public enum LengthTeacher {
    /** Drawn uniformly from the allowed counts, independently of the student's (the reference). */
    INDEPENDENT,
    /** Drawn from the counts deeper than the student's (odelt-mnist 1.0.0's recipe). */
    DEEPER
  }

  /** Which rows get label dropout. */
  public enum DropoutRows {
    /** Flow-matching rows only, as the reference: self-consistency rows keep their labels. */
    FLOW,
    /** Every row (odelt-mnist 1.0.0's recipe). */
    ALL
  }

  /**
   * How a batch is composed and regularised (DESIGN.md §5, "Training recipe"). The defaults are
   * the reference's: every row's student at a random block count, length rows regressing onto the
   * EMA teacher at an independently drawn count, flow times on the 1/128 grid, label dropout on
   * flow rows only, half of the self-consistency rows with a guided teacher (w = 1.5, as the
   * reference's ImageNet runs), weight decay on every parameter.
   *
   * @param flowTimeGrid flow rows draw t = floor(n·u)/n with n = this; 0 draws t ~ U[0, 1)
   * @param guidedFraction share of the self-consistency rows whose teacher is guided
   * @param teacherGuidance w of the guided teacher, v_u + w (v_c − v_u)
   * @param weightDecayAll decay every parameter (the reference) or matrices/kernels only
   */
  public record Recipe(
      StudentBlocks studentBlocks,
      LengthTeacher lengthTeacher,
      int flowTimeGrid,
      DropoutRows dropoutRows,
      float guidedFraction,
      float teacherGuidance,
      boolean weightDecayAll) {

    public static final Recipe REFERENCE =
        new Recipe(
            StudentBlocks.RANDOM, LengthTeacher.INDEPENDENT, 128, DropoutRows.FLOW, 0.5f, 1.5f, true);

    public Recipe {
      if (flowTimeGrid < 0) {
        throw new IllegalArgumentException("flowTimeGrid must be >= 0, got " + flowTimeGrid);
      }
      if (guidedFraction < 0 || guidedFraction > 1) {
        throw new IllegalArgumentException("guidedFraction must be in [0, 1]");
      }
      if (!(teacherGuidance >= 0)) {
        throw new IllegalArgumentException("teacherGuidance must be >= 0");
      }
    }
  }

  /** The default model: 32×32 digits, patch 4, width 128, 6 blocks in groups of 2, L ∈ {2,4,6}. */
  public static final ModelConfig DEFAULT_MODEL =
      new ModelConfig(32, 1, 4, 128, 4, 4f, 6, 2, 2, 10, 7);

  public TrainOptions {
    if (steps < 1 || batchSize < 4) {
      throw new IllegalArgumentException("need steps >= 1 and batchSize >= 4");
    }
    if (selfConsistencyFraction < 0
        || lengthConsistencyFraction < 0
        || selfConsistencyFraction + lengthConsistencyFraction >= 1) {
      throw new IllegalArgumentException(
          "selfConsistencyFraction + lengthConsistencyFraction must be in [0, 1)");
    }
    if (labelDropout < 0 || labelDropout >= 1) {
      throw new IllegalArgumentException("labelDropout must be in [0, 1)");
    }
  }

  public static String usage() {
    return String.join(
        "\n",
        "Options (--name=value):",
        "  --steps=3000                 optimizer steps (the cosine schedule spans them)",
        "  --batchSize=128              items per step",
        "  --learningRate=4e-4          peak AdamW learning rate",
        "  --warmupSteps=200            linear warm-up steps",
        "  --minLearningRateFraction=0.1  cosine floor as a fraction of the peak",
        "  --weightDecay=0.1            AdamW decoupled weight decay",
        "  --weightDecayAll=true        decay every parameter (reference) or matrices only",
        "  --gradClip=1.0               global gradient-norm clip (0 = off)",
        "  --emaDecay=0.999             EMA teacher decay (warmed up as (1+n)/(10+n))",
        "  --selfConsistencyFraction=0.125  share of a batch on the time shortcut term (B/8)",
        "  --lengthConsistencyFraction=0.125 share of a batch on the length term (B/8)",
        "  --labelDropout=0.1           labels replaced by the null label (for guidance)",
        "  --dropoutRows=FLOW           FLOW: flow rows only (reference); ALL: every row",
        "  --studentBlocks=RANDOM       RANDOM: each row at a random allowed L (reference);",
        "                               FULL: full depth, length rows at one shallower L",
        "  --lengthTeacher=INDEPENDENT  teacher L of length rows: INDEPENDENT (reference) or DEEPER",
        "  --flowTimeGrid=128           flow rows: t = floor(n·u)/n (0: continuous t)",
        "  --guidedFraction=0.5         self-consistency rows with a guided teacher",
        "  --teacherGuidance=1.5        that teacher's w: v_u + w (v_c − v_u)",
        "  --seed=0                     everything random derives from it and the step",
        "  --threads=0                  PyTorch intra-op threads (0 = all cores)",
        "  --checkpointDir=             write/resume checkpoints here (empty = none)",
        "  --checkpointEvery=200        steps between checkpoints",
        "  --logEvery=20                steps between log lines",
        "  --maxMinutes=0               stop early (checkpoint + package) after this (0 = no limit)",
        "  --stepsPerProcess=0          checkpoint and exit after this many steps (0 = no limit);",
        "                               tools/train.sh restarts until done (bounds native memory)",
        "  (the package is exported from a checkpoint by ExportModel: tools/train.sh)",
        "  model: --imageSize=32 --channels=1 --patchSize=4 --hiddenSize=128 --numHeads=4",
        "         --mlpRatio=4 --depth=6 --depthMin=2 --groupSize=2 --numClasses=10",
        "         --maxStepLevel=7 --positionLayout=COLUMN_FIRST (the reference's; ROW_FIRST only",
        "         to resume checkpoints written before the layout was recorded)");
  }

  /** Parses arguments; unknown options fail with the usage text. */
  public static TrainOptions parse(String... args) {
    Map<String, String> a = new LinkedHashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new IllegalArgumentException("Expected --name=value, got '" + arg + "'\n" + usage());
      }
      int eq = arg.indexOf('=');
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    ModelConfig d = DEFAULT_MODEL;
    ModelConfig model =
        new ModelConfig(
            i(a, "imageSize", d.imageSize()),
            i(a, "channels", d.channels()),
            i(a, "patchSize", d.patchSize()),
            i(a, "hiddenSize", d.hiddenSize()),
            i(a, "numHeads", d.numHeads()),
            f(a, "mlpRatio", d.mlpRatio()),
            i(a, "depth", d.depth()),
            i(a, "depthMin", d.depthMin()),
            i(a, "groupSize", d.groupSize()),
            i(a, "numClasses", d.numClasses()),
            i(a, "maxStepLevel", d.maxStepLevel()),
            positionLayout(s(a, "positionLayout", d.positionLayout().name())));
    TrainOptions o =
        new TrainOptions(
            model,
            i(a, "steps", 3000),
            i(a, "batchSize", 128),
            f(a, "learningRate", 4e-4f),
            i(a, "warmupSteps", 200),
            f(a, "minLearningRateFraction", 0.1f),
            f(a, "weightDecay", 0.1f),
            f(a, "gradClip", 1f),
            f(a, "emaDecay", 0.999f),
            f(a, "selfConsistencyFraction", 0.125f),
            f(a, "lengthConsistencyFraction", 0.125f),
            f(a, "labelDropout", 0.1f),
            Long.parseLong(s(a, "seed", "0")),
            i(a, "threads", 0),
            s(a, "checkpointDir", ""),
            i(a, "checkpointEvery", 200),
            i(a, "logEvery", 20),
            Double.parseDouble(s(a, "maxMinutes", "0")),
            i(a, "stepsPerProcess", 0),
            new Recipe(
                e(a, "studentBlocks", StudentBlocks.class, Recipe.REFERENCE.studentBlocks()),
                e(a, "lengthTeacher", LengthTeacher.class, Recipe.REFERENCE.lengthTeacher()),
                i(a, "flowTimeGrid", Recipe.REFERENCE.flowTimeGrid()),
                e(a, "dropoutRows", DropoutRows.class, Recipe.REFERENCE.dropoutRows()),
                f(a, "guidedFraction", Recipe.REFERENCE.guidedFraction()),
                f(a, "teacherGuidance", Recipe.REFERENCE.teacherGuidance()),
                Boolean.parseBoolean(
                    s(a, "weightDecayAll", Boolean.toString(Recipe.REFERENCE.weightDecayAll())))));
    if (!a.isEmpty()) {
      throw new IllegalArgumentException("Unknown option(s) " + a.keySet() + "\n" + usage());
    }
    return o;
  }

  private static PositionLayout positionLayout(String name) {
    if (!name.equals(PositionLayout.ROW_FIRST.name())
        && !name.equals(PositionLayout.COLUMN_FIRST.name())) {
      throw new IllegalArgumentException(
          "--positionLayout must be COLUMN_FIRST or ROW_FIRST, got '" + name + "'");
    }
    return PositionLayout.valueOf(name);
  }

  private static String s(Map<String, String> a, String key, String dflt) {
    String v = a.remove(key);
    return v == null ? dflt : v;
  }

  private static int i(Map<String, String> a, String key, int dflt) {
    return Integer.parseInt(s(a, key, Integer.toString(dflt)));
  }

  private static <E extends Enum<E>> E e(
      Map<String, String> a, String key, Class<E> type, E dflt) {
    String v = s(a, key, dflt.name());
    try {
      return Enum.valueOf(type, v.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException x) {
      throw new IllegalArgumentException(
          "--" + key + "=" + v + ": expected one of " + java.util.Arrays.toString(type.getEnumConstants()));
    }
  }

  private static float f(Map<String, String> a, String key, float dflt) {
    return Float.parseFloat(s(a, key, Float.toString(dflt)));
  }

  /** The learning rate at a 0-based step: linear warm-up, then cosine down to the floor. */
  public float learningRateAt(int step) {
    if (step < warmupSteps) {
      return learningRate * (step + 1) / warmupSteps;
    }
    double progress = (double) (step - warmupSteps) / Math.max(1, steps - warmupSteps);
    double cosine = 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
    return (float)
        (learningRate * (minLearningRateFraction + (1 - minLearningRateFraction) * cosine));
  }
}
