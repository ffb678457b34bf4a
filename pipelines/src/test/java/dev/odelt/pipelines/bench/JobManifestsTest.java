package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.Tier;
import dev.odelt.pipelines.bench.JobManifests.ImageJob;
import dev.odelt.pipelines.bench.JobManifests.Request;
import dev.odelt.pipelines.bench.JobManifests.TierChoice;
import dev.odelt.transforms.requests.Seeds;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobManifestsTest {

  private static Map<TierChoice, Double> mix() {
    Map<TierChoice, Double> mix = new LinkedHashMap<>();
    mix.put(TierChoice.preset("draft"), 0.5);
    mix.put(TierChoice.of(Tier.of(2, 4)), 0.3);
    mix.put(TierChoice.of(Tier.of(1, 2)), 0.2);
    return mix;
  }

  @Test
  void generationIsDeterministicAndHitsTheTotal() {
    List<Request> a = JobManifests.mixed(42, 1000, mix(), 1, 8, 10);
    List<Request> b = JobManifests.mixed(42, 1000, mix(), 1, 8, 10);
    assertEquals(a, b);
    assertEquals(JobManifests.jsonl(a), JobManifests.jsonl(b));
    assertNotEquals(a, JobManifests.mixed(43, 1000, mix(), 1, 8, 10));
    assertEquals(1000, a.stream().mapToInt(Request::images).sum());
    for (Request r : a) {
      assertTrue(r.images() >= 1 && r.images() <= 8, r.toString());
      assertTrue(r.classId() >= 0 && r.classId() < 10, r.toString());
    }
    assertEquals(3, JobManifests.imagesPerTier(a).size());
  }

  @Test
  void jsonlNamesPresetsAndExplicitTiers() {
    String text =
        JobManifests.jsonl(
            List.of(
                new Request("r1", 3, 2, 7, TierChoice.preset("draft")),
                new Request("r2", 4, 1, 8, TierChoice.of(Tier.of(2, 4))),
                new Request("r3", 5, 1, 9, TierChoice.of(Tier.of(1, 6).withGuidance(3f)))));
    assertEquals(
        "{\"request_id\":\"r1\",\"class_id\":3,\"num_images\":2,\"seed\":7,\"tier_name\":\"draft\"}\n"
            + "{\"request_id\":\"r2\",\"class_id\":4,\"num_images\":1,\"seed\":8,"
            + "\"tier\":{\"steps\":2,\"blocks\":4,\"solver\":\"EULER\"}}\n"
            + "{\"request_id\":\"r3\",\"class_id\":5,\"num_images\":1,\"seed\":9,"
            + "\"tier\":{\"steps\":1,\"blocks\":6,\"solver\":\"EULER\",\"guidance\":3.0}}\n",
        text);
  }

  @Test
  void expansionUsesTheJobsSeedsAndBatchesAreFullPerTier() {
    List<Request> requests =
        List.of(
            new Request("b", 1, 20, 99, TierChoice.of(Tier.of(1, 2))),
            new Request("a", 2, 5, 11, TierChoice.of(Tier.of(2, 2))));
    List<ImageJob> images = JobManifests.expand(requests);
    assertEquals(25, images.size());
    assertEquals("a", images.get(0).requestId());
    assertEquals(Seeds.forImage(11, 0), images.get(0).item().seed());
    assertEquals(Seeds.forImage(99, 19), images.get(24).item().seed());
    assertEquals(1, images.get(24).item().classId());
    List<List<ImageJob>> batches = JobManifests.batches(images, 16);
    assertEquals(List.of(5, 16, 4), batches.stream().map(List::size).toList());
  }
}
