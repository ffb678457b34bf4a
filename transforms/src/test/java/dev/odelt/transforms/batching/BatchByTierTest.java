package dev.odelt.transforms.batching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.ResolvedRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class BatchByTierTest {

  private static ImageTask task(String tier, long index) {
    return ImageTask.newBuilder()
        .setRequest(
            ResolvedRequest.newBuilder()
                .setRequestId("r-" + tier)
                .setTierLabel(tier)
                .setModelName("m")
                .setModelVersion("1"))
        .setIndex(index)
        .build();
  }

  /**
   * Checks that every batch holds 1..{@code max} tasks of its key's tier, that no task appears
   * twice and that {@code images} tasks arrived; returns the number of batches per key.
   */
  private static Map<String, Integer> checkBatches(
      Iterable<KV<ShardedKey<String>, Iterable<ImageTask>>> all, int max, int images) {
    Map<String, Integer> batchCount = new HashMap<>();
    Set<String> seen = new HashSet<>();
    for (KV<ShardedKey<String>, Iterable<ImageTask>> batch : all) {
      int size = 0;
      for (ImageTask t : batch.getValue()) {
        size++;
        assertEquals(batch.getKey().getKey(), BatchByTier.keyOf(t));
        assertTrue(seen.add(t.getRequest().getTierLabel() + "/" + t.getIndex()));
      }
      assertTrue(size >= 1 && size <= max, "batch size " + size);
      batchCount.merge(batch.getKey().getKey(), 1, Integer::sum);
    }
    assertEquals(images, seen.size());
    return batchCount;
  }

  @Test
  void batchesHoldOneTierAndAtMostTheMaximum(TestPipeline pipeline) {
    List<ImageTask> tasks = new ArrayList<>();
    for (int i = 0; i < 23; i++) {
      tasks.add(task("s4-b4", i));
    }
    for (int i = 0; i < 5; i++) {
      tasks.add(task("s2-b2", i));
    }
    PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> batches =
        pipeline.apply(Create.of(tasks)).apply(BatchByTier.ofSize(4));
    PAssert.that(batches)
        .satisfies(
            all -> {
              checkBatches(all, 4, 28);
              return null;
            });
    pipeline.run().waitUntilFinish();
  }

  @Test
  void partialBatchesOfShardsAreRepackedToTheMinimumBatchCount(TestPipeline pipeline) {
    List<ImageTask> tasks = new ArrayList<>();
    for (int i = 0; i < 203; i++) {
      tasks.add(task("s1-b2", i));
    }
    for (int i = 0; i < 37; i++) {
      tasks.add(task("s4-b4", i));
    }
    // Spread over bundles and threads first, so the sharded grouping sees several shards.
    PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> batches =
        pipeline
            .apply(Create.of(tasks))
            .apply(Reshuffle.viaRandomKey())
            .apply(BatchByTier.ofSize(8));
    PAssert.that(batches)
        .satisfies(
            all -> {
              Map<String, Integer> batchCount = checkBatches(all, 8, 240);
              // ceil(203 / 8) = 26 and ceil(37 / 8) = 5: at most one partial batch per tier.
              assertEquals(Map.of("m@1/s1-b2", 26, "m@1/s4-b4", 5), batchCount);
              return null;
            });
    pipeline.run().waitUntilFinish();
  }

  @Test
  void keyNamesModelAndTier() {
    assertEquals("m@1/s4-b4", BatchByTier.keyOf(task("s4-b4", 0)));
  }
}
