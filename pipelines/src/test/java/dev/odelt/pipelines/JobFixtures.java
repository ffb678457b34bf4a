package dev.odelt.pipelines;

import dev.odelt.model.testing.TestModels;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** A tiny random model, manifests of all three formats, and helpers to run the CLI. */
final class JobFixtures {

  private JobFixtures() {}

  /**
   * Writes a random TINY model (depth 4, blocks 2 or 4) under {@code dir}; returns its location.
   */
  static String model(Path dir) {
    return TestModels.writeRandomPackage(dir, TestModels.TINY, 3);
  }

  /** Manifests of all formats with 2 + 6 + 3 + 4 + 2 good images and 3 bad lines. */
  static Path manifests(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(
        dir.resolve("a.jsonl"),
        String.join(
            "\n",
            "{\"request_id\":\"sevens\",\"class_label\":\"7\",\"num_images\":2,\"seed\":42,"
                + "\"tier\":{\"steps\":2,\"blocks\":4}}",
            "{\"request_id\":\"threes\",\"class_id\":3,\"num_images\":6,\"tier_name\":\"draft\"}",
            "{\"request_id\":\"bad-class\",\"class_id\":12}",
            "{\"request_id\":\"escape\",\"class_id\":1,\"tags\":{\"p\":\"../../x\"}}",
            "{\"request_id\":\"guided\",\"prompt\":\"a handwritten zero\",\"num_images\":3,"
                + "\"tier\":{\"steps\":1,\"blocks\":2,\"guidance\":2}}",
            ""));
    Files.writeString(dir.resolve("b.csv"), "class,count,steps,blocks\nfour,4,2,2\n");
    Files.writeString(dir.resolve("c.txt"), "a handwritten nine\na giraffe\n");
    return dir;
  }

  /** Result of one CLI run. */
  record Run(int exitCode, String console) {}

  static Run cli(String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int code = GenerateJob.runCli(args, console);
    return new Run(code, bytes.toString(StandardCharsets.UTF_8));
  }

  /**
   * The non-empty lines of every shard matching a glob relative to {@code root} (e.g. {@code
   * errors/dead-letters-*.jsonl}), shard after shard, in shard order.
   */
  static java.util.List<String> shardLines(Path root, String glob) throws IOException {
    java.util.List<String> out = new java.util.ArrayList<>();
    Path dir = root.resolve(glob).getParent();
    String pattern = Path.of(glob).getFileName().toString();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (java.nio.file.DirectoryStream<Path> shards = Files.newDirectoryStream(dir, pattern)) {
      java.util.List<Path> sorted = new java.util.ArrayList<>();
      shards.forEach(sorted::add);
      java.util.Collections.sort(sorted);
      for (Path shard : sorted) {
        for (String line : Files.readAllLines(shard)) {
          if (!line.isBlank()) {
            out.add(line);
          }
        }
      }
    }
    return out;
  }

  /** Relative path → file bytes' sha256 of every file under {@code root} (sorted). */
  static Map<String, String> tree(Path root, String under) throws IOException {
    Path base = root.resolve(under);
    if (!Files.exists(base)) {
      return new TreeMap<>();
    }
    try (Stream<Path> walk = Files.walk(base)) {
      return walk.filter(Files::isRegularFile)
          .collect(
              Collectors.toMap(
                  p -> root.relativize(p).toString(),
                  p -> {
                    try {
                      return dev.odelt.transforms.io.Hashes.sha256(Files.readAllBytes(p));
                    } catch (IOException e) {
                      throw new java.io.UncheckedIOException(e);
                    }
                  },
                  (a, b) -> a,
                  TreeMap::new));
    }
  }
}
