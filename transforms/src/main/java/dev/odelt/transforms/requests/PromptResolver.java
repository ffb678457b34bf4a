package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.RejectReason;
import java.io.Serializable;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Resolves a free-text prompt or a class label to a class id of a class-conditional model, using
 * the labels and synonyms of its manifest. Built once per model: an index from every normalised
 * label and synonym to the classes using it, and an index from letter pairs to the names holding
 * them. A prompt that names a class costs a few hash lookups; only a prompt without any exact name
 * pays for edit distances, and only against names whose letter pairs and length leave them a chance
 * to reach the fuzzy threshold.
 *
 * <p>Prompts, in order, stopping at the first step that decides:
 *
 * <ol>
 *   <li>normalise: Unicode NFKC, lower case, every run of characters that are not letters or digits
 *       becomes one space;
 *   <li>exact match of the whole normalised text against a label or synonym;
 *   <li>drop filler words ({@link #FILLER}: "a photo of", "an image of a", "handwritten", "digit",
 *       …) and match the rest exactly;
 *   <li>names inside the text: scanning the words left to right, the longest run of words that is a
 *       label or synonym (up to the longest name's word count) is taken as one name ("a photo of a
 *       golden retriever on grass" finds "golden retriever"); names made only of filler words count
 *       only when nothing else is found; other words are ignored. Accepted when exactly one class
 *       has every name found;
 *   <li>fuzzy, only when no name was found: similarity {@code 1 - d(a, b) / max(|a|, |b|)}, d the
 *       edit distance with adjacent swaps (optimal string alignment), of the text without filler
 *       against every label and synonym; accepted when the best is ≥ {@value #FUZZY_THRESHOLD} and
 *       names one class.
 * </ol>
 *
 * A name that several classes share (ImageNet's "crane" is class 134, the bird, and 517, the
 * machine) decides nothing: when the text names only such a name it is rejected as {@code
 * AMBIGUOUS_PROMPT}, the message and suggestions listing every candidate as {@code "<id>:
 * <label>"}. A prompt naming different classes ("a seven next to a 3") or none is rejected as
 * {@code UNRESOLVED_PROMPT} with three close labels as suggestions (see {@link #suggestions}).
 * Class labels ({@code class_label}) accept only steps 1–2 and are otherwise rejected as {@code
 * UNKNOWN_CLASS_LABEL} ({@code AMBIGUOUS_PROMPT} for a shared name).
 */
public final class PromptResolver implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Minimum similarity for a fuzzy match. */
  public static final double FUZZY_THRESHOLD = 0.75;

  /** Suggestions given with an unresolved prompt or label. */
  static final int SUGGESTIONS = 3;

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

  /** Normalised label or synonym → the sorted class ids using it. */
  private final Map<String, int[]> index;

  /** The most words of any name in {@link #index}. */
  private final int maxWords;

  /** Every name of {@link #index}, numbered. */
  private final String[] names;

  /** Number of distinct letter pairs ({@link #pairs}) of each name. */
  private final int[] pairCounts;

  /** Letter pair → the numbers of the names that contain it: the candidate filter. */
  private final Map<Integer, int[]> postings;

  /** Letter counts of each name ({@link #letters}), for the bag-distance bound. */
  private final byte[][] letterCounts;

  private PromptResolver(int numClasses, List<String> labels, Map<String, Set<Integer>> names) {
    this.numClasses = numClasses;
    this.labels = labels;
    this.index = new HashMap<>();
    int words = 1;
    for (Map.Entry<String, Set<Integer>> e : names.entrySet()) {
      index.put(e.getKey(), e.getValue().stream().mapToInt(Integer::intValue).toArray());
      words = Math.max(words, e.getKey().split(" ").length);
    }
    this.maxWords = words;
    this.names = names.keySet().toArray(new String[0]);
    this.pairCounts = new int[this.names.length];
    this.letterCounts = new byte[this.names.length][];
    int[][] pairsOf = new int[this.names.length][];
    int total = 0;
    for (int n = 0; n < this.names.length; n++) {
      letterCounts[n] = letters(this.names[n]);
      pairsOf[n] = pairs(this.names[n]);
      pairCounts[n] = pairsOf[n].length;
      total += pairCounts[n];
    }
    // (pair, name) entries sorted by pair, then cut into one postings list per pair.
    long[] entries = new long[total];
    int e = 0;
    for (int n = 0; n < this.names.length; n++) {
      for (int pair : pairsOf[n]) {
        entries[e++] = ((long) pair << 32) | n;
      }
    }
    Arrays.sort(entries);
    this.postings = new HashMap<>();
    for (int start = 0; start < total; ) {
      int pair = (int) (entries[start] >> 32);
      int end = start;
      while (end < total && (int) (entries[end] >> 32) == pair) {
        end++;
      }
      int[] list = new int[end - start];
      for (int k = start; k < end; k++) {
        list[k - start] = (int) entries[k];
      }
      postings.put(pair, list);
      start = end;
    }
  }

  /** Builds the resolver of a model; classes absent from the manifest are labelled by their id. */
  public static PromptResolver of(ModelManifest manifest) {
    int numClasses = manifest.getArchitecture().getNumClasses();
    String[] labels = new String[numClasses];
    Map<String, Set<Integer>> names = new TreeMap<>();
    for (ClassLabel c : manifest.getClassesList()) {
      if (c.getId() < 0 || c.getId() >= numClasses) {
        throw new IllegalArgumentException(
            "Model manifest lists class id " + c.getId() + " outside [0, " + numClasses + ")");
      }
      labels[c.getId()] = c.getLabel().isEmpty() ? Integer.toString(c.getId()) : c.getLabel();
      add(names, labels[c.getId()], c.getId());
      for (String synonym : c.getSynonymsList()) {
        add(names, synonym, c.getId());
      }
    }
    for (int id = 0; id < numClasses; id++) {
      if (labels[id] == null) {
        labels[id] = Integer.toString(id);
        add(names, labels[id], id);
      }
    }
    return new PromptResolver(numClasses, List.of(labels), names);
  }

  private static void add(Map<String, Set<Integer>> names, String key, int id) {
    String norm = normalise(key);
    if (!norm.isEmpty()) {
      names.computeIfAbsent(norm, k -> new TreeSet<>()).add(id);
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
    String norm = normalise(label);
    int[] hit = index.get(norm);
    if (hit != null && hit.length == 1) {
      return hit[0];
    }
    if (hit != null) {
      throw ambiguous("class_label '" + label + "'", norm, hit);
    }
    throw new RejectedRequestException(
        RejectReason.UNKNOWN_CLASS_LABEL,
        "class_label '" + label + "' is not a label or synonym of the model.",
        suggestions(norm));
  }

  /** Resolves a prompt (see the class comment for the steps). */
  public int resolvePrompt(String prompt) throws RejectedRequestException {
    String norm = normalise(prompt);
    String what = "The prompt '" + prompt + "'";
    int[] hit = index.get(norm);
    if (hit != null) {
      return unique(hit, what, norm);
    }
    String[] words = norm.isEmpty() ? new String[0] : norm.split(" ");
    List<String> kept = new ArrayList<>();
    for (String w : words) {
      if (!FILLER.contains(w)) {
        kept.add(w);
      }
    }
    String rest = String.join(" ", kept);
    hit = index.get(rest);
    if (hit != null) {
      return unique(hit, what, rest);
    }
    Map<String, int[]> found = namesIn(words);
    if (!found.isEmpty()) {
      Set<Integer> common = null;
      Set<Integer> all = new TreeSet<>();
      for (int[] ids : found.values()) {
        Set<Integer> these = new TreeSet<>();
        for (int id : ids) {
          these.add(id);
        }
        all.addAll(these);
        if (common == null) {
          common = these;
        } else {
          common.retainAll(these);
        }
      }
      if (common.size() == 1) {
        return common.iterator().next();
      }
      Map.Entry<String, int[]> first = found.entrySet().iterator().next();
      if (found.values().stream().allMatch(ids -> Arrays.equals(ids, first.getValue()))) {
        // Only names shared by the same classes, like "crane": ambiguous, not contradictory.
        throw ambiguous(what, first.getKey(), first.getValue());
      }
      throw new RejectedRequestException(
          RejectReason.UNRESOLVED_PROMPT,
          what
              + " names more than one class ("
              + all.stream().map(labels::get).collect(Collectors.joining(", "))
              + ").",
          suggestions(rest.isEmpty() ? norm : rest));
    }
    if (!rest.isEmpty()) {
      Fuzzy best = fuzzy(rest);
      if (best.ids.size() == 1) {
        return best.ids.iterator().next();
      }
      if (best.ids.size() > 1) {
        throw ambiguous(what, best.name, best.ids.stream().mapToInt(Integer::intValue).toArray());
      }
    }
    throw new RejectedRequestException(
        RejectReason.UNRESOLVED_PROMPT,
        what + " matches no class of the model.",
        suggestions(rest.isEmpty() ? norm : rest));
  }

  private int unique(int[] ids, String what, String name) throws RejectedRequestException {
    if (ids.length == 1) {
      return ids[0];
    }
    throw ambiguous(what, name, ids);
  }

  private RejectedRequestException ambiguous(String what, String name, int[] ids) {
    List<String> candidates = new ArrayList<>();
    for (int id : ids) {
      candidates.add(id + ": " + labels.get(id));
    }
    return new RejectedRequestException(
        RejectReason.AMBIGUOUS_PROMPT,
        what
            + " is ambiguous: '"
            + name
            + "' names "
            + ids.length
            + " classes ("
            + String.join(", ", candidates)
            + "). Send a class_id, or a name that only one of them has.",
        candidates);
  }

  /**
   * The names in a word sequence, longest first from left to right, in order of appearance; names
   * made only of filler words are dropped when there are others.
   */
  private Map<String, int[]> namesIn(String[] words) {
    Map<String, int[]> found = new LinkedHashMap<>();
    Map<String, int[]> fillerOnly = new LinkedHashMap<>();
    int i = 0;
    while (i < words.length) {
      int taken = 0;
      for (int n = Math.min(maxWords, words.length - i); n >= 1 && taken == 0; n--) {
        String name = n == 1 ? words[i] : String.join(" ", Arrays.asList(words).subList(i, i + n));
        int[] ids = index.get(name);
        if (ids != null) {
          boolean filler = true;
          for (int k = i; k < i + n; k++) {
            filler &= FILLER.contains(words[k]);
          }
          (filler ? fillerOnly : found).putIfAbsent(name, ids);
          taken = n;
        }
      }
      i += Math.max(taken, 1);
    }
    return found.isEmpty() ? fillerOnly : found;
  }

  /** The best fuzzy match at or above the threshold: its name and classes (none when below). */
  private record Fuzzy(String name, Set<Integer> ids) {}

  /**
   * The distinct letter pairs of a text padded with a space at both ends, each as one int (the two
   * chars, mixed by an odd multiplier so that hash tables spread them). One edit (insertion,
   * deletion, substitution or adjacent swap) removes at most three of them, so texts at edit
   * distance d share at least {@code |pairs| - 3d} pairs: a lower bound on d that rules out most
   * names without computing an edit distance.
   */
  static int[] pairs(String text) {
    String padded = " " + text + " ";
    int[] all = new int[padded.length() - 1];
    for (int i = 0; i < all.length; i++) {
      all[i] = ((padded.charAt(i) << 16) | padded.charAt(i + 1)) * 0x9E3779B1;
    }
    Arrays.sort(all);
    int distinct = 0;
    for (int i = 0; i < all.length; i++) {
      if (i == 0 || all[i] != all[i - 1]) {
        all[distinct++] = all[i];
      }
    }
    return Arrays.copyOf(all, distinct);
  }

  private static final int LETTER_BUCKETS = 37;

  /** Counts of a..z, 0..9 and anything else (saturating at 127). */
  static byte[] letters(String text) {
    byte[] counts = new byte[LETTER_BUCKETS];
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      int b = c >= 'a' && c <= 'z' ? c - 'a' : c >= '0' && c <= '9' ? 26 + c - '0' : 36;
      if (counts[b] < Byte.MAX_VALUE) {
        counts[b]++;
      }
    }
    return counts;
  }

  /**
   * The bag distance: the larger of the letters one text has in excess of the other, each way. An
   * edit changes each excess by at most one (a swap by none), so it bounds the edit distance from
   * below.
   */
  static int bagDistance(byte[] a, byte[] b) {
    int moreA = 0;
    int moreB = 0;
    for (int i = 0; i < LETTER_BUCKETS; i++) {
      int d = a[i] - b[i];
      if (d > 0) {
        moreA += d;
      } else {
        moreB -= d;
      }
    }
    return Math.max(moreA, moreB);
  }

  /** Distinct letter pairs shared with a text, per name, and the names sharing any. */
  private record Shared(int[] counts, int[] touched) {}

  private Shared sharedPairs(int[] textPairs) {
    int[] shared = new int[names.length];
    int[] touched = new int[16];
    int count = 0;
    for (int pair : textPairs) {
      int[] hits = postings.get(pair);
      if (hits != null) {
        for (int n : hits) {
          if (shared[n]++ == 0) {
            if (count == touched.length) {
              touched = Arrays.copyOf(touched, 2 * count);
            }
            touched[count++] = n;
          }
        }
      }
    }
    return new Shared(shared, Arrays.copyOf(touched, count));
  }

  /**
   * An upper bound of the similarity of a text and name {@code n} from their lengths and shared
   * letter pairs.
   */
  private double similarityBound(int length, int textPairs, int n, int shared) {
    int other = names[n].length();
    int max = Math.max(length, other);
    if (max == 0) {
      return 1;
    }
    int d =
        Math.max(
            Math.abs(length - other),
            Math.max((textPairs - shared + 2) / 3, (pairCounts[n] - shared + 2) / 3));
    return 1 - (double) d / max;
  }

  private Fuzzy fuzzy(String text) {
    int length = text.length();
    int[] textPairs = pairs(text);
    byte[] textLetters = letters(text);
    Shared shared = sharedPairs(textPairs);
    // At the threshold a name needs textPairs - 3 * 0.25 * (length / 0.75) = textPairs - length
    // shared pairs: names sharing none can be skipped unless the text repeats a pair.
    int[] candidates = textPairs.length > length ? shared.touched() : allNames();
    double best = FUZZY_THRESHOLD;
    String bestName = null;
    Set<Integer> bestIds = new TreeSet<>();
    for (int n : candidates) {
      if (similarityBound(length, textPairs.length, n, shared.counts()[n]) < best - 1e-12) {
        continue;
      }
      String name = names[n];
      int max = Math.max(length, name.length());
      int limit = (int) Math.floor((1 - best) * max + 1e-9);
      if (bagDistance(textLetters, letterCounts[n]) > limit) {
        continue;
      }
      int d = editDistance(text, name, limit);
      if (d > limit) {
        continue;
      }
      double s = 1 - (double) d / max;
      if (s > best + 1e-12 || bestName == null) {
        best = s;
        bestName = name;
        bestIds = new TreeSet<>();
      }
      if (Math.abs(s - best) <= 1e-12) {
        for (int id : index.get(name)) {
          bestIds.add(id);
        }
      }
    }
    return new Fuzzy(bestName, bestIds);
  }

  private int[] allNames() {
    int[] all = new int[names.length];
    for (int n = 0; n < all.length; n++) {
      all[n] = n;
    }
    return all;
  }

  /** Names whose edit distance to the text decides the suggestions (see {@link #suggestions}). */
  static final int SUGGESTION_CANDIDATES = 32;

  /**
   * The labels of the {@value #SUGGESTIONS} classes with the most similar names to the text (ties:
   * lower class id first), among the {@value #SUGGESTION_CANDIDATES} names that share the most
   * letter pairs with it (Dice coefficient); all names when fewer than {@value #SUGGESTIONS}
   * classes share any pair. A hint for a rejected input, so it is cheap rather than exhaustive.
   */
  List<String> suggestions(String text) {
    int[] textPairs = pairs(text);
    Shared shared = sharedPairs(textPairs);
    int[] candidates = new int[SUGGESTION_CANDIDATES];
    double[] scores = new double[SUGGESTION_CANDIDATES];
    int count = 0;
    Set<Integer> classes = new TreeSet<>();
    for (int n : shared.touched()) {
      double dice = 2.0 * shared.counts()[n] / (textPairs.length + pairCounts[n]);
      if (count == SUGGESTION_CANDIDATES && dice <= scores[count - 1]) {
        continue;
      }
      int at = Math.min(count, SUGGESTION_CANDIDATES - 1);
      while (at > 0 && scores[at - 1] < dice) {
        candidates[at] = candidates[at - 1];
        scores[at] = scores[at - 1];
        at--;
      }
      candidates[at] = n;
      scores[at] = dice;
      count = Math.min(count + 1, SUGGESTION_CANDIDATES);
    }
    for (int c = 0; c < count; c++) {
      for (int id : index.get(names[candidates[c]])) {
        classes.add(id);
      }
    }
    int[] order = classes.size() >= SUGGESTIONS ? Arrays.copyOf(candidates, count) : allNames();
    Top top = new Top(SUGGESTIONS);
    for (int n : order) {
      String name = names[n];
      int max = Math.max(text.length(), name.length());
      double s = max == 0 ? 1 : 1 - (double) editDistance(text, name) / max;
      for (int id : index.get(name)) {
        top.offer(id, s);
      }
    }
    List<String> out = new ArrayList<>();
    for (int id : top.ids()) {
      out.add(labels.get(id));
    }
    return out;
  }

  /** The best k classes by similarity (ties: lower id), each class counted once at its best. */
  private static final class Top {
    private final int k;
    private final List<Integer> ids = new ArrayList<>();
    private final List<Double> sims = new ArrayList<>();

    Top(int k) {
      this.k = k;
    }

    boolean full() {
      return ids.size() == k;
    }

    /** The similarity a class must reach to enter; -1 while not full. */
    double threshold() {
      return full() ? sims.get(k - 1) : -1;
    }

    void offer(int id, double s) {
      int at = ids.indexOf(id);
      if (at >= 0) {
        if (s <= sims.get(at)) {
          return;
        }
        ids.remove(at);
        sims.remove(at);
      } else if (full() && (s < sims.get(k - 1) || s == sims.get(k - 1) && id > ids.get(k - 1))) {
        return;
      }
      int pos = 0;
      while (pos < ids.size() && (sims.get(pos) > s || sims.get(pos) == s && ids.get(pos) < id)) {
        pos++;
      }
      ids.add(pos, id);
      sims.add(pos, s);
      if (ids.size() > k) {
        ids.remove(k);
        sims.remove(k);
      }
    }

    List<Integer> ids() {
      return ids;
    }
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
    return editDistance(a, b, Integer.MAX_VALUE);
  }

  /**
   * {@link #editDistance(String, String)} when it is at most {@code limit}; otherwise some value
   * above {@code limit} (the computation stops once two consecutive rows exceed it, after which no
   * later row can come back below).
   */
  static int editDistance(String a, String b, int limit) {
    if (Math.abs(a.length() - b.length()) > limit) {
      return limit == Integer.MAX_VALUE ? limit : limit + 1;
    }
    int[] prev2 = new int[b.length() + 1];
    int[] prev = new int[b.length() + 1];
    int[] row = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    boolean prevOver = false;
    for (int i = 1; i <= a.length(); i++) {
      row[0] = i;
      int rowMin = row[0];
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        int d = Math.min(Math.min(prev[j] + 1, row[j - 1] + 1), prev[j - 1] + cost);
        if (i > 1
            && j > 1
            && a.charAt(i - 1) == b.charAt(j - 2)
            && a.charAt(i - 2) == b.charAt(j - 1)) {
          d = Math.min(d, prev2[j - 2] + 1);
        }
        row[j] = d;
        rowMin = Math.min(rowMin, d);
      }
      boolean over = rowMin > limit;
      if (over && prevOver) {
        return limit + 1;
      }
      prevOver = over;
      int[] recycled = prev2;
      prev2 = prev;
      prev = row;
      row = recycled;
    }
    return prev[b.length()];
  }

  @Override
  public String toString() {
    return "PromptResolver" + Arrays.toString(labels.toArray());
  }
}
