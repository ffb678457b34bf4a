package dev.odelt.model.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.odelt.model.data.DigitSet;
import dev.odelt.model.data.MnistDigits;
import org.junit.jupiter.api.Test;

/** The trainer on a tiny model: 32×32 digits, patch 8 (16 tokens), width 32, 4 blocks. */
class TrainerLossTest {

  static final String[] TINY = {
    "--patchSize=8", "--hiddenSize=32", "--numHeads=2", "--mlpRatio=2", "--depth=4",
    "--depthMin=2", "--groupSize=2", "--batchSize=16", "--warmupSteps=1", "--learningRate=2e-3",
    "--steps=30", "--seed=5"
  };

  static DigitSet fixedBatch() {
    DigitSet train = MnistDigits.load().train();
    int[] first = new int[16];
    for (int i = 0; i < first.length; i++) {
      first[i] = i;
    }
    return train.select(first);
  }

  @Test
  void lossGoesDownOnAFixedSetOfDigits() {
    try (Trainer trainer = new Trainer(TrainOptions.parse(TINY), fixedBatch(), Device.cpu())) {
      double early = 0;
      double late = 0;
      for (int i = 0; i < 30; i++) {
        float loss = trainer.trainStep().total();
        if (i < 5) {
          early += loss / 5;
        } else if (i >= 25) {
          late += loss / 5;
        }
      }
      assertTrue(late < 0.8 * early, "loss should fall: first 5 steps " + early + ", last 5 " + late);
    }
  }
}
