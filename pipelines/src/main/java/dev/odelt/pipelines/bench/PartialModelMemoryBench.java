package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.Timing.fmt;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Peak memory of a worker that loads only the first L blocks ({@link Models#load(String, String,
 * int)}) against one that loads the full model: two child JVMs (same java binary and class path),
 * each loads its copy and samples the same batch at the cheapest tier; their peak RSS (VmHWM) is
 * read from /proc by the child itself just before it exits.
 */
public final class PartialModelMemoryBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(PartialModelMemoryBench.class);
  private static final String RESULT = "RESULT ";

  @Override
  public String id() {
    return "partial-model";
  }

  @Override
  public Section run(BenchContext ctx) throws Exception {
    ModelConfig config = ctx.modelConfig();
    int minL = config.depthMin();
    int batch = ctx.shortMode() ? 8 : 64;
    int rounds = ctx.shortMode() ? 1 : 2;
    Map<String, List<Map<String, Long>>> results = new LinkedHashMap<>();
    for (int r = 0; r < rounds; r++) {
      for (int maxBlocks : List.of(config.depth(), minL)) {
        String key = maxBlocks == config.depth() ? "full" : "first" + minL;
        Map<String, Long> child = child(ctx, maxBlocks, minL, batch);
        results.computeIfAbsent(key, k -> new ArrayList<>()).add(child);
        LOG.info(
            "partial-model round {}/{}: {} → VmHWM {} KiB",
            r + 1,
            rounds,
            key,
            child.get("vmHwmKib"));
      }
    }
    Map<String, Long> full = medianOf(results.get("full"));
    Map<String, Long> partial = medianOf(results.get("first" + minL));
    List<List<String>> rows = new ArrayList<>();
    rows.add(row("full model (" + config.depth() + " blocks)", full, "n/a (runs every tier)"));
    rows.add(
        row(
            "first " + minL + " blocks only",
            partial,
            partial.get("rejectsDeeper") == 1 ? "yes" : "NO"));
    long diffKib = full.get("vmHwmKib") - partial.get("vmHwmKib");
    long paramDiff = full.get("parameterBytes") - partial.get("parameterBytes");
    rows.add(
        List.of(
            "difference",
            fmt(diffKib / 1024.0, 1),
            fmt((full.get("vmRssKib") - partial.get("vmRssKib")) / 1024.0, 1),
            fmt(paramDiff / 1e6, 3),
            ""));
    List<String> findings = new ArrayList<>();
    findings.add(
        "Loading only the first "
            + minL
            + " of "
            + config.depth()
            + " blocks holds "
            + fmt(paramDiff / 1e6, 3)
            + " MB less of parameters ("
            + fmt(100.0 * paramDiff / full.get("parameterBytes"), 1)
            + "% of "
            + fmt(full.get("parameterBytes") / 1e6, 3)
            + " MB); peak RSS "
            + (diffKib > 0 ? "fell by " : "did not fall: difference ")
            + fmt(diffKib / 1024.0, 1)
            + " MiB. The process's peak is dominated by the JVM, the PyTorch native library and"
            + " the batch's activations, not by this small model's weights, and varies between"
            + " processes; the saving grows with the model (a DiT-B block, D=768, holds about 42 MB"
            + " of float32 weights). The package file is still read and checksummed whole; only"
            + " the tensors of blocks ≥ L are not copied to the device.");
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("full", results.get("full"));
    raw.put("partial", results.get("first" + minL));
    raw.put("batch", batch);
    raw.put("blocks", minL);
    String method =
        "Two child JVMs per round ("
            + rounds
            + " round(s), alternating full / partial; medians), started with this JVM's java binary"
            + " and class path, the same PyTorch thread settings, and the same heap settings"
            + " (-XX:+UseSerialGC -Xmx512m, so garbage-collector choices differ less between them)."
            + " Each loads the model with Models.load(location, \"cpu\") or Models.load(location,"
            + " \"cpu\", "
            + minL
            + "), samples one batch of "
            + batch
            + " images at s4-b"
            + minL
            + " (same seeds on both), checks that the partial copy rejects L="
            + config.depth()
            + ", and reports VmHWM and VmRSS from /proc/self/status and the parameter bytes it"
            + " holds.";
    return new Section(
        id(),
        "Memory of a worker that loads only the first L blocks",
        method,
        List.of(
            new Section.Table(
                "Peak memory per child JVM",
                List.of(
                    "Child",
                    "Peak RSS (VmHWM) MiB",
                    "RSS at exit MiB",
                    "Parameter MB",
                    "Rejects deeper tiers"),
                rows)),
        List.of(),
        findings,
        raw,
        List.of());
  }

  private static List<String> row(String name, Map<String, Long> m, String rejects) {
    return List.of(
        name,
        fmt(m.get("vmHwmKib") / 1024.0, 1),
        fmt(m.get("vmRssKib") / 1024.0, 1),
        fmt(m.get("parameterBytes") / 1e6, 3),
        rejects);
  }

  private static Map<String, Long> medianOf(List<Map<String, Long>> runs) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String key : runs.get(0).keySet()) {
      List<Double> values = runs.stream().map(m -> (double) m.get(key)).toList();
      out.put(key, Math.round(Timing.median(values)));
    }
    return out;
  }

  private static Map<String, Long> child(BenchContext ctx, int maxBlocks, int blocks, int batch)
      throws IOException, InterruptedException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> cmd =
        List.of(
            java.toString(),
            "-XX:+UseSerialGC",
            "-Xmx512m",
            "-Dai.djl.offline=true",
            "-Dai.djl.pytorch.num_threads=" + ctx.threads(),
            "-Dai.djl.pytorch.num_interop_threads=1",
            "-cp",
            System.getProperty("java.class.path"),
            PartialModelMemoryBench.class.getName(),
            ctx.modelLocation(),
            Integer.toString(maxBlocks),
            Integer.toString(blocks),
            Integer.toString(batch));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("child JVM (maxBlocks=" + maxBlocks + ") failed:\n" + out);
    }
    String line =
        out.lines()
            .filter(l -> l.startsWith(RESULT))
            .findFirst()
            .orElseThrow(() -> new IOException("child JVM printed no result:\n" + out));
    Map<String, Long> result = new LinkedHashMap<>();
    for (String part : line.substring(RESULT.length()).trim().split(" ")) {
      String[] kv = part.split("=");
      result.put(kv[0], Long.parseLong(kv[1]));
    }
    return result;
  }

  /**
   * The child process: {@code <model> <maxBlocks> <blocks> <batch>}. Prints one line {@code RESULT
   * vmHwmKib=… vmRssKib=… parameterBytes=… rejectsDeeper=0|1} on standard output (read by the
   * parent).
   */
  public static void main(String[] args) throws IOException {
    String location = args[0];
    int maxBlocks = Integer.parseInt(args[1]);
    int blocks = Integer.parseInt(args[2]);
    int batch = Integer.parseInt(args[3]);
    long rejects = 0;
    long parameterBytes;
    try (LoadedModel model = Models.load(location, "cpu", maxBlocks)) {
      List<SampleItem> items = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        items.add(new SampleItem(i % model.config().numClasses(), 9_000 + i));
      }
      model.sampler().sample(items, Tier.of(4, blocks));
      if (maxBlocks < model.config().depth()) {
        try {
          model.sampler().sample(items, Tier.of(1, model.config().depth()));
        } catch (IllegalArgumentException expected) {
          rejects = 1;
        }
      }
      parameterBytes = model.parameterBytes();
      String status = Files.readString(Path.of("/proc/self/status"));
      long hwm = statusKib(status, "VmHWM:");
      long rss = statusKib(status, "VmRSS:");
      // The parent reads this line from the child's standard output.
      System.out.println(
          RESULT
              + "vmHwmKib="
              + hwm
              + " vmRssKib="
              + rss
              + " parameterBytes="
              + parameterBytes
              + " rejectsDeeper="
              + rejects);
    }
  }

  private static long statusKib(String status, String key) {
    return status
        .lines()
        .filter(l -> l.startsWith(key))
        .map(l -> Long.parseLong(l.substring(key.length()).replaceAll("[^0-9]", "")))
        .findFirst()
        .orElseThrow(() -> new IllegalStateException(key + " missing from /proc/self/status"));
  }
}
