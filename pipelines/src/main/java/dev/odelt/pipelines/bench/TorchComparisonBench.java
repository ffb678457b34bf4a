package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.Timing.fmt;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.Utils;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DJL against the PyTorch reference ({@code model-artifacts/tools/reference.py time}, Debian's
 * python3-torch): the same velocity calls with the same weights, inputs, batch and thread count,
 * for each allowed L, DJL and PyTorch timings interleaved round by round.
 */
public final class TorchComparisonBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(TorchComparisonBench.class);
  private static final String PYTHON = "/usr/bin/python3";

  @Override
  public String id() {
    return "torch";
  }

  @Override
  public Section run(BenchContext ctx) throws Exception {
    String title = "Against PyTorch: DJL vs the reference network";
    Path script = ctx.repoRoot().resolve("model-artifacts/tools/reference.py");
    String missing = torchMissing(script);
    if (missing != null) {
      return new Section(
          id(),
          title,
          "Would time reference.py `time` against DJL on the same velocity calls.",
          List.of(),
          List.of(new Section.Goal("DJL time / PyTorch time", "≤ 1.0", "not measured", false)),
          List.of(
              missing
                  + " Install Debian's python3-torch (`apt-get install python3-torch`, as"
                  + " model-artifacts/tools/parity.sh does in CI) and run again."),
          Map.of("skipped", missing),
          List.of());
    }
    LoadedModel model = Models.shared(ctx.modelLocation(), "cpu");
    ModelConfig config = model.config();
    int batch = ctx.shortMode() ? 8 : 64;
    // Debian's torch multiplies with the reference BLAS: seconds per call at batch 64, so few
    // calls.
    int rounds = ctx.shortMode() ? 1 : 2;
    int repeats = ctx.shortMode() ? 1 : 3;
    List<Integer> blocksList = config.allowedBlocks();
    if (ctx.shortMode()) {
      blocksList = List.of(blocksList.get(0), blocksList.get(blocksList.size() - 1));
    }

    Path dir = ctx.workDir().resolve("torch");
    Path pkg = dir.resolve("package");
    copyPackage(model.location(), pkg);
    int perImage = config.channels() * config.imageSize() * config.imageSize();
    float[] x = new float[batch * perImage];
    float[] t = new float[batch];
    float[] d = new float[batch];
    float[] y = new float[batch];
    for (int i = 0; i < batch; i++) {
      GaussianNoise.fill(7_000 + i, GaussianNoise.INITIAL_NOISE_STREAM, x, i * perImage, perImage);
      t[i] = (i + 0.5f) / batch;
      d[i] = i % (config.maxStepLevel() + 1);
      y[i] = i % config.numClasses();
    }
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    inputs.put(
        "x",
        new Tensor(
            new long[] {batch, config.channels(), config.imageSize(), config.imageSize()}, x));
    inputs.put("t", new Tensor(new long[] {batch}, t));
    inputs.put("d", new Tensor(new long[] {batch}, d));
    inputs.put("y", new Tensor(new long[] {batch}, y));
    Path inputFile = dir.resolve("inputs.safetensors");
    Files.write(inputFile, SafeTensors.write(inputs, Map.of()));

    Map<Integer, List<Double>> djl = new LinkedHashMap<>();
    Map<Integer, List<Double>> torch = new LinkedHashMap<>();
    JsonObject torchInfo = null;
    for (int r = 0; r < rounds; r++) {
      for (int l : blocksList) {
        djl.computeIfAbsent(l, k -> new ArrayList<>())
            .addAll(djlMillis(model, x, t, d, y, batch, l, repeats));
        JsonObject json =
            python(script, pkg, inputFile, l, ctx.threads(), repeats, torchInfo == null);
        if (torchInfo == null) {
          torchInfo = json;
        }
        List<Double> ms = new ArrayList<>();
        json.getAsJsonArray("millis").forEach(e -> ms.add(e.getAsDouble()));
        torch.computeIfAbsent(l, k -> new ArrayList<>()).addAll(ms);
        LOG.info(
            "torch round {}/{} L={}: DJL {} ms, PyTorch {} ms",
            r + 1,
            rounds,
            l,
            fmt(Timing.median(djl.get(l)), 2),
            fmt(json.get("median_ms").getAsDouble(), 2));
      }
    }

    List<List<String>> rows = new ArrayList<>();
    List<Section.Goal> goals = new ArrayList<>();
    Map<String, Object> raw = new LinkedHashMap<>();
    double worst = 0;
    for (int l : blocksList) {
      double a = Timing.median(djl.get(l));
      double b = Timing.median(torch.get(l));
      worst = Math.max(worst, a / b);
      rows.add(List.of(Integer.toString(l), fmt(a, 2), fmt(b, 2), fmt(a / b, 3)));
      raw.put(
          "L" + l, Map.of("djlMillis", djl.get(l), "torchMillis", torch.get(l), "ratio", a / b));
      goals.add(
          new Section.Goal(
              "L=" + l + ": DJL time / PyTorch time", "≤ 1.0", fmt(a / b, 3), a / b <= 1.0));
    }
    String torchVersion = torchInfo.get("torch").getAsString();
    List<String> blas = new ArrayList<>();
    torchInfo.getAsJsonArray("blas").forEach(e -> blas.add(e.getAsString()));
    String torchConfig = torchInfo.has("config") ? torchInfo.get("config").getAsString() : "";
    String djlBuild = djlNativeBuild();
    raw.put("torchVersion", torchVersion);
    raw.put("torchBlas", blas);
    raw.put("torchConfig", torchConfig);
    raw.put("djlPytorch", Engine.getEngine("PyTorch").getVersion());
    raw.put("djlNativeBuild", djlBuild);

    List<String> findings = new ArrayList<>();
    String blasLine =
        torchConfig.lines().filter(s -> s.contains("BLAS_INFO")).findFirst().orElse("");
    boolean genericBlas = blasLine.contains("BLAS_INFO=generic");
    findings.add(
        "The two sides are different PyTorch builds. DJL runs PyTorch "
            + Engine.getEngine("PyTorch").getVersion()
            + " from the official CPU build ("
            + djlBuild
            + "). The reference runs Debian's torch "
            + torchVersion
            + (genericBlas ? " built with BLAS_INFO=generic" : "")
            + ", whose matrix products go to the system BLAS it mapped: "
            + (blas.isEmpty() ? "none found" : String.join(", ", blas))
            + ". So the ratio compares builds (MKL vs the Debian BLAS, PyTorch 2.5 vs 1.13) as much"
            + " as DJL's per-op overhead against Python's; it is not a statement that DJL beats"
            + " PyTorch on equal builds.");
    findings.add(
        worst <= 1.0
            ? "DJL is at most as slow as the reference for every L (worst ratio "
                + fmt(worst, 3)
                + ")."
            : "DJL is slower than the reference for some L (worst ratio "
                + fmt(worst, 3)
                + "); see the utilisation section for where DJL's time goes.");
    findings.add(
        "torch.__config__.show() of the reference:\n\n```\n" + torchConfig.strip() + "\n```");
    String method =
        "Same weights (the package copied to a directory and read by reference.py), same inputs"
            + " (x from the sampler's noise, t, d, y written to a safetensors file), batch "
            + batch
            + ", "
            + ctx.threads()
            + " intra-op thread(s) and 1 inter-op thread on both sides, no autograd. "
            + rounds
            + " round(s); in each, for each L, DJL times "
            + repeats
            + " velocity call(s) (after 1 warm-up) in this JVM, then `reference.py time` times "
            + repeats
            + " call(s) (after 1 warm-up) in a fresh /usr/bin/python3 process. Medians over all"
            + " timed calls; only the velocity call is timed (not input creation or process"
            + " start).";
    return new Section(
        id(),
        title,
        method,
        List.of(
            new Section.Table(
                "Milliseconds per velocity call (batch " + batch + ")",
                List.of("L", "DJL ms", "PyTorch ms", "DJL / PyTorch"),
                rows)),
        goals,
        findings,
        raw,
        List.of());
  }

  /** Why the reference cannot run here, or null when it can. */
  private static String torchMissing(Path script) throws InterruptedException {
    if (!Files.isRegularFile(script)) {
      return script + " is missing.";
    }
    if (!Files.isExecutable(Path.of(PYTHON))) {
      return PYTHON + " is missing.";
    }
    try {
      Process p =
          new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return PYTHON + " has no torch (python3-torch is not installed).";
      }
    } catch (IOException e) {
      return "Cannot start " + PYTHON + ": " + e.getMessage();
    }
    return null;
  }

  private static List<Double> djlMillis(
      LoadedModel model,
      float[] x,
      float[] t,
      float[] d,
      float[] y,
      int batch,
      int blocks,
      int repeats)
      throws Exception {
    ModelConfig c = model.config();
    List<Double> out = new ArrayList<>();
    boolean gradMode = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      for (int r = -1; r < repeats; r++) {
        try (NDManager call = model.manager().newSubManager()) {
          NDArray xs = call.create(x, new Shape(batch, c.channels(), c.imageSize(), c.imageSize()));
          NDArray ts = call.create(t);
          NDArray ds = call.create(d);
          int[] labels = new int[batch];
          for (int i = 0; i < batch; i++) {
            labels[i] = Math.round(y[i]);
          }
          NDArray ys = call.create(labels);
          ParameterStore ps = new ParameterStore(call, false);
          double s =
              Timing.seconds(
                  () -> model.network().velocity(ps, xs, ts, ds, ys, blocks, false).toFloatArray());
          if (r >= 0) {
            out.add(s * 1000);
          }
        }
      }
    } finally {
      JniUtils.setGradMode(gradMode);
    }
    return out;
  }

  private static JsonObject python(
      Path script, Path pkg, Path inputs, int blocks, int threads, int repeats, boolean showConfig)
      throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                PYTHON,
                script.toString(),
                "time",
                "--package",
                pkg.toString(),
                "--inputs",
                inputs.toString(),
                "--blocks",
                Integer.toString(blocks),
                "--threads",
                Integer.toString(threads),
                "--warmup",
                "1",
                "--repeats",
                Integer.toString(repeats)));
    if (showConfig) {
      cmd.add("--show-config");
    }
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    Process p = pb.start();
    String out;
    String err;
    try (InputStream stdout = p.getInputStream();
        InputStream stderr = p.getErrorStream()) {
      out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
      err = new String(stderr.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("reference.py time failed (" + cmd + "): " + err);
    }
    String last = out.strip().lines().reduce((a, b) -> b).orElse("");
    return JsonParser.parseString(last).getAsJsonObject();
  }

  /** Writes the package (manifest and weights) at {@code location} into {@code dir}. */
  private static void copyPackage(String location, Path dir) throws IOException {
    String manifestAt = ModelPackages.manifestLocation(location);
    String weightsFile = ModelPackages.readManifest(manifestAt).getWeights().getFile();
    int slash = manifestAt.lastIndexOf('/');
    String weightsAt = manifestAt.substring(0, slash + 1) + weightsFile;
    Files.createDirectories(dir);
    Files.write(
        dir.resolve(ModelPackages.MANIFEST),
        ObjectStores.forLocation(manifestAt).readAllBytes(manifestAt));
    Files.write(
        dir.resolve(weightsFile), ObjectStores.forLocation(weightsAt).readAllBytes(weightsAt));
  }

  /**
   * What DJL's native PyTorch library holds: MKL / oneDNN / OpenBLAS markers found in the bytes of
   * libtorch_cpu.so under DJL's cache, and the OpenMP runtime shipped next to it.
   */
  static String djlNativeBuild() {
    Path cache = Utils.getEngineCacheDir("pytorch");
    String version = Engine.getEngine("PyTorch").getVersion();
    try (Stream<Path> dirs = Files.list(cache)) {
      Path dir =
          dirs.filter(
                  p ->
                      p.getFileName().toString().startsWith(version)
                          && p.getFileName().toString().contains("cpu"))
              .findFirst()
              .orElse(null);
      if (dir == null) {
        return "native library not found under " + cache;
      }
      List<String> found = new ArrayList<>();
      Map<String, String> markers = new LinkedHashMap<>();
      markers.put("Intel(R) oneAPI Math Kernel Library", "MKL (static)");
      markers.put("oneDNN v", "oneDNN");
      markers.put("openblas_get_config", "OpenBLAS");
      Map<String, Boolean> hits = scan(dir.resolve("libtorch_cpu.so"), markers.keySet());
      hits.forEach(
          (k, v) -> {
            if (v) {
              found.add(markers.get(k));
            }
          });
      try (Stream<Path> files = Files.list(dir)) {
        files
            .map(p -> p.getFileName().toString())
            .filter(n -> n.startsWith("libgomp") || n.startsWith("libiomp"))
            .forEach(n -> found.add("OpenMP " + n));
      }
      return found.isEmpty() ? "no BLAS markers found in " + dir : String.join(", ", found);
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  /** Which of {@code needles} occur in the file, read in chunks. */
  private static Map<String, Boolean> scan(Path file, java.util.Set<String> needles)
      throws IOException {
    Map<String, Boolean> hits = new LinkedHashMap<>();
    needles.forEach(n -> hits.put(n, false));
    int overlap = needles.stream().mapToInt(String::length).max().orElse(0);
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[8 << 20];
      String tail = "";
      int read;
      while ((read = in.readNBytes(buf, 0, buf.length)) > 0) {
        String chunk = tail + new String(buf, 0, read, StandardCharsets.ISO_8859_1);
        for (String n : needles) {
          if (!hits.get(n) && chunk.contains(n)) {
            hits.put(n, true);
          }
        }
        if (!hits.containsValue(false)) {
          break;
        }
        tail = chunk.substring(Math.max(0, chunk.length() - overlap));
      }
    }
    return hits;
  }
}
