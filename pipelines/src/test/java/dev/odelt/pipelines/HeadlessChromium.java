package dev.odelt.pipelines;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Debian's {@code chromium} in headless mode, for tests that look at a page as a browser renders
 * it: a screenshot, the DOM after loading, and the console messages (logged to stderr with {@code
 * --enable-logging=stderr --v=0} as {@code CONSOLE} lines). {@code ODELT_CHROMIUM} names another
 * binary.
 */
final class HeadlessChromium {

  /** What one page load gave: the process's stdout and stderr. */
  record Load(String stdout, String stderr) {

    /** Console lines (messages, uncaught errors) the page produced. */
    List<String> consoleLines() {
      return stderr.lines().filter(l -> l.contains(":CONSOLE") || l.contains("Uncaught")).toList();
    }
  }

  private final Path binary;
  private final Path profile;

  private HeadlessChromium(Path binary, Path profile) {
    this.binary = binary;
    this.profile = profile;
  }

  /** The browser, when installed; its profile lives under {@code scratch}. */
  static Optional<HeadlessChromium> find(Path scratch) {
    String configured = System.getenv("ODELT_CHROMIUM");
    List<Path> candidates = new ArrayList<>();
    if (configured != null && !configured.isBlank()) {
      candidates.add(Path.of(configured));
    }
    candidates.add(Path.of("/usr/bin/chromium"));
    candidates.add(Path.of("/usr/bin/chromium-browser"));
    return candidates.stream()
        .filter(Files::isExecutable)
        .findFirst()
        .map(p -> new HeadlessChromium(p, scratch.resolve("chromium-profile")));
  }

  /** Loads {@code page} and prints its DOM after load (stdout). */
  Load dumpDom(Path page) throws IOException, InterruptedException {
    return run(List.of("--dump-dom", page.toUri().toString()));
  }

  /** Loads {@code page} in a window of {@code width} × {@code height} and saves a PNG of it. */
  Load screenshot(Path page, Path png, int width, int height)
      throws IOException, InterruptedException {
    return run(
        List.of(
            "--hide-scrollbars",
            "--window-size=" + width + "," + height,
            "--screenshot=" + png.toAbsolutePath(),
            page.toUri().toString()));
  }

  private Load run(List<String> args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(binary.toString());
    command.add("--headless");
    // Tests run as root in CI containers, where Chromium's sandbox cannot start.
    command.add("--no-sandbox");
    command.add("--disable-gpu");
    command.add("--disable-dev-shm-usage");
    command.add("--no-first-run");
    command.add("--user-data-dir=" + profile.toAbsolutePath());
    command.add("--enable-logging=stderr");
    command.add("--v=0");
    command.addAll(args);
    Path out = Files.createTempFile(profile.getParent(), "chromium", ".out");
    Path err = Files.createTempFile(profile.getParent(), "chromium", ".err");
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("chromium did not finish within 120 s: " + command);
    }
    Load load =
        new Load(
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          "chromium exited with " + p.exitValue() + ": " + command + "\n" + load.stderr());
    }
    return load;
  }
}
