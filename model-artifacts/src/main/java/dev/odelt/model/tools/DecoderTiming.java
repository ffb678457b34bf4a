package dev.odelt.model.tools;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.sample.NativeHeap;
import dev.odelt.model.vae.ImageDecoder;
import dev.odelt.model.vae.VaeConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Milliseconds per decoded image of random-weight decoders, the full Stable Diffusion decoder
 * ({@code full}) and the tiny TAESD one ({@code tiny}), each in fp32 or bf16, timed side by side in
 * one process (the variants take turns within every repeat, so a busy machine slows them alike),
 * and each variant's distance on the same latents from the first variant of the same decoder (the
 * same random weights; e.g. bf16 against fp32): max |Δ| over that one's max |x|, and the mean
 * difference of the 8-bit pixels round(255 · clamp(0.5·x + 0.5, 0, 1)).
 *
 * <p>Usage: {@code DecoderTiming [--device=cpu] [--batch=1] [--size=32] [--repeats=5] [--warmup=1]
 * [--variants=full:fp32,full:bf16]}. {@code --size} is the latent side (32: 256×256 images). Prints
 * one line per variant to standard output.
 */
public final class DecoderTiming {

  private DecoderTiming() {}

  /** One decoder in one precision. */
  private record Variant(String name, UnaryOperator<NDArray> decode) {}

  public static void main(String[] args) {
    Map<String, String> a = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("Expected --name=value, got '" + arg + "'");
      }
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    String device = a.getOrDefault("device", "cpu");
    int batch = Integer.parseInt(a.getOrDefault("batch", "1"));
    int size = Integer.parseInt(a.getOrDefault("size", "32"));
    int repeats = Integer.parseInt(a.getOrDefault("repeats", "5"));
    int warmup = Integer.parseInt(a.getOrDefault("warmup", "1"));
    List<String> names =
        Arrays.asList(a.getOrDefault("variants", "full:fp32,full:bf16").split(","));
    a.keySet().removeAll(List.of("device", "batch", "size", "repeats", "warmup", "variants"));
    if (!a.isEmpty()) {
      throw new IllegalArgumentException("Unknown option(s) " + a.keySet());
    }
    Device resolved = Models.resolveDevice(device);
    if (!resolved.isGpu()) {
      NativeHeap.keepPages(); // as a job on the CPU does
    }
    JniUtils.setGradMode(false);
    try (NDManager manager = NDManager.newBaseManager(resolved)) {
      List<Variant> variants = new ArrayList<>();
      for (String name : names) {
        variants.add(variant(manager, name.trim()));
      }
      int latentChannels = 4;
      float[] latents =
          GaussianNoise.standardNormal(7, batch * latentChannels * size * size); // (B, 4, h, w)
      int n = variants.size();
      float[][] outputs = new float[n][];
      long[][] nanos = new long[n][repeats];
      for (int r = -warmup; r < repeats; r++) {
        for (int v = 0; v < n; v++) {
          try (NDManager call = manager.newSubManager()) {
            NDArray z = call.create(latents, new Shape(batch, latentChannels, size, size));
            long start = System.nanoTime();
            NDArray images = variants.get(v).decode().apply(z);
            float[] values = images.toFloatArray();
            long elapsed = System.nanoTime() - start;
            if (r >= 0) {
              nanos[v][r] = elapsed;
            }
            outputs[v] = values;
          }
        }
      }
      System.out.printf(
          Locale.ROOT,
          "decoder timing on %s: batch %d, latents %dx%dx%d, %d warm-up + median of %d%n",
          resolved,
          batch,
          size,
          size,
          latentChannels,
          warmup,
          repeats);
      double first = 0;
      for (int v = 0; v < n; v++) {
        long[] t = nanos[v].clone();
        Arrays.sort(t);
        double msPerImage = t[repeats / 2] / 1e6 / batch;
        if (v == 0) {
          first = msPerImage;
        }
        int reference = sameDecoder(variants, v);
        System.out.printf(
            Locale.ROOT,
            "%-12s %10.1f ms/image  %6.2fx vs %s  against %s: max|d|/max %.5f, mean 8-bit pixel"
                + " diff %.4f%n",
            variants.get(v).name(),
            msPerImage,
            first / msPerImage,
            variants.get(0).name(),
            variants.get(reference).name(),
            relativeMaxDifference(outputs[reference], outputs[v]),
            meanPixelDifference(outputs[reference], outputs[v]));
      }
    }
  }

  /** The first variant with the same decoder (same weights) as variant {@code v}. */
  private static int sameDecoder(List<Variant> variants, int v) {
    String decoder = variants.get(v).name().split(":")[0];
    for (int i = 0; i < v; i++) {
      if (variants.get(i).name().split(":")[0].equals(decoder)) {
        return i;
      }
    }
    return v;
  }

  private static Variant variant(NDManager manager, String name) {
    String[] parts = name.split(":");
    if (parts.length != 2) {
      throw new IllegalArgumentException("--variants: expected decoder:precision, got " + name);
    }
    Precision precision = Precision.parse(parts[1]);
    VaeConfig config =
        switch (parts[0]) {
          case "full" -> VaeConfig.stableDiffusion();
          case "tiny" -> VaeConfig.taesd();
          default ->
              throw new IllegalArgumentException(
                  "--variants: unknown decoder '" + parts[0] + "' (full or tiny)");
        };
    ImageDecoder decoder = ImageDecoder.create(config);
    decoder.initialize(manager, 1, precision);
    return new Variant(name, decoder::decode);
  }

  /** max |a − b| / max |a|. */
  static double relativeMaxDifference(float[] a, float[] b) {
    double max = 0;
    double diff = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i]));
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
    }
    return max == 0 ? diff : diff / max;
  }

  /** Mean |p(a) − p(b)| of the 8-bit pixels p(x) = round(255 · clamp(0.5·x + 0.5, 0, 1)). */
  static double meanPixelDifference(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += Math.abs(pixel(a[i]) - pixel(b[i]));
    }
    return sum / a.length;
  }

  private static int pixel(float x) {
    return Math.round(255f * Math.min(1f, Math.max(0f, 0.5f * x + 0.5f)));
  }
}
