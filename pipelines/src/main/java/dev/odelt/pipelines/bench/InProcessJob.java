package dev.odelt.pipelines.bench;

import dev.odelt.pipelines.GenerateJob;
import dev.odelt.proto.v1.RunSummary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the generation job in this JVM through its command-line entry point ({@link
 * GenerateJob#runCli}) on embedded Flink, as a user would, and reads back its run summary.
 */
final class InProcessJob {

  private static final Logger LOG = LoggerFactory.getLogger(InProcessJob.class);

  private InProcessJob() {}

  /**
   * A finished run: wall seconds of {@code runCli}, wall-clock start and end, its {@code run.json}.
   */
  record Result(double seconds, long startMillis, long endMillis, RunSummary summary) {}

  /**
   * The job's arguments for a manifest and an output directory on CPU, embedded Flink, plus {@code
   * extra} (for example {@code --parallelism=2}).
   */
  static List<String> args(Path manifest, Path output, String model, List<String> extra) {
    List<String> args = new ArrayList<>();
    args.add("--requests=" + manifest.toAbsolutePath());
    args.add("--output=" + output.toAbsolutePath());
    args.add("--model=" + model);
    args.add("--device=cpu");
    args.add("--runner=FlinkRunner");
    args.addAll(extra);
    return args;
  }

  /** Runs the job; throws when it does not exit with {@link GenerateJob#EXIT_OK}. */
  static Result run(List<String> args, Path output) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    long startMillis = System.currentTimeMillis();
    long start = System.nanoTime();
    int code = GenerateJob.runCli(args.toArray(new String[0]), console);
    double seconds = (System.nanoTime() - start) / 1e9;
    long endMillis = System.currentTimeMillis();
    String text = bytes.toString(StandardCharsets.UTF_8);
    if (code != GenerateJob.EXIT_OK) {
      throw new IllegalStateException("The job exited with " + code + ":\n" + text);
    }
    LOG.debug("job output:\n{}", text);
    return new Result(
        seconds,
        startMillis,
        endMillis,
        GenerateJob.readSummary(output.toAbsolutePath().toString()));
  }
}
