package dev.odelt.model.eval;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import com.google.gson.GsonBuilder;
import dev.odelt.model.data.DigitSet;
import dev.odelt.model.data.MnistDigits;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains the evaluation {@link DigitClassifier} on {@link MnistDigits#train()} and writes its
 * weights plus a JSON card (seed, epochs, held-out accuracy, sha256) next to them.
 *
 * <p>Deterministic for a seed and thread count: initialisation uses the engine seed, the shuffle
 * and the augmentation (random shifts of up to {@value #MAX_SHIFT} pixels, background −1) use a
 * {@link SplittableRandom} from the same seed. Never looks at the held-out digits except to report
 * accuracy after training.
 *
 * <pre>
 * java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=2 -cp ... dev.odelt.model.eval.TrainClassifier \
 *   [--out=model-artifacts/src/main/resources/dev/odelt/eval/mnist-classifier.params] \
 *   [--epochs=5] [--batch=64] [--seed=20260101] [--learningRate=0.001]
 * </pre>
 */
public final class TrainClassifier {

  private static final Logger LOG = LoggerFactory.getLogger(TrainClassifier.class);

  static final int MAX_SHIFT = 2;

  private TrainClassifier() {}

  /**
   * Training settings.
   *
   * @param out path of the parameter file; the card goes to the same name with {@code .json}
   * @param epochs passes over the training digits
   * @param batch images per step
   * @param seed seed of initialisation, shuffle and augmentation
   * @param learningRate Adam learning rate (divided by 10 for the last epoch)
   * @param limit use only the first {@code limit} training digits after a seeded shuffle (0 = all)
   */
  public record Options(Path out, int epochs, int batch, long seed, float learningRate, int limit) {
    public Options {
      if (epochs < 1 || batch < 1 || limit < 0 || !(learningRate > 0)) {
        throw new IllegalArgumentException(
            "need epochs >= 1, batch >= 1, limit >= 0, learningRate > 0");
      }
    }

    static Options defaults() {
      return new Options(
          Paths.get("model-artifacts/src/main/resources/dev/odelt/eval/mnist-classifier.params"),
          5,
          64,
          20260101L,
          1e-3f,
          0);
    }
  }

  /** What training produced. */
  public record Result(Path params, Path card, double heldOutAccuracy, String sha256) {}

  public static void main(String[] args) throws IOException {
    Options o = Options.defaults();
    for (String arg : args) {
      String[] kv = arg.split("=", 2);
      if (kv.length != 2 || !kv[0].startsWith("--")) {
        throw new IllegalArgumentException("expected --name=value, got " + arg);
      }
      String v = kv[1];
      o =
          switch (kv[0]) {
            case "--out" ->
                new Options(
                    Paths.get(v), o.epochs(), o.batch(), o.seed(), o.learningRate(), o.limit());
            case "--epochs" ->
                new Options(
                    o.out(), Integer.parseInt(v), o.batch(), o.seed(), o.learningRate(), o.limit());
            case "--batch" ->
                new Options(
                    o.out(),
                    o.epochs(),
                    Integer.parseInt(v),
                    o.seed(),
                    o.learningRate(),
                    o.limit());
            case "--seed" ->
                new Options(
                    o.out(), o.epochs(), o.batch(), Long.parseLong(v), o.learningRate(), o.limit());
            case "--learningRate" ->
                new Options(
                    o.out(), o.epochs(), o.batch(), o.seed(), Float.parseFloat(v), o.limit());
            case "--limit" ->
                new Options(
                    o.out(),
                    o.epochs(),
                    o.batch(),
                    o.seed(),
                    o.learningRate(),
                    Integer.parseInt(v));
            default -> throw new IllegalArgumentException("unknown option " + kv[0]);
          };
    }
    Result result = run(o);
    LOG.info(
        "wrote {} (sha256 {}), held-out accuracy {}",
        result.params(),
        result.sha256(),
        result.heldOutAccuracy());
  }

  /** Trains, writes the parameters and card atomically, and reports held-out accuracy. */
  public static Result run(Options options) throws IOException {
    MnistDigits digits = MnistDigits.load();
    DigitSet train = digits.train();
    SplittableRandom random = new SplittableRandom(options.seed());
    int[] order = shuffled(train.count(), random);
    if (options.limit() > 0 && options.limit() < order.length) {
      order = Arrays.copyOf(order, options.limit());
    }
    Engine.getInstance().setRandomSeed((int) options.seed());
    SequentialBlock network = DigitClassifier.newNetwork();
    long started = System.nanoTime();
    byte[] params;
    int stepsPerEpoch = (order.length + options.batch() - 1) / options.batch();
    int fullRateSteps = stepsPerEpoch * Math.max(1, options.epochs() - 1);
    float rate = options.learningRate();
    // Full rate, then a tenth of it for the last epoch.
    Tracker schedule = update -> update <= fullRateSteps ? rate : rate / 10;
    DefaultTrainingConfig config =
        new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
            .optOptimizer(Optimizer.adam().optLearningRateTracker(schedule).build())
            .optDevices(new Device[] {Device.cpu()});
    try (Model model = Model.newInstance("mnist-classifier", Device.cpu());
        Trainer trainer = newTrainer(model, network, config, options.batch())) {
      for (int epoch = 0; epoch < options.epochs(); epoch++) {
        double loss = trainEpoch(trainer, train, order, options.batch(), random);
        LOG.info("epoch {}: mean loss {}", epoch + 1, loss);
        order = shuffled(order, random);
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        network.saveParameters(out);
      }
      params = bytes.toByteArray();
    }
    double trainSeconds = (System.nanoTime() - started) / 1e9;

    double accuracy;
    try (DigitClassifier classifier = DigitClassifier.load(new ByteArrayInputStream(params))) {
      DigitSet heldOut = digits.heldOut();
      int[] all = IntStream.range(0, heldOut.count()).toArray();
      accuracy =
          classifier
              .classify(heldOut.batchAsModelInput(all, DigitClassifier.INPUT_SIZE), all.length)
              .accuracy(heldOut.labels());
    }
    String sha = sha256(params);
    Map<String, Object> card = new LinkedHashMap<>();
    card.put("network", "3x[conv3x3,bn,relu,maxpool2] (32,64,64) -> linear 128 relu -> linear 10");
    card.put("input", "(B,1,32,32), x = 2p/255-1, 28x28 digit centred, background -1");
    card.put("trainDigits", order.length);
    card.put("heldOutDigits", digits.heldOut().count());
    card.put("heldOutAccuracy", accuracy);
    card.put("epochs", options.epochs());
    card.put("batch", options.batch());
    card.put("learningRate", options.learningRate());
    card.put("seed", options.seed());
    card.put("augmentation", "random shift up to " + MAX_SHIFT + " px");
    card.put("trainSeconds", Math.round(trainSeconds));
    card.put("paramsSha256", sha);
    Path paramsPath = options.out().toAbsolutePath();
    Path cardPath = paramsPath.resolveSibling(cardName(paramsPath));
    writeAtomically(paramsPath, params);
    writeAtomically(
        cardPath,
        (new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(card) + "\n")
            .getBytes(StandardCharsets.UTF_8));
    return new Result(paramsPath, cardPath, accuracy, sha);
  }

  private static Trainer newTrainer(
      Model model, SequentialBlock network, DefaultTrainingConfig config, int batch) {
    model.setBlock(network);
    Trainer trainer = model.newTrainer(config);
    trainer.initialize(DigitClassifier.inputShape(batch));
    return trainer;
  }

  private static double trainEpoch(
      Trainer trainer, DigitSet train, int[] order, int batch, SplittableRandom random) {
    double lossSum = 0;
    int steps = 0;
    for (int start = 0; start < order.length; start += batch) {
      int[] idx = Arrays.copyOfRange(order, start, Math.min(order.length, start + batch));
      float[] images = train.batchAsModelInput(idx, DigitClassifier.INPUT_SIZE);
      shiftInPlace(images, idx.length, random);
      try (NDManager scope = trainer.getManager().newSubManager()) {
        NDArray x = scope.create(images, DigitClassifier.inputShape(idx.length)); // (B, 1, 32, 32)
        NDArray oneHot = scope.create(train.labelsOf(idx)).oneHot(DigitClassifier.CLASSES);
        try (GradientCollector collector = trainer.newGradientCollector()) {
          NDArray logits = trainer.forward(new NDList(x)).singletonOrThrow(); // (B, 10)
          NDArray loss = logits.logSoftmax(1).mul(oneHot).sum(new int[] {1}).neg().mean();
          collector.backward(loss);
          lossSum += loss.getFloat();
        }
        trainer.step();
      }
      steps++;
    }
    return lossSum / steps;
  }

  /** Shifts each 32×32 image by a random (dy, dx) in [−MAX_SHIFT, MAX_SHIFT], filling with −1. */
  static void shiftInPlace(float[] images, int count, SplittableRandom random) {
    int size = DigitClassifier.INPUT_SIZE;
    float[] copy = new float[size * size];
    for (int i = 0; i < count; i++) {
      int dy = random.nextInt(-MAX_SHIFT, MAX_SHIFT + 1);
      int dx = random.nextInt(-MAX_SHIFT, MAX_SHIFT + 1);
      int base = i * size * size;
      System.arraycopy(images, base, copy, 0, copy.length);
      for (int r = 0; r < size; r++) {
        for (int c = 0; c < size; c++) {
          int sr = r - dy;
          int sc = c - dx;
          images[base + r * size + c] =
              sr >= 0 && sr < size && sc >= 0 && sc < size ? copy[sr * size + sc] : -1f;
        }
      }
    }
  }

  private static int[] shuffled(int n, SplittableRandom random) {
    return shuffled(IntStream.range(0, n).toArray(), random);
  }

  private static int[] shuffled(int[] values, SplittableRandom random) {
    int[] out = values.clone();
    for (int i = out.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  private static String cardName(Path params) {
    String name = params.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return (dot > 0 ? name.substring(0, dot) : name) + ".json";
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }

  private static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Files.createDirectories(target.getParent());
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try {
      Files.write(tmp, bytes);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
