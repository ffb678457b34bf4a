package dev.odelt.transforms.requests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.transforms.TestManifests;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Prompt resolution against a synthetic ImageNet-style table of 1000 classes × 10 names. */
class ThousandClassPromptsTest {

  private static final ModelManifest MANIFEST = TestManifests.thousandClasses();
  private static final PromptResolver RESOLVER = PromptResolver.of(MANIFEST);

  @Test
  void namesInAPromptResolveToTheirClass() throws RejectedRequestException {
    assertEquals(207, RESOLVER.resolvePrompt("a photo of a golden retriever"));
    assertEquals(207, RESOLVER.resolvePrompt("Golden Retriever"));
    assertEquals(207, RESOLVER.resolvePrompt("a golden retriever playing on the beach at dusk"));
    assertEquals(208, RESOLVER.resolvePrompt("a photo of a labrador retriever"));
    assertEquals(1, RESOLVER.resolvePrompt("Carassius auratus in a bowl"));
    assertEquals(248, RESOLVER.resolvePrompt("a husky"));
    assertEquals(250, RESOLVER.resolvePrompt("a siberian husky in the snow"), "longest name wins");
    assertEquals(249, RESOLVER.resolvePrompt("an alaskan malamute"));
    assertEquals(207, RESOLVER.resolvePrompt("a golden retreiver"), "fuzzy, one adjacent swap");
    for (int id : new int[] {2, 133, 500, 999}) {
      List<String> names = TestManifests.syntheticNames(id);
      assertEquals(id, RESOLVER.resolvePrompt(names.get(0)));
      assertEquals(id, RESOLVER.resolvePrompt("a picture of a " + names.get(5) + " at night"));
      assertEquals(id, RESOLVER.resolvePrompt(names.get(1)), "the binomial " + names.get(1));
      assertEquals(id, RESOLVER.resolveLabel(names.get(9)));
    }
  }

  @Test
  void aNameSharedByClassesIsAmbiguousAndListsThem() {
    for (String prompt : List.of("a photo of a crane", "crane", "Crane!", "a crane and a crane")) {
      RejectedRequestException e =
          assertThrows(RejectedRequestException.class, () -> RESOLVER.resolvePrompt(prompt));
      assertEquals(RejectReason.AMBIGUOUS_PROMPT, e.reason(), prompt);
      assertEquals(List.of("134: crane", "517: crane"), e.suggestions());
      assertTrue(
          e.getMessage().contains("'crane' names 2 classes (134: crane, 517: crane)"),
          e.getMessage());
    }
    RejectedRequestException label =
        assertThrows(RejectedRequestException.class, () -> RESOLVER.resolveLabel("crane"));
    assertEquals(RejectReason.AMBIGUOUS_PROMPT, label.reason());
    assertEquals(List.of("134: crane", "517: crane"), label.suggestions());
  }

  @Test
  void twoDifferentClassesOrNoneAreUnresolved() {
    RejectedRequestException two =
        assertThrows(
            RejectedRequestException.class,
            () -> RESOLVER.resolvePrompt("a golden retriever chasing a tench"));
    assertEquals(RejectReason.UNRESOLVED_PROMPT, two.reason());
    assertTrue(two.getMessage().contains("tench, golden retriever"), two.getMessage());
    RejectedRequestException craneAndDog =
        assertThrows(
            RejectedRequestException.class,
            () -> RESOLVER.resolvePrompt("a crane lifting a golden retriever"));
    assertEquals(RejectReason.UNRESOLVED_PROMPT, craneAndDog.reason());
    RejectedRequestException none =
        assertThrows(
            RejectedRequestException.class, () -> RESOLVER.resolvePrompt("a sunset over the sea"));
    assertEquals(RejectReason.UNRESOLVED_PROMPT, none.reason());
    assertEquals(3, none.suggestions().size());
  }

  /** The top three classes by best similarity of any of their names, by brute force. */
  private static List<String> bruteForceSuggestions(String text) {
    Map<Integer, Double> best = new TreeMap<>();
    for (ClassLabel c : MANIFEST.getClassesList()) {
      List<String> names = new ArrayList<>(c.getSynonymsList());
      names.add(c.getLabel());
      for (String name : names) {
        double s = PromptResolver.similarity(text, PromptResolver.normalise(name));
        best.merge(c.getId(), s, Math::max);
      }
    }
    return best.entrySet().stream()
        .sorted(
            Comparator.<Map.Entry<Integer, Double>>comparingDouble(Map.Entry::getValue)
                .reversed()
                .thenComparing(Map.Entry::getKey))
        .limit(3)
        .map(e -> MANIFEST.getClasses(e.getKey()).getLabel())
        .toList();
  }

  @Test
  void suggestionsLeadWithTheClosestClass() {
    for (String text :
        List.of(
            "golden retrievr dog",
            "kalomi",
            "huskie",
            "crane lifting",
            "labradr retrievr",
            "carasius auratis")) {
      assertEquals(bruteForceSuggestions(text).get(0), RESOLVER.suggestions(text).get(0), text);
    }
    for (String text : List.of("sunset sea", "x", "qqqq", "a long text that names nothing")) {
      assertEquals(3, RESOLVER.suggestions(text).size(), text);
    }
  }

  @Test
  void fuzzyMatchingIsTheBruteForceBestAboveTheThreshold() throws RejectedRequestException {
    // One swap or substitution in a name of class 250, 208, 1 or a synthetic class.
    Map<String, Integer> typos =
        Map.of(
            "siberian huksy",
            250,
            "labrador retreiver",
            208,
            "carassius auratis",
            1,
            TestManifests.syntheticNames(733).get(3).replace(" ", " x"),
            733);
    for (Map.Entry<String, Integer> t : typos.entrySet()) {
      assertEquals(t.getValue(), RESOLVER.resolvePrompt(t.getKey()), t.getKey());
    }
  }

  @Test
  void boundedEditDistanceIsExactWithinItsLimit() {
    String[][] pairs = {
      {"golden retriever", "golden retreiver"},
      {"crane", "crain"},
      {"kalomiix beetle", "kalomiix"},
      {"", "abc"},
      {"sunset", "tesnus"}
    };
    for (String[] p : pairs) {
      int exact = PromptResolver.editDistance(p[0], p[1]);
      for (int limit = 0; limit <= exact + 2; limit++) {
        int bounded = PromptResolver.editDistance(p[0], p[1], limit);
        if (exact <= limit) {
          assertEquals(exact, bounded, p[0] + " / " + p[1] + " limit " + limit);
        } else {
          assertTrue(bounded > limit, p[0] + " / " + p[1] + " limit " + limit);
        }
      }
    }
    assertEquals(1, PromptResolver.editDistance("retriever", "retreiver"));
  }
}
