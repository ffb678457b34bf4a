package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.Models;
import dev.odelt.transforms.requests.PromptResolver;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptResolutionBenchTest {

  @Test
  void theTableHasAThousandClassesOfTenNamesAndTheImageNetRows() throws Exception {
    PromptResolver resolver = PromptResolver.of(PromptResolutionBench.manifest());
    assertEquals(1000, resolver.numClasses());
    assertEquals(10, PromptResolutionBench.names(500).size());
    assertEquals(207, resolver.resolvePrompt("a photo of a golden retriever"));
    assertEquals("crane", resolver.label(134));
    assertEquals("crane", resolver.label(517));
  }

  @Test
  @SuppressWarnings("unchecked")
  void shortRunResolvesEveryNamedPromptAndRejectsTheOthers(@TempDir Path dir) throws Exception {
    Section s =
        new PromptResolutionBench()
            .run(new BenchContext(true, Models.DEFAULT_MODEL, dir, dir, 1, dir));
    assertEquals("prompt-resolution", s.id());
    assertEquals(5, s.tables().get(0).rows().size());
    for (String kind : List.of("name", "sentence")) {
      assertEquals(300, ((Map<String, Object>) s.raw().get(kind)).get("resolved"), kind);
    }
    for (String kind : List.of("ambiguous", "unresolved")) {
      assertEquals(0, ((Map<String, Object>) s.raw().get(kind)).get("resolved"), kind);
    }
    int typos = (Integer) ((Map<String, Object>) s.raw().get("typo")).get("resolved");
    assertTrue(typos >= 290, "fuzzy matches of one swap: " + typos);
    assertEquals(992 * 10 + 11L, s.raw().get("names"), "992 synthetic classes, 8 ImageNet rows");
  }
}
