package dev.odelt.transforms.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.BatchStats;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.transforms.batching.BatchByTier;
import dev.odelt.transforms.io.Hashes;
import dev.odelt.transforms.io.PngImages;
import dev.odelt.transforms.requests.Seeds;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateImagesTest {

  @TempDir static Path modelDir;
  static String model;

  /** (tier/request/index → sha256) seen by {@link CaptureFn}, keyed by run name. */
  static final Map<String, Map<String, String>> CAPTURED = new ConcurrentHashMap<>();

  @BeforeAll
  static void writeModel() {
    model = TestModels.writeRandomPackage(modelDir, TestModels.TINY, 11);
  }

  static List<ImageTask> tasks(String id, Tier tier, int count, int classId) {
    ResolvedRequest request =
        ResolvedRequest.newBuilder()
            .setRequestId(id)
            .setClassId(classId)
            .setNumImages(count)
            .setSeed(5)
            .setTier(tier.toProto())
            .setTierLabel(tier.label())
            .setModelName("test-random")
            .setModelVersion("seed-11")
            .build();
    List<ImageTask> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(
          ImageTask.newBuilder()
              .setRequest(request)
              .setIndex(i)
              .setSeed(Seeds.forImage(5, i))
              .setImagePath("images/" + tier.label() + "/" + id + "/" + i + ".png")
              .build());
    }
    return out;
  }

  static final class CaptureFn extends DoFn<RenderedImage, Void> {
    private static final long serialVersionUID = 1L;
    private final String run;

    CaptureFn(String run) {
      this.run = run;
    }

    @ProcessElement
    public void process(@Element RenderedImage image) {
      CAPTURED
          .computeIfAbsent(run, r -> new ConcurrentHashMap<>())
          .put(image.getTask().getImagePath(), Hashes.sha256(image.getPng().toByteArray()));
    }
  }

  private static void run(String name, List<ImageTask> all, int batchSize, int parallelism) {
    String[] args = {"--runner=DirectRunner", "--targetParallelism=" + parallelism};
    Pipeline p = Pipeline.create(PipelineOptionsFactory.fromArgs(args).create());
    PCollectionTuple out =
        p.apply(Create.of(all))
            .apply(BatchByTier.ofSize(batchSize))
            .apply(GenerateImages.using(model).onDevice("cpu").withMaxBatchSize(batchSize));
    out.get(GenerateImages.IMAGES).apply(ParDo.of(new CaptureFn(name)));
    PAssert.that(out.get(GenerateImages.STATS))
        .satisfies(
            stats -> {
              long images = 0;
              long warmUps = 0;
              for (BatchStats s : stats) {
                if (s.getWarmUp()) {
                  // One guided Euler step through all blocks at the full batch size.
                  warmUps++;
                  assertEquals(batchSize, s.getBatchSize());
                  assertEquals(
                      Tier.of(1, TestModels.TINY.depth()).withGuidance(2f).label(),
                      s.getTierLabel());
                  assertEquals(batchSize, s.getVelocityEvaluations());
                  continue;
                }
                assertTrue(s.getBatchSize() >= 1 && s.getBatchSize() <= batchSize);
                Tier tier = Tier.fromProto(s.getTier());
                assertEquals(tier.label(), s.getTierLabel());
                assertEquals(
                    s.getVelocityEvaluations()
                        * TestModels.TINY.blocksRun(tier.blocks())
                        * tier.guidanceFactor(),
                    s.getBlockEvaluations());
                assertTrue(
                    s.getDeviceNanos() > 0 && s.getDeviceNanos() <= s.getWallNanos(), "" + s);
                images += s.getBatchSize();
              }
              assertEquals(all.size(), images);
              long batches = 0;
              for (BatchStats s : stats) {
                batches += s.getWarmUp() ? 0 : 1;
              }
              assertTrue(
                  warmUps >= 1 && warmUps <= batches,
                  "a warm-up per worker thread, before its first batch: " + warmUps);
              return null;
            });
    p.run().waitUntilFinish();
  }

  @Test
  void imagesAreIdenticalForAnyBatchSizeAndParallelism() throws Exception {
    ModelConfig c = TestModels.TINY;
    List<ImageTask> all = new ArrayList<>(tasks("a", Tier.of(2, c.depth()), 10, 7));
    all.addAll(tasks("b", Tier.of(2, c.depthMin()).withGuidance(2), 6, 3));
    run("b1", all, 1, 1);
    run("b16", all, 16, 2);
    Map<String, String> one = new TreeMap<>(CAPTURED.get("b1"));
    assertEquals(16, one.size());
    assertEquals(one, new TreeMap<>(CAPTURED.get("b16")));
    assertTrue(
        one.values().stream().distinct().count() > 1, "different seeds give different images");
  }

  @Test
  void pngsHaveTheModelsSize() throws Exception {
    List<ImageTask> all = tasks("c", Tier.of(1, TestModels.TINY.depthMin()), 2, 0);
    Pipeline p = Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create());
    PCollectionTuple out =
        p.apply(Create.of(all))
            .apply(BatchByTier.ofSize(2))
            .apply(GenerateImages.using(model).onDevice("cpu").withMaxBatchSize(2));
    PAssert.that(out.get(GenerateImages.IMAGES))
        .satisfies(
            images -> {
              for (RenderedImage r : images) {
                try {
                  var img = PngImages.read(r.getPng().toByteArray());
                  assertEquals(8, img.getWidth());
                  assertEquals(3, img.getRaster().getNumBands());
                } catch (java.io.IOException e) {
                  throw new AssertionError(e);
                }
                assertTrue(r.getDeviceSeconds() > 0);
                assertTrue(r.getBlockEvaluations() > 0);
              }
              return null;
            });
    p.run().waitUntilFinish();
  }
}
