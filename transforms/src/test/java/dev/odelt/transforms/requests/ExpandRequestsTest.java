package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.TierSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class ExpandRequestsTest {

  @TempDir Path out;

  static ResolvedRequest request(String id, long images, long seed) {
    return ResolvedRequest.newBuilder()
        .setRequestId(id)
        .setClassId(3)
        .setClassLabel("3")
        .setNumImages(images)
        .setSeed(seed)
        .setTier(TierSpec.newBuilder().setSteps(4).setBlocks(4))
        .setTierLabel("s4-b4")
        .setModelName("m")
        .setModelVersion("1")
        .build();
  }

  private static PCollection<String> describe(PCollection<ImageTask> tasks, String name) {
    return tasks.apply(
        name,
        MapElements.into(TypeDescriptors.strings())
            .via(
                (ImageTask t) ->
                    t.getRequest().getRequestId()
                        + "/"
                        + t.getIndex()
                        + "/"
                        + t.getSeed()
                        + "/"
                        + t.getImagePath()));
  }

  private static List<String> expected(String id, long images, long seed) {
    List<String> out = new ArrayList<>();
    for (long i = 0; i < images; i++) {
      out.add(
          id + "/" + i + "/" + Seeds.forImage(seed, i) + "/images/s4-b4/" + id + "/" + i + ".png");
    }
    return out;
  }

  @Test
  void oneTaskPerImageWithDerivedSeedsWhateverTheChunkSize(TestPipeline pipeline) {
    List<String> all = new ArrayList<>(expected("big", 23, 7));
    all.addAll(expected("small", 1, 9));
    for (int chunk : new int[] {1, 5, 100}) {
      PCollectionTuple tasks =
          pipeline
              .apply("Create" + chunk, Create.of(request("big", 23, 7), request("small", 1, 9)))
              .apply("Expand" + chunk, ExpandRequests.into(out.toString()).withChunkSize(chunk));
      PAssert.that(describe(tasks.get(ExpandRequests.TASKS), "Describe" + chunk))
          .containsInAnyOrder(all);
      PAssert.that(tasks.get(ExpandRequests.RESUMED)).empty();
    }
    pipeline.run().waitUntilFinish();
  }

  @Test
  void resumeSkipsImagesThatExist(TestPipeline pipeline) throws IOException {
    Path image = out.resolve("images/s4-b4/r/2.png");
    Files.createDirectories(image.getParent());
    Files.write(image, new byte[] {1});
    PCollectionTuple tasks =
        pipeline
            .apply(Create.of(request("r", 4, 1)))
            .apply(ExpandRequests.into(out.toString()).withChunkSize(3).withResume(true));
    PAssert.that(
            tasks
                .get(ExpandRequests.TASKS)
                .apply(MapElements.into(TypeDescriptors.longs()).via(ImageTask::getIndex)))
        .containsInAnyOrder(0L, 1L, 3L);
    PAssert.thatSingleton(tasks.get(ExpandRequests.RESUMED).apply(Count.globally())).isEqualTo(1L);
    pipeline.run().waitUntilFinish();
  }
}
