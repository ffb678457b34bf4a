package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.RejectReason;
import java.io.Serializable;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Resolves a free-text prompt or a class label to a class id of a class-conditional model, using
 * the labels and synonyms of its manifest.
 *
 * <p>Prompts, in order, stopping at the first unambiguous hit:
 *
 * <ol>
 *   <li>normalise: Unicode NFKC, lower case, every run of characters that are not letters or digits
 *       becomes one space;
 *   <li>exact match of the whole normalised text against a label or synonym;
 *   <li>drop filler words ({@link #FILLER}: "a photo of", "an image of a", "handwritten", "digit",
 *       …) and match the rest exactly;
 *   <li>match each remaining word exactly; accepted when all matching words name one class;
 *   <li>fuzzy: similarity {@code 1 - d(a, b) / max(|a|, |b|)}, d the edit distance with adjacent
 *       swaps (optimal string alignment), of the remaining text against every label and synonym;
 *       accepted when the best is ≥ {@value #FUZZY_THRESHOLD} and names one class.
 * </ol>
 *
 * A prompt that none of these resolves is rejected ({@code UNRESOLVED_PROMPT}) with the three
 * closest labels as suggestions. Class labels ({@code class_label}) accept only steps 1–2 and are
 * otherwise rejected as {@code UNKNOWN_CLASS_LABEL}.
 */
public final class PromptResolver implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Minimum similarity for a fuzzy match. */
  public static final double FUZZY_THRESHOLD = 0.75;

  /** Words dropped from prompts before matching. */
  public static final Set<String> FILLER =
      Set.of(
          "a",
          "an",
          "the",
          "of",
          "some",
          "this",
          "that",
          "please",
          "show",
          "showing",
          "me",
          "photo",
          "photograph",
          "picture",
          "pic",
          "image",
          "drawing",
          "sketch",
          "scan",
          "handwritten",
          "hand",
          "written",
          "handwriting",
          "digit",
          "number",
          "numeral",
          "figure",
          "symbol",
          "character",
          "class",
          "label",
          "sample",
          "generate",
          "draw",
          "make",
          "write",
          "in",
          "on",
          "with",
          "black",
          "white",
          "and",
          "style",
          "like",
          "looks",
          "it");

  private final int numClasses;
  private final List<String> labels;

  /** Normalised label or synonym → class ids using it. */
  private final Map<String, Set<Integer>> index;

  private PromptResolver(int numClasses, List<String> labels, Map<String, Set<Integer>> index) {
    this.numClasses = numClasses;
    this.labels = labels;
    this.index = index;
  }

  /** Builds the resolver of a model; classes absent from the manifest are labelled by their id. */
  public static PromptResolver of(ModelManifest manifest) {
    int numClasses = manifest.getArchitecture().getNumClasses();
    String[] labels = new String[numClasses];
    Map<String, Set<Integer>> index = new LinkedHashMap<>();
    for (ClassLabel c : manifest.getClassesList()) {
      if (c.getId() < 0 || c.getId() >= numClasses) {
        throw new IllegalArgumentException(
            "Model manifest lists class id " + c.getId() + " outside [0, " + numClasses + ")");
      }
      labels[c.getId()] = c.getLabel().isEmpty() ? Integer.toString(c.getId()) : c.getLabel();
      add(index, labels[c.getId()], c.getId());
      for (String synonym : c.getSynonymsList()) {
        add(index, synonym, c.getId());
      }
    }
    for (int id = 0; id < numClasses; id++) {
      if (labels[id] == null) {
        labels[id] = Integer.toString(id);
        add(index, labels[id], id);
      }
    }
    return new PromptResolver(numClasses, List.of(labels), index);
  }

  private static void add(Map<String, Set<Integer>> index, String key, int id) {
    String norm = normalise(key);
    if (!norm.isEmpty()) {
      index.computeIfAbsent(norm, k -> new TreeSet<>()).add(id);
    }
  }

  public int numClasses() {
    return numClasses;
  }

  /** The model's label of a class. */
  public String label(int classId) {
    return labels.get(classId);
  }

  /** Resolves a {@code class_label}: exact (normalised) label or synonym only. */
  public int resolveLabel(String label) throws RejectedRequestException {
    Set<Integer> hit = index.get(normalise(label));
    if (hit != null && hit.size() == 1) {
      return hit.iterator().next();
    }
    throw new RejectedRequestException(
        RejectReason.UNKNOWN_CLASS_LABEL,
        "class_label '" + label + "' is not a label or synonym of the model.",
        suggestions(normalise(label)));
  }

  /** Resolves a prompt (see the class comment for the steps). */
  public int resolvePrompt(String prompt) throws RejectedRequestException {
    String norm = normalise(prompt);
    Integer hit = unique(index.get(norm));
    if (hit != null) {
      return hit;
    }
    List<String> words = new ArrayList<>();
    for (String w : norm.split(" ")) {
      if (!w.isEmpty() && !FILLER.contains(w)) {
        words.add(w);
      }
    }
    String rest = String.join(" ", words);
    hit = unique(index.get(rest));
    if (hit != null) {
      return hit;
    }
    Set<Integer> wordHits = new TreeSet<>();
    for (String w : words) {
      Set<Integer> ids = index.get(w);
      if (ids != null) {
        wordHits.addAll(ids);
      }
    }
    hit = unique(wordHits);
    if (hit != null) {
      return hit;
    }
    if (!rest.isEmpty() && wordHits.isEmpty()) {
      double best = -1;
      Set<Integer> bestIds = new TreeSet<>();
      for (Map.Entry<String, Set<Integer>> e : index.entrySet()) {
        double s = similarity(rest, e.getKey());
        if (s > best) {
          best = s;
          bestIds = new TreeSet<>(e.getValue());
        } else if (s == best) {
          bestIds.addAll(e.getValue());
        }
      }
      if (best >= FUZZY_THRESHOLD && bestIds.size() == 1) {
        return bestIds.iterator().next();
      }
    }
    String why =
        wordHits.size() > 1
            ? "names more than one class ("
                + wordHits.stream().map(labels::get).collect(Collectors.joining(", "))
                + ")"
            : "matches no class of the model";
    throw new RejectedRequestException(
        RejectReason.UNRESOLVED_PROMPT,
        "The prompt '" + prompt + "' " + why + ".",
        suggestions(rest.isEmpty() ? norm : rest));
  }

  private static Integer unique(Set<Integer> ids) {
    return ids != null && ids.size() == 1 ? ids.iterator().next() : null;
  }

  /** The labels of the three classes whose label or synonyms are most similar to the text. */
  List<String> suggestions(String text) {
    Map<Integer, Double> bestPerClass = new HashMap<>();
    for (Map.Entry<String, Set<Integer>> e : index.entrySet()) {
      double s = similarity(text, e.getKey());
      for (int id : e.getValue()) {
        bestPerClass.merge(id, s, Math::max);
      }
    }
    return bestPerClass.entrySet().stream()
        .sorted(
            Comparator.<Map.Entry<Integer, Double>>comparingDouble(Map.Entry::getValue)
                .reversed()
                .thenComparing(Map.Entry::getKey))
        .limit(3)
        .map(e -> labels.get(e.getKey()))
        .collect(Collectors.toList());
  }

  /** NFKC, lower case, runs of non-alphanumerics → one space, trimmed. */
  public static String normalise(String text) {
    String nfkc = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
    StringBuilder sb = new StringBuilder();
    boolean space = false;
    for (int i = 0; i < nfkc.length(); ) {
      int c = nfkc.codePointAt(i);
      i += Character.charCount(c);
      if (Character.isLetterOrDigit(c)) {
        if (space && sb.length() > 0) {
          sb.append(' ');
        }
        space = false;
        sb.appendCodePoint(c);
      } else {
        space = true;
      }
    }
    return sb.toString();
  }

  /** {@code 1 - editDistance(a, b) / max(|a|, |b|)}; 1 for two empty strings. */
  static double similarity(String a, String b) {
    int max = Math.max(a.length(), b.length());
    return max == 0 ? 1 : 1 - (double) editDistance(a, b) / max;
  }

  /** Edit distance counting insertions, deletions, substitutions and adjacent swaps as 1. */
  static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  @Override
  public String toString() {
    return "PromptResolver" + Arrays.toString(labels.toArray());
  }
}
