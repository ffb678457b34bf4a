package dev.odelt.model.tools;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.Tier;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.sample.BatchSplitter;
import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.Sampler;
import dev.odelt.model.vae.ImageDecoder;
import dev.odelt.model.vae.VaeConfig;
import dev.odelt.proto.v1.Normalization;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * The device check of deploy/gpu/check.sh: on one device (a GPU, or the CPU for a dry run) it
 * measures and writes {@code results.json} under {@code --out}:
 *
 * <ul>
 *   <li>{@code matmul_peak}: TFLOP/s of a square matrix product in bf16 and fp32 (the ceiling the
 *       tiers are compared with);
 *   <li>{@code parity}: a small random network on the CPU and on the device, fp32 and bf16: max |a
 *       − b| / max |b| of the velocity;
 *   <li>{@code tiers}: DiT-B/2 and DiT-XL/2 shapes with random weights, per precision, batch and
 *       block count L: ms per velocity call, Euler tier latencies measured through the {@link
 *       Sampler} for S = 1 and 4, and S = 128 estimated as 32 × the S = 4 latency (Euler cost is
 *       linear in S), images per second;
 *   <li>{@code oom_split}: a batch too large for the device run through {@link BatchSplitter}, its
 *       images compared with the same items sampled alone;
 *   <li>{@code decoders}: the full Stable Diffusion decoder and the tiny one (TAESD), random
 *       weights, per precision: ms per call of 32 latents of 32×32×4 (256×256 images), ms per
 *       image, and each precision's max |a − b| / max |b| against the first one on one image.
 * </ul>
 *
 * <p>Every section records its own failure (with the stack trace) instead of stopping the run, so
 * one call of the script brings back everything that worked; the exit code is 1 when a section
 * failed. Usage: {@code GpuCheck --out=DIR [--device=auto] [--quick] [--shapes=dit-b-2,dit-xl-2]
 * [--batches=64,256] [--precisions=fp32,bf16] [--repeats=5] [--oomBatch=65536]}; {@code --quick} is
 * the CPU dry run (the small network only, batch 2, one repeat).
 */
public final class GpuCheck {

  private static final Normalization PIXELS =
      Normalization.newBuilder().setSpace("latent").setScale(0.5f).setShift(0.5f).build();

  private final Device device;
  private final boolean quick;
  private final List<String> shapes;
  private final List<Integer> batches;
  private final List<Precision> precisions;
  private final int repeats;
  private final int oomBatch;
  private boolean failed;

  private GpuCheck(
      Device device,
      boolean quick,
      List<String> shapes,
      List<Integer> batches,
      List<Precision> precisions,
      int repeats,
      int oomBatch) {
    this.device = device;
    this.quick = quick;
    this.shapes = shapes;
    this.batches = batches;
    this.precisions = precisions;
    this.repeats = repeats;
    this.oomBatch = oomBatch;
  }

  public static void main(String[] args) throws IOException {
    System.exit(run(args));
  }

