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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Milliseconds per velocity call of a random network, for each block count L asked for: warm-up
 * calls, then the median of timed repeats. Shapes: {@code small} (the default: 32×32×3, patch 4,
 * width 128, 4 heads, 6 blocks in groups of 2, depth_min 2), {@code dit-b-2} and {@code dit-xl-2}
 * (the paper's, see {@link RandomPackages.PaperShape}, 1000 classes).
 *
 * <p>Usage: {@code VelocityTiming [--device=auto] [--batch=64] [--repeats=10] [--warmup=3]
 * [--shape=small|dit-b-2|dit-xl-2] [--blocks=L,L,…] [--deadBlocks=skip|run]
 * [--precision=fp32|bf16]}. {@code --blocks}
 * defaults to every allowed L. {@code --deadBlocks=run} times what a runtime that does not skip
 * the blocks after the last group end below L would cost (the reference's loop): the same network
 * with G replaced by gcd(depth_min, G), so that every one of the L blocks ends a group and runs
 * (same parameters and per-block cost; it only matters when depth_min is not a multiple of G, e.g.
 * DiT-XL/2 at L = 12 runs 8 blocks skipping, 12 not). Prints one line per L to standard output.
 */
public final class VelocityTiming {

  /** The benchmark network of the issue: 6 blocks, width 128, 32×32, patch 4, 4 heads, G = 2. */
  public static final ModelConfig CONFIG = new ModelConfig(32, 3, 4, 128, 4, 4f, 6, 2, 2, 10, 7);

  private VelocityTiming() {}

  /** The architecture {@code --shape} names. */
  static ModelConfig shape(String name) {
    if (name.equalsIgnoreCase("small")) {
      return CONFIG;
    }
    return RandomPackages.PaperShape.parse(name).config(1000);
  }

  /**
   * {@code config} with G replaced by gcd(depth_min, G): the same parameters, and every block count
   * {@code config} allows is still allowed but now ends on a group boundary, so all L blocks run.
   */
  static ModelConfig runningEveryBlock(ModelConfig c) {
    int g = gcd(c.depthMin(), c.groupSize());
    return new ModelConfig(
        c.imageSize(),
        c.channels(),
        c.patchSize(),
        c.hiddenSize(),
        c.numHeads(),
        c.mlpRatio(),
        c.depth(),
        c.depthMin(),
        g,
        c.numClasses(),
        c.maxStepLevel(),
        c.positionLayout());
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  public static void main(String[] args) {
    Map<String, String> a = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("Expected --name=value, got '" + arg + "'");
      }
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    String device = a.getOrDefault("device", "auto");
    int batch = Integer.parseInt(a.getOrDefault("batch", "64"));
    int repeats = Integer.parseInt(a.getOrDefault("repeats", "10"));
    int warmup = Integer.parseInt(a.getOrDefault("warmup", "3"));
    ModelConfig shape = shape(a.getOrDefault("shape", "small"));
    String dead = a.getOrDefault("deadBlocks", "skip");
    if (!dead.equals("skip") && !dead.equals("run")) {
      throw new IllegalArgumentException("--deadBlocks must be skip or run, got '" + dead + "'");
    }
    ModelConfig config = dead.equals("run") ? runningEveryBlock(shape) : shape;
    Precision precision = Precision.parse(a.getOrDefault("precision", "fp32"));
    List<Integer> blockCounts = new ArrayList<>();
    if (a.containsKey("blocks")) {
      for (String l : a.get("blocks").split(",")) {
        blockCounts.add(Integer.parseInt(l.trim()));
      }
    } else {
      blockCounts.addAll(shape.allowedBlocks());
    }
    for (int l : blockCounts) {
      if (!shape.isAllowedBlocks(l)) {
        throw new IllegalArgumentException(
            "--blocks: " + l + " is not allowed; allowed: " + shape.allowedBlocks());
      }
    }
    a.keySet()
        .removeAll(
            List.of(
                "device", "batch", "repeats", "warmup", "shape", "deadBlocks", "blocks", "precision"));
    if (!a.isEmpty()) {
      throw new IllegalArgumentException("Unknown option(s) " + a.keySet());
    }
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
              + " (depth_min %d, G=%d, dead blocks %s), %d warm-up + median of %d%n",
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
          config.depthMin(),
          shape.groupSize(),
          dead.equals("run") ? "run" : "skipped",
          warmup,
          repeats);
      for (int blocks : blockCounts) {
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
            "L=%d (%d blocks run): %.2f ms per velocity call (min %.2f, max %.2f),"
                + " %.3f ms per image%n",
            blocks,
            config.blocksRun(blocks),
            median,
            millis[0],
            millis[repeats - 1],
            median / batch);
      }
    }
  }
}
