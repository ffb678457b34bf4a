package dev.odelt.model.train;

import ai.djl.Device;
import dev.odelt.model.data.DigitSet;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The training loop around {@link Trainer}: logging with throughput and ETA, time budget. */
public final class TrainingRun {

  private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);

  private TrainingRun() {}

  /** Trains to {@code options.steps()} (or the time budget) and returns the trainer, still open. */
  public static Trainer run(TrainOptions options, DigitSet data, Device device, String[] args)
      throws IOException {
    Trainer trainer = new Trainer(options, data, device);
    Path checkpoints = options.checkpointDir().isEmpty() ? null : Path.of(options.checkpointDir());
    if (checkpoints != null && Checkpoints.exists(checkpoints)) {
      try (NDManager scratch = NDManager.newBaseManager(device)) {
        Checkpoints.load(trainer, checkpoints, scratch);
      }
      LOG.info("Resumed from {} at step {}", checkpoints, trainer.step());
    }
    long start = System.nanoTime();
    int first = trainer.step();
    double[] sums = new double[4];
    int[] counts = new int[4];
    while (trainer.step() < options.steps()) {
      Trainer.StepLosses l = trainer.trainStep();
      accumulate(sums, counts, 0, l.total());
      accumulate(sums, counts, 1, l.flowMatching());
      accumulate(sums, counts, 2, l.selfConsistency());
      accumulate(sums, counts, 3, l.length());
      LOG.debug(
          "step {} phases: targets {} ms, forward+backward {} ms, update {} ms",
          trainer.step(),
          l.targetNanos() / 1_000_000,
          l.gradientNanos() / 1_000_000,
          l.updateNanos() / 1_000_000);
      int s = trainer.step();
      double elapsed = (System.nanoTime() - start) / 1e9;
      if (s % options.logEvery() == 0 || s == options.steps()) {
        double perStep = elapsed / (s - first);
        LOG.info(
            String.format(
                "step %d/%d loss %.4f (fm %.4f, sc %.4f, len %.4f) lr %.2e | %.2f s/step,"
                    + " %.1f img/s, ETA %s",
                s,
                options.steps(),
                mean(sums, counts, 0),
                mean(sums, counts, 1),
                mean(sums, counts, 2),
                mean(sums, counts, 3),
                options.learningRateAt(s - 1),
                perStep,
                options.batchSize() / perStep,
                Duration.ofSeconds((long) (perStep * (options.steps() - s)))));
        java.util.Arrays.fill(sums, 0);
        java.util.Arrays.fill(counts, 0);
      }
      boolean outOfTime = options.maxMinutes() > 0 && elapsed > options.maxMinutes() * 60;
      boolean processDone =
          options.stepsPerProcess() > 0 && s - first >= options.stepsPerProcess();
      if (checkpoints != null
          && (s % options.checkpointEvery() == 0
              || s == options.steps()
              || outOfTime
              || processDone)) {
        Checkpoints.save(trainer, checkpoints);
        LOG.info("Checkpoint at step {} in {}", s, checkpoints);
      }
      if (processDone && s < options.steps()) {
        LOG.info("Did {} steps in this process; exiting for a restart", s - first);
        break;
      }
      if (outOfTime) {
        LOG.info("Time budget of {} minutes reached at step {}", options.maxMinutes(), s);
        break;
      }
    }
    return trainer;
  }

  private static void accumulate(double[] sums, int[] counts, int i, float value) {
    if (!Float.isNaN(value)) {
      sums[i] += value;
      counts[i]++;
    }
  }

  private static double mean(double[] sums, int[] counts, int i) {
    return counts[i] == 0 ? Double.NaN : sums[i] / counts[i];
  }
}
