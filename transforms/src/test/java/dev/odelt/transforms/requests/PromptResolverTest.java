package dev.odelt.transforms.requests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.RejectReason;
import dev.odelt.transforms.TestManifests;
import org.junit.jupiter.api.Test;

class PromptResolverTest {

  private final PromptResolver resolver = PromptResolver.of(TestManifests.digits());

  @Test
  void theIssueExamplesResolveToSeven() throws RejectedRequestException {
    assertEquals(7, resolver.resolvePrompt("a handwritten seven"));
    assertEquals(7, resolver.resolvePrompt("7"));
    assertEquals(7, resolver.resolvePrompt("Seven"));
  }

  @Test
  void fillerCasePunctuationAndSynonyms() throws RejectedRequestException {
    assertEquals(0, resolver.resolvePrompt("A photo of the digit ZERO!"));
    assertEquals(0, resolver.resolvePrompt("an image of a nought"));
    assertEquals(3, resolver.resolvePrompt("  three, please "));
    assertEquals(7, resolver.resolvePrompt("Ｓｅｖｅｎ"));
    assertEquals(7, resolver.resolvePrompt("sept"));
    assertEquals(9, resolver.resolvePrompt("handwritten number 9"));
  }

  @Test
  void fuzzyMatchesAboveTheThreshold() throws RejectedRequestException {
    assertEquals(7, resolver.resolvePrompt("a handwritten sevn"));
    assertEquals(8, resolver.resolvePrompt("eihgt"));
    assertEquals(0.8, PromptResolver.similarity("sevn", "seven"), 1e-12);
  }

  @Test
  void unmatchedPromptsCarrySuggestions() {
    RejectedRequestException e =
        assertThrows(RejectedRequestException.class, () -> resolver.resolvePrompt("a giraffe"));
    assertEquals(RejectReason.UNRESOLVED_PROMPT, e.reason());
    assertEquals(3, e.suggestions().size());
    RejectedRequestException near =
        assertThrows(RejectedRequestException.class, () -> resolver.resolvePrompt("sevvvven"));
    assertEquals("7", near.suggestions().get(0));
    RejectedRequestException two =
        assertThrows(
            RejectedRequestException.class, () -> resolver.resolvePrompt("a seven next to a 3"));
    assertTrue(two.getMessage().contains("more than one class"), two.getMessage());
    assertThrows(RejectedRequestException.class, () -> resolver.resolvePrompt("a digit"));
  }

  @Test
  void classLabelsMatchExactlyOnly() throws RejectedRequestException {
    assertEquals(7, resolver.resolveLabel("7"));
    assertEquals(7, resolver.resolveLabel(" Seven "));
    RejectedRequestException e =
        assertThrows(RejectedRequestException.class, () -> resolver.resolveLabel("sevn"));
    assertEquals(RejectReason.UNKNOWN_CLASS_LABEL, e.reason());
    assertEquals("7", e.suggestions().get(0));
  }
}
