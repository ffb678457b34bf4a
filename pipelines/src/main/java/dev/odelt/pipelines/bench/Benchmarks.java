package dev.odelt.pipelines.bench;

import ai.djl.engine.Engine;
import dev.odelt.model.Models;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.proto.v1.ModelManifest;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The performance report's entry point: runs the registered benchmarks in order in one JVM and
 * writes {@code BENCHMARKS.md}, {@code benchmarks/results.json} and the plots.
 *
 * <p>Usage, from the repository root after {@code mvn -B -o package -pl pipelines -am -DskipTests}:
 *
 * <pre>
 * java -cp pipelines/target/odelt-pipelines.jar dev.odelt.pipelines.bench.Benchmarks \
 *     [--mode=full|short] [--model=...] [--threads=N] [--only=id,id] [--reportDir=DIR]
 * </pre>
 *
 * <p>A benchmark that throws is recorded as failed in the report and the others still run; the
 * process exits with status 1 when any failed (2 for bad options).
 */
public final class Benchmarks {

  private static final Logger LOG = LoggerFactory.getLogger(Benchmarks.class);

  /** Every benchmark, in report order. */
  static final List<Benchmark> REGISTRY =
      List.of(
          new TierScalingBench(),
          new UtilisationBench(),
          new TorchComparisonBench(),
          new PartialModelMemoryBench(),
          new PipelineEfficiencyBench(),
          new DatasetThroughputBench(),
          new BatchFillBench(),
          new StartupBench(),
          new JobMemoryBench(),
          new PromptResolutionBench(),
          new PlanAccuracyBench());

  private Benchmarks() {}

