package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the documentation true: README.md and the pages in {@code docs/}.
 *
 * <p>Links: every relative link in README.md, {@code docs/*.md} and the Markdown files they link to
 * (the module READMEs, MODEL_CARD.md, BENCHMARKS.md) names a file or folder that exists, and a
 * {@code #fragment} into a Markdown file names one of its headings (GitHub's anchors: lower case,
 * punctuation dropped, spaces as hyphens, {@code -1}, {@code -2} for repeats).
 *
 * <p>Commands: every command in a fenced block of README.md or {@code docs/*.md} that runs the job
 * jar ({@code java -jar …odelt-pipelines.jar …}, {@code java -cp …odelt-pipelines.jar …}, or {@code
 * java -jar $jar …}; lines joined at a trailing backslash) is either
 *
 * <ul>
 *   <li>one of {@link #TESTED}: its text (comments dropped, blanks collapsed, {@code $jar} written
 *       out) is listed there with the tests that run what it runs, and this test also parses its
 *       options as the job does (a job command) or runs it (a help command); or
 *   <li>marked as needing what the repository does not hold, by a shell comment {@code # needs:
 *       <what>} at the end of its last line (the downloaded checkpoints, a bucket and credentials,
 *       a cluster, an otherwise idle machine), which a reader sees and a shell ignores.
 * </ul>
 *
 * Every entry of {@link #TESTED} must still appear in the documents, so the list cannot go stale.
 * Nothing here runs a heavy command: the job's own runs are the listed tests' work.
 */
class DocsTest {

  private static final String JAR = "pipelines/target/odelt-pipelines.jar";
  private static final String MARKER = "needs:";

  /** Documented commands a test runs, normalised, with the tests that cover them. */
  static final Map<String, String> TESTED = tested();

  private static Map<String, String> tested() {
    String run = "java -jar " + JAR + " --requests='pipelines/examples/*'";
    String examples =
        "ExamplesTest (these manifests resolve), GenerateJobTest (the job end to end)";
    Map<String, String> t = new LinkedHashMap<>();
    t.put(run + " --output=/tmp/odelt-out", examples);
    t.put(run + " --output=/tmp/odelt-out --plan", examples + ", PlanJobTest");
    t.put(run + " --output=/tmp/odelt-wds --format=webdataset", examples + ", DatasetJobTest");
    t.put(run + " --output=/tmp/odelt-parquet --format=parquet", examples + ", DatasetJobTest");
    t.put(run + " --output=/tmp/odelt-tfrecord --format=tfrecord", examples + ", DatasetJobTest");
    for (String help :
        List.of(
            "--help", "help velocity", "--help=GenerateOptions", "--help=FlinkPipelineOptions")) {
      t.put("java -jar " + JAR + " " + help, "DocsTest (run here), CliTest");
    }
    return t;
  }

  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
  private static final Pattern INLINE_CODE = Pattern.compile("`[^`\\n]*`");

  private static Path root;

  @BeforeAll
  static void findRoot() {
    Path here = Paths.get("").toAbsolutePath();
    root = Files.exists(here.resolve("docs")) ? here : here.getParent();
    assertTrue(Files.isRegularFile(root.resolve("README.md")), "repository root: " + root);
  }

  /** README.md and docs/*.md, the documents whose commands are checked. */
  private static List<Path> documents() throws IOException {
    List<Path> docs = new ArrayList<>();
    docs.add(root.resolve("README.md"));
    try (Stream<Path> pages = Files.list(root.resolve("docs"))) {
      pages.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
    }
    return docs;
  }

  @Test
  void everyRelativeLinkResolves() throws IOException {
    Set<Path> checked = new LinkedHashSet<>(documents());
    List<Path> toCheck = new ArrayList<>(checked);
    List<String> broken = new ArrayList<>();
    for (Path doc : documents()) {
      for (String target : links(doc)) {
        Path linked = resolve(doc, target);
        if (linked != null && linked.toString().endsWith(".md") && checked.add(linked)) {
          toCheck.add(linked);
        }
      }
    }
    for (Path doc : toCheck) {
      for (String target : links(doc)) {
        String problem = problem(doc, target);
        if (problem != null) {
          broken.add(root.relativize(doc) + ": " + target + " (" + problem + ")");
        }
      }
    }
    assertTrue(checked.size() > 6, "documents checked: " + checked);
    assertEquals(List.of(), broken, "broken links");
  }

  @Test
  void everyJarCommandIsTestedOrMarked() throws IOException {
    List<String> unmarked = new ArrayList<>();
    Set<String> seen = new TreeSet<>();
    int marked = 0;
    for (Path doc : documents()) {
      for (String line : commandLines(doc)) {
        int hash = commentStart(line);
        String comment = hash < 0 ? "" : line.substring(hash + 1).trim();
        String command = normalise(hash < 0 ? line : line.substring(0, hash));
        if (comment.startsWith(MARKER) && comment.length() > MARKER.length() + 2) {
          marked++;
        } else if (TESTED.containsKey(command)) {
          seen.add(command);
        } else {
          unmarked.add(root.relativize(doc) + ": " + command);
        }
      }
    }
    assertEquals(
        List.of(),
        unmarked,
        "jar commands neither listed in DocsTest.TESTED nor marked '# " + MARKER + " <what>'");
    assertEquals(new TreeSet<>(TESTED.keySet()), seen, "TESTED entries no document shows");
    assertTrue(marked > 0, "marked commands found");
  }

  @Test
  void testedJobCommandsParseAsTheJobParsesThem() {
    for (String command : TESTED.keySet()) {
      List<String> args = arguments(command);
      if (!args.get(0).startsWith("--") || args.get(0).startsWith("--help")) {
        continue;
      }
      GenerateOptions options =
          PipelineOptionsFactory.fromArgs(GenerateJob.withDefaults(args.toArray(new String[0])))
              .withValidation()
              .as(GenerateOptions.class);
      assertTrue(options.getRequests().contains("pipelines/examples/"), command);
      assertTrue(
          Files.isDirectory(root.resolve("pipelines/examples")), "pipelines/examples/ exists");
    }
  }

  @Test
  void testedHelpCommandsExitZero() {
    for (String command : TESTED.keySet()) {
      List<String> args = arguments(command);
      if (!args.get(0).startsWith("--help") && !args.get(0).equals("help")) {
        continue;
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8);
      int code = GenerateJob.runCli(args.toArray(new String[0]), console);
      assertEquals(GenerateJob.EXIT_OK, code, command + "\n" + bytes);
    }
  }

  /** The logical lines of fenced blocks that run the job jar. */
  static List<String> commandLines(Path doc) throws IOException {
    List<String> out = new ArrayList<>();
    boolean fenced = false;
    StringBuilder pending = new StringBuilder();
    for (String raw : Files.readAllLines(doc, StandardCharsets.UTF_8)) {
      if (raw.strip().startsWith("```")) {
        fenced = !fenced;
        pending.setLength(0);
        continue;
      }
      if (!fenced) {
        continue;
      }
      String line = raw.strip();
      if (line.endsWith("\\")) {
        pending.append(line, 0, line.length() - 1).append(' ');
        continue;
      }
      String logical = pending.append(line).toString();
      pending.setLength(0);
      if (logical.startsWith("java ")
          && (logical.contains("odelt-pipelines.jar") || logical.contains("$jar"))) {
        out.add(logical);
      }
    }
    return out;
  }

  /** Where a shell comment starts ({@code #} after a blank, outside quotes), or -1. */
  static int commentStart(String line) {
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '\'') {
        quoted = !quoted;
      } else if (c == '#' && !quoted && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
        return i;
      }
    }
    return -1;
  }

  static String normalise(String command) {
    return command.replace("$jar", JAR).strip().replaceAll("\\s+", " ");
  }

  /** The arguments after the jar, single quotes removed (the documents quote only globs). */
  static List<String> arguments(String command) {
    List<String> words = Arrays.asList(command.split(" "));
    int jar = words.indexOf(JAR);
    return words.subList(jar + 1, words.size()).stream()
        .map(w -> w.replace("'", ""))
        .collect(Collectors.toList());
  }

  /** Relative link targets outside code (fenced blocks and inline code spans). */
  static List<String> links(Path doc) throws IOException {
    List<String> out = new ArrayList<>();
    boolean fenced = false;
    for (String line : Files.readAllLines(doc, StandardCharsets.UTF_8)) {
      if (line.strip().startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      if (fenced) {
        continue;
      }
      Matcher m = LINK.matcher(INLINE_CODE.matcher(line).replaceAll("``"));
      while (m.find()) {
        String target = m.group(1);
        if (!target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
          out.add(target);
        }
      }
    }
    return out;
  }

  private static Path resolve(Path doc, String target) {
    String path = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
    return path.isEmpty() ? doc : doc.getParent().resolve(path).normalize();
  }

  private static String problem(Path doc, String target) throws IOException {
    Path linked = resolve(doc, target);
    if (!linked.startsWith(root)) {
      return "outside the repository";
    }
    if (!Files.exists(linked)) {
      return "no such file";
    }
    int hash = target.indexOf('#');
    if (hash < 0 || !linked.toString().endsWith(".md")) {
      return null;
    }
    String anchor = target.substring(hash + 1);
    return anchors(linked).contains(anchor) ? null : "no heading with anchor #" + anchor;
  }

  /** GitHub's heading anchors of a Markdown file. */
  static Set<String> anchors(Path doc) throws IOException {
    Set<String> out = new LinkedHashSet<>();
    Map<String, Integer> repeats = new HashMap<>();
    boolean fenced = false;
    for (String line : Files.readAllLines(doc, StandardCharsets.UTF_8)) {
      if (line.strip().startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      if (fenced || !line.matches("^#{1,6} .*")) {
        continue;
      }
      String slug = slug(line.replaceFirst("^#+ ", ""));
      int n = repeats.merge(slug, 1, Integer::sum);
      out.add(n == 1 ? slug : slug + "-" + (n - 1));
    }
    return out;
  }

  static String slug(String heading) {
    return heading
        .strip()
        .toLowerCase(Locale.ROOT)
        .replaceAll("[^\\p{L}\\p{N}_ -]", "")
        .replace(' ', '-');
  }

  @Test
  void findsJoinedCommandsTheirMarkersAndHeadings(@TempDir Path dir) throws IOException {
    Path doc = dir.resolve("page.md");
    Files.writeString(
        doc,
        String.join(
            "\n",
            "# A page",
            "## A page",
            "```bash",
            "jar=" + JAR,
            "java -jar $jar import-vae \\",
            "    --diffusers=x --output=y  # needs: a download",
            "java -jar " + JAR + " --requests='a#b/*' --output=/tmp/o",
            "```",
            "[up](#a-page-1) `[not](a link)` [file](other.md)"));
    List<String> lines = commandLines(doc);
    assertEquals(2, lines.size(), lines.toString());
    String first = lines.get(0);
    assertTrue(first.substring(commentStart(first)).startsWith("# needs: a download"), first);
    assertEquals(
        "java -jar " + JAR + " import-vae --diffusers=x --output=y",
        normalise(first.substring(0, commentStart(first))));
    assertEquals(-1, commentStart(lines.get(1)), "a # inside quotes is no comment");
    assertEquals(List.of("#a-page-1", "other.md"), links(doc));
    assertEquals(Set.of("a-page", "a-page-1"), anchors(doc));
  }

  @Test
  void slugsFollowGitHub() {
    assertEquals(
        "quote-accuracy---plan-against-the-run", slug("Quote accuracy: --plan against the run"));
    assertEquals("the-quote---plan", slug("The quote: `--plan`"));
    assertEquals(
        "kubernetes-flink-kubernetes-operator", slug("Kubernetes (Flink Kubernetes Operator)"));
  }
}
