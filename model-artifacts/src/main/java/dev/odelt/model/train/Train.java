package dev.odelt.model.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.odelt.model.data.MnistDigits;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Command-line trainer of the default MNIST model: {@code java -cp … dev.odelt.model.train.Train
 * --checkpointDir=DIR …}; {@link ExportModel} then turns the checkpoint's EMA weights into a model
 * package ({@code tools/train.sh} does both). See {@link TrainOptions#usage()} and
 * model-artifacts/MODEL_CARD.md for the recipe used.
 */
public final class Train {

  private static final Logger LOG = LoggerFactory.getLogger(Train.class);

  private Train() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    TrainOptions options;
    try {
      options = TrainOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    if (options.threads() > 0) {
      System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(options.threads()));
      System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    }
    Engine.getEngine("PyTorch");
    MnistDigits digits = MnistDigits.load();
    LOG.info(
        "Training on {} digits ({} held out), model {}",
        digits.train().count(),
        digits.heldOut().count(),
        options.model());
    TrainingRun.run(options, digits.train(), Device.cpu(), args);
  }
}
