package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.JobStats.f;

import dev.odelt.proto.v1.Architecture;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.transforms.requests.PromptResolver;
import dev.odelt.transforms.requests.RejectedRequestException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Issue 16, item 6: microseconds per prompt of {@link PromptResolver} with a 1000-class table of
 * about ten names per class (ImageNet-style: a synthetic table with ImageNet's rows for "golden
 * retriever" (207) and the two "crane" classes (134, 517) copied in). Five prompt kinds, each a
 * list of prompts over random classes: the bare name, a sentence around a name, a sentence around a
 * name with a typo (fuzzy match), an ambiguous name (a dead letter listing the candidates) and a
 * prompt naming no class (a dead letter with three suggestions). Also the one-off cost of building
 * the index for the model.
 *
 * <p>Alone: {@code java -cp pipelines/target/odelt-pipelines.jar
 * dev.odelt.pipelines.bench.Benchmarks --only=prompt-resolution --reportDir=DIR}. No model runs.
 */
public final class PromptResolutionBench implements Benchmark {

  /** Classes of the table. */
  static final int CLASSES = 1000;

  /** Goal: a prompt that names a class, inside a sentence, resolves in at most this. */
  static final double GOAL_MICROS = 50;

  private static final String[] SYLLABLES = {
    "ka", "lo", "mi", "ner", "tu", "vas", "zo", "pe", "ri", "sol",
    "bu", "dra", "fen", "gil", "hox", "jun", "quar", "wex", "yal", "cim"
  };

  private static final String[] KINDS = {
    "beetle", "hound", "finch", "lily", "kettle", "sedan", "lizard", "moth", "ferry"
  };

  /** Rows copied from ImageNet's label file. */
  static final Map<Integer, List<String>> IMAGENET_ROWS =
      Map.of(
          0, List.of("tench", "Tinca tinca"),
          1, List.of("goldfish", "Carassius auratus"),
          134, List.of("crane"),
          207, List.of("golden retriever"),
          208, List.of("Labrador retriever"),
          248, List.of("Eskimo dog", "husky"),
          250, List.of("Siberian husky"),
          517, List.of("crane"));

  @Override
  public String id() {
    return "prompt-resolution";
  }

  /** The names of a synthetic class, common name first: 10 names. */
  static List<String> names(int id) {
    List<String> fixed = IMAGENET_ROWS.get(id);
    if (fixed != null) {
      return fixed;
    }
    String word =
        SYLLABLES[id % 20] + SYLLABLES[(id / 20) % 20] + SYLLABLES[(id / 400) % 20] + "ix";
    LinkedHashSet<String> names = new LinkedHashSet<>();
    names.add(word);
    names.add(Character.toUpperCase(word.charAt(0)) + word.substring(1) + "us " + word + "ensis");
    for (int k = 0; names.size() < 10; k++) {
      names.add(word + " " + KINDS[(id + k) % KINDS.length]);
    }
    return List.copyOf(names);
  }

  /** A 1000-class manifest with {@link #names} as label and synonyms. */
  static ModelManifest manifest() {
    ModelManifest.Builder b =
        ModelManifest.newBuilder()
            .setName("synthetic-imagenet")
            .setVersion("bench")
            .setArchitecture(Architecture.newBuilder().setNumClasses(CLASSES));
    for (int id = 0; id < CLASSES; id++) {
      List<String> n = names(id);
      b.addClasses(
          ClassLabel.newBuilder()
              .setId(id)
              .setLabel(n.get(0))
              .addAllSynonyms(n.subList(1, n.size())));
    }
    return b.build();
  }

  /** The prompts of one kind, over random classes. */
  static List<String> prompts(String kind, int count, long seed) {
    Random random = new Random(seed);
    List<String> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int id = random.nextInt(CLASSES);
      if (id == 134 || id == 517) {
        id = 207; // the shared "crane" belongs to the ambiguous kind only
      }
      List<String> n = names(id);
      String name = n.get(random.nextInt(n.size()));
      switch (kind) {
        case "name" -> out.add(name);
        case "sentence" -> out.add("a photo of a " + name + " in the morning light");
        case "typo" -> out.add("a photo of a " + swapTwo(name, random));
        case "ambiguous" -> out.add(i % 2 == 0 ? "a photo of a crane" : "crane at the harbour");
        case "unresolved" -> out.add("a sunset over the sea number " + i);
        default -> throw new IllegalArgumentException(kind);
      }
    }
    return out;
  }

  /** The name with two adjacent letters swapped (one edit of the resolver's distance). */
  private static String swapTwo(String name, Random random) {
    if (name.length() < 6) {
      return name;
    }
    int at = 1 + random.nextInt(name.length() - 3);
    char[] c = name.toCharArray();
    char t = c[at];
    c[at] = c[at + 1];
    c[at + 1] = t;
    return new String(c);
  }

  @Override
  public Section run(BenchContext context) throws Exception {
    ModelManifest manifest = manifest();
    int count = context.shortMode() ? 300 : 3000;
    int repeats = context.shortMode() ? 3 : 7;
    List<Double> buildMillis = new ArrayList<>();
    PromptResolver resolver = null;
    for (int r = 0; r < repeats + 2; r++) {
      long start = System.nanoTime();
      resolver = PromptResolver.of(manifest);
      if (r >= 2) {
        buildMillis.add((System.nanoTime() - start) / 1e6);
      }
    }
    PromptResolver built = resolver;
    long names = 0;
    for (ClassLabel c : manifest.getClassesList()) {
      names += 1 + c.getSynonymsCount();
    }
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> raw = new LinkedHashMap<>();
    double sentenceMicros = Double.NaN;
    for (String kind : List.of("name", "sentence", "typo", "ambiguous", "unresolved")) {
      List<String> prompts = prompts(kind, count, 20261201L);
      int[] outcome = new int[2]; // resolved, rejected (of the last pass)
      double seconds =
          Timing.medianSeconds(
              2,
              repeats,
              () -> {
                outcome[0] = 0;
                outcome[1] = 0;
                for (String p : prompts) {
                  try {
                    built.resolvePrompt(p);
                    outcome[0]++;
                  } catch (RejectedRequestException e) {
                    outcome[1]++;
                  }
                }
              });
      double micros = seconds * 1e6 / count;
      if (kind.equals("sentence")) {
        sentenceMicros = micros;
      }
      rows.add(
          List.of(
              kind,
              prompts.get(0),
              Integer.toString(count),
              Integer.toString(outcome[0]),
              Integer.toString(outcome[1]),
              f("%.2f", micros)));
      raw.put(kind, Map.of("prompts", count, "micros_per_prompt", micros, "resolved", outcome[0]));
    }
    double build = Timing.median(buildMillis);
    raw.put("classes", CLASSES);
    raw.put("names", names);
    raw.put("index_build_ms", build);
    return new Section(
        id(),
        "Prompt resolution with 1000 classes",
        f(
            "A synthetic ImageNet-style table of %d classes and %d names (ImageNet's rows for"
                + " golden retriever and the two cranes copied in); PromptResolver.of builds the"
                + " index once (median of %d builds after 2 warm-up builds); then, per prompt"
                + " kind, %d prompts over random classes are resolved in one thread, 2 warm-up"
                + " passes and the median of %d passes, divided by the prompt count. Rejected"
                + " prompts include building their dead-letter exception.",
            CLASSES, names, repeats, count, repeats),
        List.of(
            new Section.Table(
                f("Microseconds per prompt (index built in %.1f ms)", build),
                List.of("kind", "example", "prompts", "resolved", "rejected", "µs per prompt"),
                rows)),
        List.of(
            new Section.Goal(
                "a sentence naming one of 1000 classes resolves quickly",
                f("≤ %.0f µs per prompt", GOAL_MICROS),
                f("%.2f µs", sentenceMicros),
                sentenceMicros <= GOAL_MICROS)),
        List.of(
            "Exact names and names inside sentences cost a few hash lookups (one per run of up"
                + " to the longest name's word count); only prompts without any exact name pay"
                + " for edit distances, and those only against names of about their length."),
        raw,
        List.of());
  }
}
