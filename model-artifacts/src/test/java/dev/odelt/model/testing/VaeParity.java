package dev.odelt.model.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.odelt.model.io.DiffusersVae;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.vae.DecodeLatents;
import dev.odelt.model.vae.LoadedVae;
import dev.odelt.model.vae.Vaes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The Java half of the VAE parity check (tools/vae_parity.sh) and of its one-off timing, calling
 * the library's entry points as the CLI will.
 *
 * <p>Usage:
 *
 * <ul>
 *   <li>{@code VaeParity import DIFFUSERS_DIR PACKAGE_DIR}
 *   <li>{@code VaeParity decode PACKAGE IN.safetensors OUT.safetensors [BATCH]}
 *   <li>{@code VaeParity time PACKAGE H W BATCH REPEATS}: decodes random (BATCH, 4, H, W) latents
 *       once to warm up, then REPEATS times; prints one JSON line with the seconds of each call,
 *       seconds per image and the process's peak resident memory (VmHWM).
 * </ul>
 */
public final class VaeParity {

  private VaeParity() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: VaeParity import|decode|time ...");
    }
    switch (args[0]) {
      case "import" -> {
        System.out.println(DiffusersVae.importFolder(args[1], args[2]).getWeights().getSha256());
      }
      case "decode" -> {
        int batch = args.length > 4 ? Integer.parseInt(args[4]) : 8;
        DecodeLatents.Summary s = DecodeLatents.run(args[1], args[2], args[3], "cpu", batch);
        System.out.printf(
            Locale.ROOT,
            "decoded %d images of %dx%d in %.3f s%n",
            s.images(),
            s.height(),
            s.width(),
            s.seconds());
      }
      case "time" ->
          time(
              args[1],
              Integer.parseInt(args[2]),
              Integer.parseInt(args[3]),
              Integer.parseInt(args[4]),
              Integer.parseInt(args[5]));
      default -> throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }

  private static void time(String vaeAt, int h, int w, int batch, int repeats) throws IOException {
    try (LoadedVae vae = Vaes.load(vaeAt, "cpu")) {
      float[] z = GaussianNoise.standardNormal(7, batch * 4 * h * w);
      List<Double> seconds = new ArrayList<>();
      for (int i = 0; i <= repeats; i++) {
        long start = System.nanoTime();
        try (NDManager call = vae.manager().newSubManager()) {
          NDArray images = vae.decode(call.create(z, new Shape(batch, 4, h, w)));
          images.toFloatArray();
        }
        if (i > 0) {
          seconds.add((System.nanoTime() - start) / 1e9);
        }
      }
      double mean = seconds.stream().mapToDouble(Double::doubleValue).average().orElse(0);
      System.out.printf(
          Locale.ROOT,
          "{\"batch\": %d, \"latent\": [%d, %d], \"seconds\": %s, \"seconds_per_image\": %.3f,"
              + " \"peak_rss_mib\": %d, \"threads\": \"%s\"}%n",
          batch,
          h,
          w,
          seconds,
          mean / batch,
          peakRssKib() / 1024,
          System.getProperty("ai.djl.pytorch.num_threads", "default"));
    }
  }

  /** The process's peak resident set (VmHWM), in KiB; 0 where /proc is not available. */
  private static long peakRssKib() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.exists(status)) {
      return 0;
    }
    for (String line : Files.readAllLines(status, StandardCharsets.UTF_8)) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return 0;
  }
}
