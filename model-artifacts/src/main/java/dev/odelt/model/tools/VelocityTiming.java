package dev.odelt.model.tools;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.noise.GaussianNoise;
import java.util.Arrays;
import java.util.Locale;

/**
 * Milliseconds per velocity call of a random network, for each allowed block count L: warm-up
 * calls, then the median of timed repeats. Default network: 32×32×3, patch 4, width 128, 4 heads, 6
 * blocks in groups of 2 (depth_min 2), batch 64.
 *
 * <p>Usage: {@code VelocityTiming [device=auto] [batch=64] [repeats=10] [warmup=3]}. Prints one
 * line per L to standard output.
 */
public final class VelocityTiming {

  /** The benchmark network of the issue: 6 blocks, width 128, 32×32, patch 4, 4 heads, G = 2. */
  public static final ModelConfig CONFIG = new ModelConfig(32, 3, 4, 128, 4, 4f, 6, 2, 2, 10, 7);

  private VelocityTiming() {}

  public static void main(String[] args) {
    String device = args.length > 0 ? args[0] : "auto";
    int batch = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int repeats = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    Device resolved = Models.resolveDevice(device);
    JniUtils.setGradMode(false);
    try (NDManager manager = NDManager.newBaseManager(resolved)) {
      OdeltNetwork network = new OdeltNetwork(CONFIG);
      network.initialize(manager, 1, OdeltNetwork.Init.RANDOM);
      int perImage = CONFIG.channels() * CONFIG.imageSize() * CONFIG.imageSize();
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
        y[i] = i % CONFIG.numClasses();
      }
      System.out.printf(
          Locale.ROOT,
          "velocity timing on %s: batch %d, %dx%dx%d, patch %d, width %d, %d heads, depth %d"
              + " (G=%d), %d warm-up + median of %d%n",
          resolved,
          batch,
          CONFIG.imageSize(),
          CONFIG.imageSize(),
          CONFIG.channels(),
          CONFIG.patchSize(),
          CONFIG.hiddenSize(),
          CONFIG.numHeads(),
          CONFIG.depth(),
          CONFIG.groupSize(),
          warmup,
          repeats);
      for (int blocks : CONFIG.allowedBlocks()) {
        double[] millis = new double[repeats];
        for (int r = -warmup; r < repeats; r++) {
          try (NDManager call = manager.newSubManager()) {
            NDArray x =
                call.create(
                    noise,
                    new Shape(batch, CONFIG.channels(), CONFIG.imageSize(), CONFIG.imageSize()));
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
