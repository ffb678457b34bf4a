package dev.odelt.model.tools;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.noise.GaussianNoise;
import java.util.Arrays;
import java.util.Locale;

/**
 * Milliseconds per velocity call of a random network, for each allowed block count L: warm-up
 * calls, then the median of timed repeats. Default network: 32×32×3, patch 4, width 128, 4 heads, 6
 * blocks in groups of 2 (depth_min 2), batch 64.
 *
 * <p>Usage: {@code VelocityTiming [device=auto] [batch=64] [repeats=10] [warmup=3] [shape=small]
 * [precision=fp32]}, where shape is {@code small} (the network above), {@code dit-b2} ({@link
 * #DIT_B2}) or {@code dit-xl2} (DiT-XL/2: width 1152, 16 heads, depth 28, depth_min 12, G = 8) and
 * precision {@code fp32} or {@code bf16}. Prints one line per L to standard output.
 */
public final class VelocityTiming {

  /** The benchmark network of the issue: 6 blocks, width 128, 32×32, patch 4, 4 heads, G = 2. */
  public static final ModelConfig CONFIG = new ModelConfig(32, 3, 4, 128, 4, 4f, 6, 2, 2, 10, 7);

  /** DiT-B/2 on 32×32×4 latents (the paper's ImageNet / CelebA-HQ models), L ∈ {4, 8, 12}. */
  public static final ModelConfig DIT_B2 =
      new ModelConfig(32, 4, 2, 768, 12, 4f, 12, 4, 4, 1000, 7);

  private VelocityTiming() {}

  /**
   * The network of a shape name: {@code small}, {@code dit-b2} or {@code dit-xl2}.
   *
   * @throws IllegalArgumentException for other names
   */
  public static ModelConfig shape(String name) {
    return switch (name) {
      case "small" -> CONFIG;
      case "dit-b2" -> DIT_B2;
      // DiT-XL/2, L ∈ {12, 20, 28}: depth_min 12 is not a multiple of G = 8, which the
      // architecture check must allow (DESIGN.md §1); built on demand so the others never wait on
      // it.
      case "dit-xl2" -> new ModelConfig(32, 4, 2, 1152, 16, 4f, 28, 12, 8, 1000, 7);
      default ->
          throw new IllegalArgumentException(
              "Unknown shape '" + name + "': use small, dit-b2 or dit-xl2");
    };
  }

  public static void main(String[] args) {
    String device = args.length > 0 ? args[0] : "auto";
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    ModelConfig config = shape(args.length > 4 ? args[4] : "small");
    Precision precision = Precision.parse(args.length > 5 ? args[5] : "fp32");
    Device resolved = Models.resolveDevice(device);
    JniUtils.setGradMode(false);
    try (NDManager manager = NDManager.newBaseManager(resolved)) {
      OdeltNetwork network = new OdeltNetwork(config);
      network.initialize(manager, 1, OdeltNetwork.Init.RANDOM, precision);
      int perImage = config.channels() * config.imageSize() * config.imageSize();
      float[] noise = new float[batch * perImage];
      for (int i = 0; i < batch; i++) {
        GaussianNoise.fill(i, 0, noise, i * perImage, perImage);
      }
      float[] t = new float[batch];
      float[] d = new float[batch];
      int[] y = new int[batch];
      for (int i = 0; i < batch; i++) {
        t[i] = (i + 0.5f) / batch;
        d[i] = i % 8;
        y[i] = i % config.numClasses();
      }
      System.out.printf(
          Locale.ROOT,
          "velocity timing on %s, %s: batch %d, %dx%dx%d, patch %d, width %d, %d heads, depth %d"
              + " (G=%d), %d warm-up + median of %d%n",
          resolved,
          precision,
          batch,
          config.imageSize(),
          config.imageSize(),
          config.channels(),
          config.patchSize(),
          config.hiddenSize(),
          config.numHeads(),
          config.depth(),
          config.groupSize(),
          warmup,
          repeats);
      for (int blocks : config.allowedBlocks()) {
        double[] millis = new double[repeats];
        for (int r = -warmup; r < repeats; r++) {
          try (NDManager call = manager.newSubManager()) {
            NDArray x =
                call.create(
                    noise,
                    new Shape(batch, config.channels(), config.imageSize(), config.imageSize()));
            NDArray tt = call.create(t);
            NDArray dd = call.create(d);
            NDArray yy = call.create(y);
            long start = System.nanoTime();
            NDArray v =
                network.velocity(new ParameterStore(call, false), x, tt, dd, yy, blocks, false);
            // Reading one value waits for asynchronous (GPU) kernels to finish.
            v.get(0, 0, 0, 0).getFloat();
            double elapsed = (System.nanoTime() - start) / 1e6;
            if (r >= 0) {
              millis[r] = elapsed;
            }
          }
        }
        Arrays.sort(millis);
        double median =
            repeats % 2 == 1
                ? millis[repeats / 2]
                : (millis[repeats / 2 - 1] + millis[repeats / 2]) / 2;
        System.out.printf(
            Locale.ROOT,
            "L=%d: %.2f ms per velocity call (min %.2f, max %.2f), %.3f ms per image%n",
            blocks,
            median,
            millis[0],
            millis[repeats - 1],
            median / batch);
      }
    }
  }
}