  public static void main(String[] args) throws IOException {
    BenchOptions options;
    try {
      options = BenchOptions.parse(args, Runtime.getRuntime().availableProcessors());
      select(REGISTRY, options.only());
    } catch (IllegalArgumentException e) {
      LOG.error("{}", e.getMessage());
      System.exit(2);
      return;
    }
    // Before DJL starts: PyTorch reads these once, when its engine loads.
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(options.threads()));
    System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    System.setProperty("java.awt.headless", "true");
    int failed = run(options, command(args));
    Models.releaseShared();
    System.exit(failed > 0 ? 1 : 0);
  }

  /**
   * Runs the selected benchmarks and writes the report after each one.
   *
   * @return the number of benchmarks that failed
   */
  static int run(BenchOptions options, String command) throws IOException {
    Path repoRoot = repoRoot(Path.of("").toAbsolutePath());
    Path reportDir = options.reportDirUnder(repoRoot).toAbsolutePath();
    Path workDir = repoRoot.resolve("pipelines/target/bench-work").toAbsolutePath();
    Files.createDirectories(reportDir.resolve("benchmarks"));
    Files.createDirectories(workDir);
    BenchContext context =
        new BenchContext(
            options.shortMode(), options.model(), reportDir, workDir, options.threads(), repoRoot);
    Report.Environment env = environment(options, command);
    LOG.info("Benchmarks ({} mode, {} threads) → {}", env.mode(), options.threads(), reportDir);
    List<Section> sections = new ArrayList<>();
    int failed = 0;
    for (Benchmark benchmark : select(REGISTRY, options.only())) {
      long start = System.nanoTime();
      LOG.info("Running {}", benchmark.id());
      Section section;
      try {
        section = benchmark.run(context);
      } catch (Exception e) {
        failed++;
        LOG.error("Benchmark {} failed", benchmark.id(), e);
        section = failure(benchmark.id(), e);
      }
      sections.add(section);
      LOG.info("{} done in {} s", benchmark.id(), (System.nanoTime() - start) / 1_000_000_000);
      Report.write(reportDir, env, sections);
    }
    LOG.info("Report: {} ({} benchmark(s) failed)", reportDir.resolve(Report.MARKDOWN), failed);
    return failed;
  }

  /**
   * The benchmarks named in {@code only} (all when empty), in registry order.
   *
   * @throws IllegalArgumentException for an unknown id
   */
  static List<Benchmark> select(List<Benchmark> registry, List<String> only) {
    if (only.isEmpty()) {
      return registry;
    }
    Set<String> known = registry.stream().map(Benchmark::id).collect(Collectors.toSet());
    for (String id : only) {
      if (!known.contains(id)) {
        throw new IllegalArgumentException(
            "Unknown benchmark '" + id + "'; known: " + String.join(", ", knownIds(registry)));
      }
    }
    return registry.stream().filter(b -> only.contains(b.id())).toList();
  }

  private static List<String> knownIds(List<Benchmark> registry) {
    return registry.stream().map(Benchmark::id).toList();
  }

  /** The section of a benchmark that threw: its goal "completes" is not met. */
  static Section failure(String id, Exception e) {
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    String firstLines = trace.toString().lines().limit(6).collect(Collectors.joining("\n"));
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("error", String.valueOf(e));
    return new Section(
        id,
        id + " (failed)",
        "",
        List.of(),
        List.of(new Section.Goal("benchmark completes", "runs to the end", "failed: " + e, false)),
        List.of("The benchmark threw:\n\n```\n" + firstLines + "\n```"),
        raw,
        List.of());
  }

  /**
   * The nearest directory at or above {@code start} holding pom.xml, pipelines/ and
   * model-artifacts/.
   */
  static Path repoRoot(Path start) {
    for (Path p = start; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("pom.xml"))
          && Files.isDirectory(p.resolve("pipelines"))
          && Files.isDirectory(p.resolve("model-artifacts"))) {
        return p;
      }
    }
    return start;
  }

  /** The command line as a person would type it again. */
  static String command(String[] args) {
    String classPath = System.getProperty("java.class.path", "");
    String cp =
        classPath.contains(java.io.File.pathSeparator) ? "<maven runtime classpath>" : classPath;
    List<String> jvmArgs =
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("-D") || a.startsWith("-X"))
            .toList();
    return Stream.of(
            Stream.of("java"),
            jvmArgs.stream(),
            Stream.of("-cp", cp, Benchmarks.class.getName()),
            Stream.of(args))
        .flatMap(s -> s)
        .collect(Collectors.joining(" "));
  }

  private static Report.Environment environment(BenchOptions options, String command) {
    String model = options.model();
    try {
      ModelManifest manifest = ModelPackages.readManifest(options.model());
      model = manifest.getName() + " " + manifest.getVersion() + " (" + options.model() + ")";
    } catch (IOException e) {
      LOG.warn("Cannot read the manifest of {}: {}", options.model(), e.toString());
    }
    Engine engine = Engine.getEngine("PyTorch");
    return new Report.Environment(
        Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
        machine(),
        System.getProperty("java.vm.vendor")
            + " "
            + System.getProperty("java.vm.name")
            + " "
            + System.getProperty("java.version"),
        "DJL " + Engine.getDjlVersion() + ", PyTorch " + engine.getVersion() + " (CPU)",
        model,
        command,
        options.shortMode() ? "short" : "full",
        options.threads());
  }

  /** Cores, CPU model name and memory, from /proc where it exists. */
  static String machine() {
    int cores = Runtime.getRuntime().availableProcessors();
    String cpu = procValue("/proc/cpuinfo", "model name").orElse(System.getProperty("os.arch"));
    String memory =
        procValue("/proc/meminfo", "MemTotal")
            .map(
                v ->
                    String.format(
                        Locale.ROOT,
                        "%.1f GiB",
                        Long.parseLong(v.replaceAll("[^0-9]", "")) / (1024.0 * 1024.0)))
            .orElse("unknown memory");
    return cores + " cores, " + cpu + ", " + memory + ", " + System.getProperty("os.name");
  }

  static java.util.Optional<String> procValue(String file, String key) {
    try (Stream<String> lines = Files.lines(Path.of(file))) {
      return lines
          .filter(l -> l.startsWith(key))
          .map(l -> l.substring(l.indexOf(':') + 1).trim())
          .findFirst();
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }
}
