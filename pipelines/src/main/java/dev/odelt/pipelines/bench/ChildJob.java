package dev.odelt.pipelines.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The generation job as a child process: the same {@code java} binary as this JVM running {@code
 * java -jar pipelines/target/odelt-pipelines.jar} when the repository has the shaded jar, else
 * {@code GenerateJob} on this JVM's class path. Every output line is copied to a log file and kept
 * with the time it arrived (nanoseconds since launch), so benchmarks can time the job's own log
 * milestones.
 */
final class ChildJob implements AutoCloseable {

  /** An output line of the child and when it arrived, in nanoseconds after launch. */
  record Line(long nanos, String text) {}

  private static final Pattern PROGRESS = Pattern.compile("progress (\\S+): (\\d+)/(\\d+) images");

  private final Process process;
  private final long startNanos;
  private final List<Line> lines = new ArrayList<>();
  private final Thread reader;

  private ChildJob(Process process, long startNanos, Path log) throws IOException {
    this.process = process;
    this.startNanos = startNanos;
    Writer out = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
    this.reader =
        new Thread(
            () -> {
              try (out;
                  BufferedReader in =
                      new BufferedReader(
                          new InputStreamReader(
                              process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  long now = System.nanoTime() - startNanos;
                  synchronized (lines) {
                    lines.add(new Line(now, line));
                  }
                  out.write(line);
                  out.write('\n');
                }
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            "child-job-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** The shaded jar of the repository, when it was built. */
  static Path shadedJar(Path repoRoot) {
    return repoRoot.resolve("pipelines/target/odelt-pipelines.jar");
  }

  /**
   * The command line of a job run: {@code java <jvmArgs> -jar <jar> <jobArgs>}, or the class path
   * form when the jar is missing.
   */
  static List<String> command(Path repoRoot, List<String> jvmArgs, List<String> jobArgs) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Dai.djl.offline=true");
    cmd.addAll(jvmArgs);
    Path jar = shadedJar(repoRoot);
    if (Files.isRegularFile(jar)) {
      cmd.add("-jar");
      cmd.add(jar.toString());
    } else {
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add("dev.odelt.pipelines.GenerateJob");
    }
    cmd.addAll(jobArgs);
    return cmd;
  }

  /** Starts the command (stdout and stderr merged), copying its output to {@code log}. */
  static ChildJob start(List<String> command, Path log) throws IOException {
    Files.createDirectories(log.toAbsolutePath().getParent());
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    long start = System.nanoTime();
    Process process = builder.start();
    return new ChildJob(process, start, log);
  }

  long pid() {
    return process.pid();
  }

  long startNanos() {
    return startNanos;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits for the exit; returns the exit code. Throws when the child runs longer than {@code
   * timeoutSeconds} (it is killed then).
   */
  int waitFor(long timeoutSeconds) throws InterruptedException {
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "The job did not finish within " + timeoutSeconds + " s; killed");
    }
    reader.join(TimeUnit.SECONDS.toMillis(10));
    return process.exitValue();
  }

  /** The lines received so far. */
  List<Line> lines() {
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }

  /** Nanoseconds after launch of the first line containing {@code text}, or -1. */
  long firstLineNanos(String text) {
    for (Line l : lines()) {
      if (l.text().contains(text)) {
        return l.nanos();
      }
    }
    return -1;
  }

  /**
   * Images done (summed over tiers) after each progress report: pairs (nanos, images). Reports of
   * one tick arrive together; each line adds its tier's count at that time.
   */
  static List<long[]> progress(List<Line> lines) {
    List<long[]> out = new ArrayList<>();
    Map<String, Long> done = new TreeMap<>();
    for (Line l : lines) {
      Matcher m = PROGRESS.matcher(l.text());
      if (m.find()) {
        done.put(m.group(1), Long.parseLong(m.group(2)));
        out.add(new long[] {l.nanos(), done.values().stream().mapToLong(Long::longValue).sum()});
      }
    }
    return out;
  }

  /** The child's whole output, for error messages. */
  String tail(int maxLines) {
    List<Line> all = lines();
    StringBuilder b = new StringBuilder();
    for (Line l : all.subList(Math.max(0, all.size() - maxLines), all.size())) {
      b.append(l.text()).append('\n');
    }
    return b.toString();
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }
}