  /**
   * Runs the check and writes {@code results.json}.
   *
   * @return 0 when every section succeeded, else 1
   * @throws IllegalArgumentException for bad arguments
   */
  public static int run(String... args) throws IOException {
    String out = null;
    String deviceName = "auto";
    boolean quick = false;
    List<String> shapes = List.of("dit-b-2", "dit-xl-2");
    List<Integer> batches = List.of(64, 256);
    List<Precision> precisions = List.of(Precision.FP32, Precision.BF16);
    int repeats = 5;
    int oomBatch = 65536;
    for (String arg : args) {
      String[] kv = arg.split("=", 2);
      String value = kv.length == 2 ? kv[1] : "";
      switch (kv[0]) {
        case "--out" -> out = value;
        case "--device" -> deviceName = value;
        case "--quick" -> quick = true;
        case "--shapes" -> shapes = List.of(value.split(","));
        case "--batches" ->
            batches = Arrays.stream(value.split(",")).map(Integer::valueOf).toList();
        case "--precisions" ->
            precisions = Arrays.stream(value.split(",")).map(Precision::parse).toList();
        case "--repeats" -> repeats = Integer.parseInt(value);
        case "--oomBatch" -> oomBatch = Integer.parseInt(value);
        default -> throw new IllegalArgumentException("Unknown option " + arg);
      }
    }
    if (out == null) {
      throw new IllegalArgumentException("--out=DIR is required");
    }
    if (quick) {
      shapes = List.of("small");
      batches = List.of(2);
      repeats = 1;
      oomBatch = 8;
    }
    for (String shape : shapes) {
      if (!List.of("small", "dit-b-2", "dit-xl-2").contains(shape)) {
        throw new IllegalArgumentException("Unknown shape '" + shape + "'");
      }
    }
    GpuCheck check =
        new GpuCheck(
            Models.resolveDevice(deviceName),
            quick,
            shapes,
            batches,
            precisions,
            repeats,
            oomBatch);
    JsonObject results = check.run();
    Path dir = Path.of(out);
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("results.json"),
        new GsonBuilder()
                .disableHtmlEscaping()
                .setPrettyPrinting()
                .serializeSpecialFloatingPointValues()
                .create()
                .toJson(results)
            + "\n",
        StandardCharsets.UTF_8);
    System.out.println("wrote " + dir.resolve("results.json") + (check.failed ? " (FAILED)" : ""));
    return check.failed ? 1 : 0;
  }

  private JsonObject run() {
    JniUtils.setGradMode(false);
    JsonObject root = new JsonObject();
    JsonObject env = new JsonObject();
    env.addProperty("started", Instant.now().toString());
    env.addProperty("device", device.toString());
    env.addProperty("engine", Engine.getInstance().getEngineName());
    env.addProperty("engine_version", Engine.getInstance().getVersion());
    env.addProperty("gpus", Engine.getInstance().getGpuCount());
    env.addProperty("java", System.getProperty("java.version"));
    env.addProperty("intra_op_threads", JniUtils.getNumThreads());
    env.addProperty("quick", quick);
    root.add("environment", env);
    root.add("matmul_peak", section("matmul_peak", this::matmulPeak));
    root.add("parity", section("parity", this::parity));
    root.add("tiers", section("tiers", this::tiers));
    root.add("oom_split", section("oom_split", this::oomSplit));
    root.add("decoders", section("decoders", this::decoders));
    env.addProperty("finished", Instant.now().toString());
    return root;
  }

  private JsonObject section(String name, Supplier<JsonObject> body) {
    long start = System.nanoTime();
    JsonObject result;
    try {
      result = body.get();
    } catch (RuntimeException | Error e) {
      failed = true;
      result = new JsonObject();
      StringWriter trace = new StringWriter();
      e.printStackTrace(new PrintWriter(trace));
      result.addProperty("error", e.toString());
      result.addProperty("trace", trace.toString());
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    result.addProperty("seconds", seconds);
    System.out.printf(
        Locale.ROOT, "%s: %.1f s%s%n", name, seconds, result.has("error") ? " ERROR" : "");
    return result;
  }

  /**
   * Median milliseconds of {@code repeats} runs after {@code warmup}. Each run gets a fresh
   * sub-manager of {@code parent} (its intermediates are freed before the next run): {@code
   * prepare} makes the inputs there, untimed, and returns the timed call; reading one value of the
   * result waits for asynchronous (GPU) work.
   */
  private static double medianMillis(
      NDManager parent, int warmup, int repeats, Function<NDManager, Supplier<NDArray>> prepare) {
    double[] ms = new double[repeats];
    for (int r = -warmup; r < repeats; r++) {
      double elapsed;
      try (NDManager scope = parent.newSubManager()) {
        Supplier<NDArray> call = prepare.apply(scope);
        long start = System.nanoTime();
        NDArray result = call.get();
        Precision.FP32.cast(result.flatten().get(0)).getFloat();
        elapsed = (System.nanoTime() - start) / 1e6;
        result.close();
      }
      if (r >= 0) {
        ms[r] = elapsed;
      }
    }
    Arrays.sort(ms);
    return repeats % 2 == 1 ? ms[repeats / 2] : (ms[repeats / 2 - 1] + ms[repeats / 2]) / 2;
  }

  private JsonObject matmulPeak() {
    JsonObject result = new JsonObject();
    int n = quick ? 512 : 8192;
    result.addProperty("n", n);
    for (Precision p : precisions) {
      try (NDManager m = NDManager.newBaseManager(device)) {
        NDArray a = p.cast(m.randomNormal(new Shape(n, n)));
        NDArray b = p.cast(m.randomNormal(new Shape(n, n)));
        double ms = medianMillis(m, 2, Math.max(3, repeats), scope -> () -> a.matMul(b));
        result.addProperty(p.label() + "_ms", ms);
        result.addProperty(p.label() + "_tflops", 2.0 * n * n * (double) n / (ms / 1e3) / 1e12);
      }
    }
    return result;
  }

  /**
   * Both decoders in every precision at batch 32 of 32×32×4 latents ({@code --quick}: batch 1 of
   * 4×4): ms per call and per image, and the distance of each precision from the first on one
   * image.
   */
  private JsonObject decoders() {
    JsonObject result = new JsonObject();
    int batch = quick ? 1 : 32;
    int side = quick ? 4 : 32;
    int channels = 4;
    result.addProperty("batch", batch);
    result.addProperty("latent_side", side);
    float[] z = GaussianNoise.standardNormal(7, batch * channels * side * side);
    float[] one = Arrays.copyOf(z, channels * side * side);
    for (String name : List.of("full", "tiny")) {
      VaeConfig config = name.equals("full") ? VaeConfig.stableDiffusion() : VaeConfig.taesd();
      float[] reference = null;
      for (Precision p : precisions) {
        JsonObject row = new JsonObject();
        try (NDManager m = NDManager.newBaseManager(device)) {
          ImageDecoder decoder = ImageDecoder.create(config);
          decoder.initialize(m, 1, p);
          double ms =
              medianMillis(
                  m,
                  1,
                  repeats,
                  scope -> {
                    NDArray latents = scope.create(z, new Shape(batch, channels, side, side));
                    return () -> decoder.decode(latents);
                  });
          row.addProperty("ms_per_call", ms);
          row.addProperty("ms_per_image", ms / batch);
          try (NDManager scope = m.newSubManager()) {
            float[] image =
                decoder
                    .decode(scope.create(one, new Shape(1, channels, side, side)))
                    .toFloatArray();
            if (reference == null) {
              reference = image;
            } else {
              row.addProperty(
                  "max_rel_diff_vs_" + precisions.get(0).label(),
                  relativeMaxDiff(image, reference));
            }
          }
        }
        result.add(name + "_" + p.label(), row);
      }
    }
    return result;
  }

  private static NDArray[] inputs(NDManager m, ModelConfig config, int batch) {
    int perImage = config.channels() * config.imageSize() * config.imageSize();
    float[] noise = new float[batch * perImage];
    float[] t = new float[batch];
    float[] d = new float[batch];
    int[] y = new int[batch];
    for (int i = 0; i < batch; i++) {
      GaussianNoise.fill(i, 0, noise, i * perImage, perImage);
      t[i] = (i + 0.5f) / batch;
      d[i] = i % (config.maxStepLevel() + 1);
      y[i] = i % (config.numClasses() + 1);
    }
    return new NDArray[] {
      m.create(noise, new Shape(batch, config.channels(), config.imageSize(), config.imageSize())),
      m.create(t),
      m.create(d),
      m.create(y)
    };
  }

  private static float[] velocity(
      Device on, ModelConfig config, Precision precision, int batch, int blocks) {
    try (NDManager m = NDManager.newBaseManager(on)) {
      OdeltNetwork network = new OdeltNetwork(config);
      network.initialize(m, 11, OdeltNetwork.Init.RANDOM, precision);
      NDArray[] in = inputs(m, config, batch);
      return network
          .velocity(new ParameterStore(m, false), in[0], in[1], in[2], in[3], blocks, false)
          .toFloatArray();
    }
  }

  private static double relativeMaxDiff(float[] a, float[] b) {
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    return diff / scale;
  }

  private JsonObject parity() {
    ModelConfig config = VelocityTiming.CONFIG;
    int batch = 16;
    int blocks = config.depth();
    float[] cpu32 = velocity(Device.cpu(), config, Precision.FP32, batch, blocks);
    float[] cpu16 = velocity(Device.cpu(), config, Precision.BF16, batch, blocks);
    float[] dev32 = velocity(device, config, Precision.FP32, batch, blocks);
    float[] dev16 = velocity(device, config, Precision.BF16, batch, blocks);
    JsonObject result = new JsonObject();
    result.addProperty("network", "VelocityTiming.CONFIG, random weights, batch 16, L=" + blocks);
    result.addProperty("device_fp32_vs_cpu_fp32", relativeMaxDiff(dev32, cpu32));
    result.addProperty("device_bf16_vs_device_fp32", relativeMaxDiff(dev16, dev32));
    result.addProperty("device_bf16_vs_cpu_bf16", relativeMaxDiff(dev16, cpu16));
    result.addProperty("cpu_bf16_vs_cpu_fp32", relativeMaxDiff(cpu16, cpu32));
    result.addProperty(
        "bounds_from_cpu_tests",
        "bf16 vs fp32 velocity: 0.02 (tiny random net), 0.04 (bundled model); PrecisionTest");
    return result;
  }

  private static List<SampleItem> items(int batch, int classes) {
    List<SampleItem> items = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      items.add(new SampleItem(i % classes, 1000L + i));
    }
    return items;
  }

  private JsonObject tiers() {
    JsonArray rows = new JsonArray();
    for (String shape : shapes) {
      ModelConfig config;
      try {
        config = VelocityTiming.shape(shape);
      } catch (IllegalArgumentException e) {
        // One shape the architecture check rejects must not cost the other shapes' rows.
        failed = true;
        JsonObject row = new JsonObject();
        row.addProperty("shape", shape);
        row.addProperty("error", e.toString());
        rows.add(row);
        continue;
      }
      for (Precision precision : precisions) {
        try (NDManager m = NDManager.newBaseManager(device)) {
          OdeltNetwork network = new OdeltNetwork(config);
          network.initialize(m, 1, OdeltNetwork.Init.RANDOM, precision);
          Sampler sampler = new Sampler(network, m, PIXELS);
          for (int batch : batches) {
            for (int blocks : config.allowedBlocks()) {
              rows.add(tierRow(shape, config, precision, network, sampler, m, batch, blocks));
              System.out.printf(
                  Locale.ROOT, "  %s %s batch %d L=%d%n", shape, precision, batch, blocks);
            }
          }
        }
      }
    }
    JsonObject result = new JsonObject();
    result.add("rows", rows);
    result.addProperty(
        "note",
        "s1_ms and s4_ms are measured Euler tiers through the Sampler (noise, solver, guidance"
            + " off); s128_ms is estimated as 32 × s4_ms");
    return result;
  }

  private JsonObject tierRow(
      String shape,
      ModelConfig config,
      Precision precision,
      OdeltNetwork network,
      Sampler sampler,
      NDManager m,
      int batch,
      int blocks) {
    JsonObject row = new JsonObject();
    row.addProperty("shape", shape);
    row.addProperty("precision", precision.label());
    row.addProperty("batch", batch);
    row.addProperty("blocks", blocks);
    double callMs =
        medianMillis(
            m,
            2,
            repeats,
            scope -> {
              NDArray[] in = inputs(scope, config, batch);
              ParameterStore ps = new ParameterStore(scope, false);
              return () -> network.velocity(ps, in[0], in[1], in[2], in[3], blocks, false);
            });
    row.addProperty("call_ms", callMs);
    List<SampleItem> items = items(batch, config.numClasses());
    for (int steps : new int[] {1, 4}) {
      Tier tier = Tier.of(steps, blocks);
      try (NDManager call = m.newSubManager()) {
        sampler.solve(call, items, tier).x().close(); // warm-up of this shape
        long start = System.nanoTime();
        NDArray x = sampler.solve(call, items, tier).x();
        x.get(0, 0, 0, 0).getFloat();
        double ms = (System.nanoTime() - start) / 1e6;
        row.addProperty("s" + steps + "_ms", ms);
        row.addProperty("s" + steps + "_images_per_s", batch / (ms / 1e3));
      }
    }
    double s128 = 32 * row.get("s4_ms").getAsDouble();
    row.addProperty("s128_ms_estimated", s128);
    row.addProperty("s128_images_per_s_estimated", batch / (s128 / 1e3));
    return row;
  }

  private JsonObject oomSplit() {
    ModelConfig config = VelocityTiming.shape(quick ? "small" : "dit-b-2");
    Precision precision = precisions.contains(Precision.BF16) ? Precision.BF16 : Precision.FP32;
    Tier tier = Tier.of(1, config.depthMin());
    JsonObject result = new JsonObject();
    result.addProperty("shape", quick ? "small" : "dit-b-2");
    result.addProperty("precision", precision.label());
    result.addProperty("tier", tier.label());
    result.addProperty("batch", oomBatch);
    try (NDManager m = NDManager.newBaseManager(device)) {
      OdeltNetwork network = new OdeltNetwork(config);
      network.initialize(m, 1, OdeltNetwork.Init.RANDOM, precision);
      Sampler sampler = new Sampler(network, m, PIXELS);
      List<SampleItem> items = items(oomBatch, config.numClasses());
      List<BatchSplitter.Part<SampleItem, List<GeneratedImage>>> parts =
          BatchSplitter.run(items, list -> sampler.sample(list, tier).images());
      JsonArray sizes = new JsonArray();
      parts.forEach(p -> sizes.add(p.items().size()));
      result.add("parts", sizes);
      result.addProperty("split", parts.size() > 1);
      int[] probes =
          IntStream.of(0, oomBatch / 2 - 1, oomBatch / 2, oomBatch - 1)
              .filter(i -> i >= 0)
              .distinct()
              .toArray();
      int maxDiff = 0;
      for (int index : probes) {
        GeneratedImage alone = sampler.sample(List.of(items.get(index)), tier).images().get(0);
        GeneratedImage inParts = null;
        for (BatchSplitter.Part<SampleItem, List<GeneratedImage>> p : parts) {
          if (index >= p.offset() && index < p.offset() + p.items().size()) {
            inParts = p.result().get(index - p.offset());
          }
        }
        byte[] a = alone.pixels();
        byte[] b = inParts.pixels();
        for (int i = 0; i < a.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs((a[i] & 0xFF) - (b[i] & 0xFF)));
        }
      }
      result.addProperty("probe_images", probes.length);
      result.addProperty("max_pixel_diff_vs_alone", maxDiff);
      if (parts.size() == 1) {
        result.addProperty(
            "note", "no out-of-memory at this batch: the split path was not exercised");
      }
    }
    return result;
  }
}
