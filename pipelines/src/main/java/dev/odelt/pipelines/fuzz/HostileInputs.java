package dev.odelt.pipelines.fuzz;

import dev.odelt.pipelines.GenerateJob;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs command lines of the job jar ({@link GenerateJob#runCli}) from a case list, each in a worker
 * thread with a time limit, in one JVM (so a few hundred cases cost one start-up), and checks how
 * each ends: model-artifacts/tools/hostile_fuzz.sh generates the cases and runs this.
 *
 * <p>Usage: {@code java -Xmx768m -cp odelt-pipelines.jar dev.odelt.pipelines.fuzz.HostileInputs
 * CASES.tsv [--timeout=SECONDS] [--maxRssMb=N]}. Each line of the list is {@code name TAB expected
 * TAB output TAB arg…}: {@code expected} is {@code 2} (a refusal), {@code 0} (valid input) or
 * {@code 0|2} (a random mutant, which may still be valid); {@code output} is the path the command
 * would write ({@code -} for none). A case passes when it ends in time with an expected exit code,
 * and, when refused, with a message that names something (no stack trace) and nothing at {@code
 * output}. An exception or error thrown out of the command (a stack overflow, an out-of-memory
 * error) fails it. At the end the process's peak resident memory (VmHWM) must stay under {@code
 * --maxRssMb}. Exit code 0 when every case passed, 1 otherwise.
 */
public final class HostileInputs {

  private HostileInputs() {}

  /** One line of the case list. */
  private record Case(String name, String expected, String output, String[] args) {}

  public static void main(String[] argv) throws IOException, InterruptedException {
    if (argv.length < 1) {
      System.err.println("usage: HostileInputs CASES.tsv [--timeout=SECONDS] [--maxRssMb=N]");
      System.exit(2);
    }
    long timeoutSeconds = 30;
    long maxRssMb = 3072;
    for (String a : Arrays.asList(argv).subList(1, argv.length)) {
      if (a.startsWith("--timeout=")) {
        timeoutSeconds = Long.parseLong(a.substring("--timeout=".length()));
      } else if (a.startsWith("--maxRssMb=")) {
        maxRssMb = Long.parseLong(a.substring("--maxRssMb=".length()));
      } else {
        System.err.println("HostileInputs: unknown option " + a);
        System.exit(2);
      }
    }
    List<Case> cases = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(argv[0]), StandardCharsets.UTF_8)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t", -1);
      cases.add(new Case(f[0], f[1], f[2], Arrays.copyOfRange(f, 3, f.length)));
    }
    PrintStream out = System.out;
    ExecutorService pool = newPool();
    int failed = 0;
    long start = System.nanoTime();
    for (Case c : cases) {
      String verdict = null;
      ByteArrayOutputStream buffer = new ByteArrayOutputStream();
      PrintStream console = new PrintStream(buffer, true, StandardCharsets.UTF_8);
      long caseStart = System.nanoTime();
      int rc = -1;
      Future<Integer> result = pool.submit(() -> GenerateJob.runCli(c.args(), console));
      try {
        rc = result.get(timeoutSeconds, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        verdict = "did not finish within " + timeoutSeconds + " s";
        result.cancel(true);
        pool.shutdownNow();
        pool = newPool(); // the stuck thread is a daemon: it cannot block the exit
      } catch (ExecutionException e) {
        verdict = "threw " + e.getCause();
      }
      String text = buffer.toString(StandardCharsets.UTF_8);
      if (verdict == null) {
        verdict = check(c, rc, text);
      }
      double seconds = (System.nanoTime() - caseStart) / 1e9;
      String firstLine = firstMessage(text);
      if (verdict != null) {
        failed++;
        out.printf(
            Locale.ROOT,
            "FAIL %s (%.1f s): %s; exit %d; args %s; output:%n%s%n",
            c.name(),
            seconds,
            verdict,
            rc,
            String.join(" ", c.args()),
            text.length() > 4000 ? text.substring(0, 4000) + "…" : text);
      } else {
        out.printf(Locale.ROOT, "ok   %s (%.1f s, exit %d) %s%n", c.name(), seconds, rc, firstLine);
      }
    }
    pool.shutdownNow();
    long rssMb = peakRssKb() / 1024;
    double total = (System.nanoTime() - start) / 1e9;
    out.printf(
        Locale.ROOT,
        "HostileInputs: %d cases, %d failed, %.1f s, peak resident memory %d MB (limit %d MB)%n",
        cases.size(),
        failed,
        total,
        rssMb,
        maxRssMb);
    if (rssMb > maxRssMb) {
      out.println("FAIL peak resident memory above the limit");
      failed++;
    }
    out.flush();
    System.exit(failed == 0 ? 0 : 1);
  }

  /** Why a finished case fails, or null when it passes. */
  private static String check(Case c, int rc, String text) {
    List<String> allowed = Arrays.asList(c.expected().split("\\|"));
    if (!allowed.contains(Integer.toString(rc))) {
      return "exit " + rc + ", expected " + c.expected();
    }
    if (rc == GenerateJob.EXIT_USAGE) {
      if (firstMessage(text).isEmpty()) {
        return "refused without a message";
      }
      if (text.contains("\tat ") || text.contains("Caused by:")) {
        return "refused with a stack trace";
      }
      if (!c.output().equals("-") && Files.exists(Path.of(c.output()))) {
        return "refused but wrote " + c.output();
      }
    }
    return null;
  }

  private static String firstMessage(String text) {
    for (String line : text.split("\n")) {
      if (!line.isBlank()) {
        return line.length() > 300 ? line.substring(0, 300) + "…" : line.strip();
      }
    }
    return "";
  }

  private static ExecutorService newPool() {
    return Executors.newSingleThreadExecutor(
        r -> {
          Thread t = new Thread(r, "hostile-case");
          t.setDaemon(true);
          return t;
        });
  }

  /** This process's peak resident set (VmHWM) in KiB, or 0 where /proc does not tell. */
  private static long peakRssKb() throws IOException {
    Path status = Path.of("/proc/self/status");
    if (!Files.exists(status)) {
      return 0;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return 0;
  }
}
