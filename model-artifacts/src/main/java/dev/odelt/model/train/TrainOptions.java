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
    String output) {

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
        "  --weightDecay=0.01           AdamW decoupled weight decay (matrices only)",
        "  --gradClip=1.0               global gradient-norm clip (0 = off)",
        "  --emaDecay=0.999             EMA teacher decay (warmed up as (1+n)/(10+n))",
        "  --selfConsistencyFraction=0.25  share of a batch on the time shortcut term",
        "  --lengthConsistencyFraction=0.25 share of a batch on the length term",
        "  --labelDropout=0.1           labels replaced by the null label (for guidance)",
        "  --seed=0                     everything random derives from it and the step",
        "  --threads=0                  PyTorch intra-op threads (0 = all cores)",
        "  --checkpointDir=             write/resume checkpoints here (empty = none)",
        "  --checkpointEvery=200        steps between checkpoints",
        "  --logEvery=20                steps between log lines",
        "  --maxMinutes=0               stop early (checkpoint + package) after this (0 = no limit)",
        "  --stepsPerProcess=0          checkpoint and exit after this many steps (0 = no limit);",
        "                               tools/train.sh restarts until done (bounds native memory)",
        "  --output=                    write the model package (EMA weights) to this directory",
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
            f(a, "weightDecay", 0.01f),
            f(a, "gradClip", 1f),
            f(a, "emaDecay", 0.999f),
            f(a, "selfConsistencyFraction", 0.25f),
            f(a, "lengthConsistencyFraction", 0.25f),
            f(a, "labelDropout", 0.1f),
            Long.parseLong(s(a, "seed", "0")),
            i(a, "threads", 0),
            s(a, "checkpointDir", ""),
            i(a, "checkpointEvery", 200),
            i(a, "logEvery", 20),
            Double.parseDouble(s(a, "maxMinutes", "0")),
            i(a, "stepsPerProcess", 0),
            s(a, "output", ""));
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
