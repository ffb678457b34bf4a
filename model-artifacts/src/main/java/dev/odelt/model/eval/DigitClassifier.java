package dev.odelt.model.eval;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * A small CNN that classifies 32×32 digit images in the generator's pixel space (values in [−1, 1],
 * background −1; see {@link dev.odelt.model.data.DigitSet#imageAsModelInput}) and exposes its
 * {@value #FEATURES}-dimensional penultimate features for Fréchet distances.
 *
 * <p>Network: three [3×3 conv, batch norm, ReLU, 2×2 max-pool] stages (32, 64, 64 channels), a
 * 1024→{@value #FEATURES} linear layer with ReLU (the features), and a linear head to 10 logits.
 * The bundled weights {@value #RESOURCE} are trained by {@link TrainClassifier} on {@link
 * dev.odelt.model.data.MnistDigits#train()} only.
 *
 * <p>Inference runs with frozen parameters and batch-norm running statistics, so results depend
 * only on the input. Thread-safe (calls are serialised); close to free native memory.
 */
public final class DigitClassifier implements AutoCloseable {

  /** Classpath location of the bundled weights (DJL parameter format). */
  public static final String RESOURCE = "/dev/odelt/eval/mnist-classifier.params";

  /** Side of the square input images. */
  public static final int INPUT_SIZE = 32;

  /** Width of the penultimate feature vector. */
  public static final int FEATURES = 128;

  /** Number of classes. */
  public static final int CLASSES = 10;

  private static final int CHUNK = 250;

  private final NDManager manager;
  private final SequentialBlock network;
  private final Block features;
  private final Block head;

  private DigitClassifier(NDManager manager, SequentialBlock network) {
    this.manager = manager;
    this.network = network;
    this.features = network.getChildren().get(0).getValue();
    this.head = network.getChildren().get(1).getValue();
  }

  /**
   * The network, uninitialised: child 0 maps (B, 1, 32, 32) to features (B, F), child 1 to logits.
   */
  static SequentialBlock newNetwork() {
    SequentialBlock featureBlock = new SequentialBlock();
    for (int filters : new int[] {32, 64, 64}) {
      featureBlock
          .add(
              Conv2d.builder()
                  .setKernelShape(new Shape(3, 3))
                  .optPadding(new Shape(1, 1))
                  .setFilters(filters)
                  .build())
          .add(BatchNorm.builder().build())
          .add(Activation.reluBlock())
          .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
    }
    featureBlock
        .add(Blocks.batchFlattenBlock()) // (B, 64·4·4)
        .add(Linear.builder().setUnits(FEATURES).build())
        .add(Activation.reluBlock()); // (B, F)
    SequentialBlock network = new SequentialBlock();
    network.add(featureBlock).add(Linear.builder().setUnits(CLASSES).build()); // (B, 10)
    return network;
  }

  /** Shape the network is initialised with. */
  static Shape inputShape(int batch) {
    return new Shape(batch, 1, INPUT_SIZE, INPUT_SIZE);
  }

  /**
   * Loads the bundled classifier.
   *
   * @throws IllegalStateException if the weights are not on the classpath
   * @throws UncheckedIOException if they cannot be read
   */
  public static DigitClassifier loadBundled() {
    try (InputStream in = DigitClassifier.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("resource " + RESOURCE + " is not on the classpath");
      }
      return load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCE, e);
    }
  }

  /**
   * Loads a classifier from parameters written by {@link TrainClassifier} (DJL's {@code
   * Block.saveParameters} of this network).
   *
   * @throws IOException if the stream is not such a parameter file
   */
  public static DigitClassifier load(InputStream params) throws IOException {
    NDManager manager = NDManager.newBaseManager(Device.cpu());
    try {
      SequentialBlock network = newNetwork();
      network.initialize(manager, DataType.FLOAT32, inputShape(1));
      network.loadParameters(manager, new DataInputStream(new BufferedInputStream(params)));
      network.freezeParameters(true);
      return new DigitClassifier(manager, network);
    } catch (MalformedModelException | RuntimeException e) {
      manager.close();
      throw new IOException("not a digit-classifier parameter file: " + e.getMessage(), e);
    } catch (IOException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * Classifies a batch.
   *
   * @param images (B, 1, 32, 32) row-major values in [−1, 1]
   * @param count B
   * @return predictions, features and logits of the B images
   */
  public synchronized Classification classify(float[] images, int count) {
    int plane = INPUT_SIZE * INPUT_SIZE;
    if (count < 0 || images.length != count * plane) {
      throw new IllegalArgumentException(
          "images must hold count*32*32 = " + (count * plane) + " values, got " + images.length);
    }
    float[] featureOut = new float[count * FEATURES];
    float[] logitOut = new float[count * CLASSES];
    for (int start = 0; start < count; start += CHUNK) {
      int n = Math.min(CHUNK, count - start);
      try (NDManager scope = manager.newSubManager()) {
        ParameterStore ps = new ParameterStore(scope, false);
        NDArray x =
            scope.create(
                Arrays.copyOfRange(images, start * plane, (start + n) * plane),
                inputShape(n)); // (n, 1, 32, 32)
        NDArray f = features.forward(ps, new NDList(x), false).singletonOrThrow(); // (n, F)
        NDArray logits = head.forward(ps, new NDList(f), false).singletonOrThrow(); // (n, 10)
        System.arraycopy(f.toFloatArray(), 0, featureOut, start * FEATURES, n * FEATURES);
        System.arraycopy(logits.toFloatArray(), 0, logitOut, start * CLASSES, n * CLASSES);
      }
    }
    int[] predicted = new int[count];
    for (int i = 0; i < count; i++) {
      int best = 0;
      for (int c = 1; c < CLASSES; c++) {
        if (logitOut[i * CLASSES + c] > logitOut[i * CLASSES + best]) {
          best = c;
        }
      }
      predicted[i] = best;
    }
    return new Classification(count, predicted, featureOut, logitOut);
  }

  /** The underlying network (for saving). */
  SequentialBlock network() {
    return network;
  }

  @Override
  public void close() {
    manager.close();
  }

  /**
   * The classifier's output for B images. The arrays are fresh per call and owned by the caller.
   *
   * @param count B
   * @param predicted (B) the arg-max class of each image
   * @param features (B, {@value DigitClassifier#FEATURES}) penultimate-layer activations
   * @param logits (B, {@value DigitClassifier#CLASSES})
   */
  public record Classification(int count, int[] predicted, float[] features, float[] logits) {

    /** Fraction of images whose predicted class equals {@code labels[i]}. */
    public double accuracy(int[] labels) {
      if (labels.length != count) {
        throw new IllegalArgumentException(count + " images but " + labels.length + " labels");
      }
      int right = 0;
      for (int i = 0; i < count; i++) {
        right += predicted[i] == labels[i] ? 1 : 0;
      }
      return count == 0 ? Double.NaN : right / (double) count;
    }

    /** The features as B rows of {@value DigitClassifier#FEATURES} doubles. */
    public double[][] featureRows() {
      double[][] rows = new double[count][FEATURES];
      for (int i = 0; i < count; i++) {
        for (int j = 0; j < FEATURES; j++) {
          rows[i][j] = features[i * FEATURES + j];
        }
      }
      return rows;
    }
  }
}
