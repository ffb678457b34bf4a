package dev.odelt.pipelines.bench;

import dev.odelt.model.Models;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Command-line options of {@link Benchmarks}: {@code --mode=full|short} (default full), {@code
 * --model=} (default the bundled model), {@code --threads=} (default: available cores), {@code
 * --only=id,id} (default: every benchmark), {@code --reportDir=} (default {@code pipelines/} in
 * full mode, {@code pipelines/target/benchmarks-short/} in short mode, under the repository root).
 *
 * @param shortMode smoke-test sizes
 * @param model the model package under test
 * @param threads PyTorch intra-op threads, ≥ 1
 * @param only benchmark ids to run; empty means all
 * @param reportDir the report directory, or null for the mode's default
 */
public record BenchOptions(
    boolean shortMode, String model, int threads, List<String> only, Path reportDir) {

  public BenchOptions {
    only = List.copyOf(only);
  }

  /**
   * Parses {@code --name=value} arguments.
   *
   * @param cores the default thread count
   * @throws IllegalArgumentException naming the bad or unknown option
   */
  public static BenchOptions parse(String[] args, int cores) {
    boolean shortMode = false;
    String model = Models.DEFAULT_MODEL;
    int threads = cores;
    List<String> only = new ArrayList<>();
    Path reportDir = null;
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("Expected --name=value, got '" + arg + "'");
      }
      String name = arg.substring(2, eq);
      String value = arg.substring(eq + 1).trim();
      switch (name) {
        case "mode" -> {
          switch (value.toLowerCase(Locale.ROOT)) {
            case "full" -> shortMode = false;
            case "short" -> shortMode = true;
            default ->
                throw new IllegalArgumentException(
                    "--mode must be full or short, got '" + value + "'");
          }
        }
        case "model" -> {
          if (value.isEmpty()) {
            throw new IllegalArgumentException("--model is empty");
          }
          model = value;
        }
        case "threads" -> {
          try {
            threads = Integer.parseInt(value);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--threads must be a number, got '" + value + "'");
          }
          if (threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
          }
        }
        case "only" -> {
          for (String id : value.split(",")) {
            if (!id.isBlank()) {
              only.add(id.trim());
            }
          }
        }
        case "reportDir" -> reportDir = Path.of(value);
        default ->
            throw new IllegalArgumentException(
                "Unknown option --"
                    + name
                    + "; known: --mode, --model, --threads, --only, --reportDir");
      }
    }
    return new BenchOptions(shortMode, model, threads, only, reportDir);
  }

  /** The report directory: the given one, else the mode's default under {@code repoRoot}. */
  public Path reportDirUnder(Path repoRoot) {
    if (reportDir != null) {
      return reportDir;
    }
    return shortMode
        ? repoRoot.resolve("pipelines/target/benchmarks-short")
        : repoRoot.resolve("pipelines");
  }
}
