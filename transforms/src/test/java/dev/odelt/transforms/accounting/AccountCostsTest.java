package dev.odelt.transforms.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.BatchStats;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.RequestCost;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.proto.v1.TierSpec;
import dev.odelt.transforms.io.OutputLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class AccountCostsTest {

  @TempDir Path out;

  private static final TierSpec S4 = TierSpec.newBuilder().setSteps(4).setBlocks(4).build();

  private static ResolvedRequest request(String id) {
    return ResolvedRequest.newBuilder().setRequestId(id).setTier(S4).setTierLabel("s4-b4").build();
  }

  private static ImageRecord record(String id, long index, boolean resumed) {
    return ImageRecord.newBuilder()
        .setRequestId(id)
        .setIndex(index)
        .setTier(S4)
        .setTierLabel("s4-b4")
        .setResumed(resumed)
        .setDeviceSeconds(resumed ? 0 : 1.5)
        .setBlockEvaluations(resumed ? 0 : 16)
        .build();
  }

  private static BatchStats stats(int size) {
    return BatchStats.newBuilder()
        .setTier(S4)
        .setTierLabel("s4-b4")
        .setBatchSize(size)
        .setMaxBatchSize(4)
        .setVelocityEvaluations(4L * size)
        .setBlockEvaluations(16L * size)
        .setDeviceNanos(1_500_000_000L * size)
        .build();
  }

  @Test
  void tierAndRequestTotals(TestPipeline pipeline) {
    PCollectionTuple input =
        PCollectionTuple.of(
                AccountCosts.REQUESTS,
                pipeline.apply("Requests", Create.of(request("a"), request("b"))))
            .and(
                AccountCosts.RECORDS,
                pipeline.apply(
                    "Records",
                    Create.of(
                        record("a", 0, false),
                        record("a", 1, false),
                        record("a", 2, false),
                        record("b", 0, true),
                        record("b", 1, false))))
            .and(
                AccountCosts.STATS,
                pipeline.apply(
                    "Stats",
                    Create.of(
                        stats(3),
                        stats(1),
                        // Warm-up calls of two worker threads: in no tier.
                        stats(4).toBuilder().setWarmUp(true).setDeviceNanos(700_000_000L).build(),
                        stats(4).toBuilder()
                            .setWarmUp(true)
                            .setDeviceNanos(200_000_000L)
                            .build())));
    PCollectionTuple out = input.apply(AccountCosts.withDeviceHourPrice(3600));
    PAssert.thatSingleton(out.get(AccountCosts.WARM_UP_NANOS)).isEqualTo(900_000_000L);
    PAssert.thatSingleton(out.get(AccountCosts.TIERS))
        .isEqualTo(
            TierAccount.newBuilder()
                .setTierLabel("s4-b4")
                .setTier(S4)
                .setRequests(2)
                .setImages(5)
                .setImagesGenerated(4)
                .setImagesResumed(1)
                .setBatches(2)
                .setMeanBatchSize(2)
                .setMeanFill(0.5)
                .setVelocityEvaluationsPerImage(4)
                .setBlockEvaluationsPerImage(16)
                .setDeviceSeconds(6)
                .setSecondsPerImage(1.5)
                .setEstimatedCost(6)
                .build());
    PAssert.that(out.get(AccountCosts.REQUEST_COSTS))
        .containsInAnyOrder(
            RequestCost.newBuilder()
                .setRequestId("a")
                .setTierLabel("s4-b4")
                .setImages(3)
                .setImagesGenerated(3)
                .setDeviceSeconds(4.5)
                .setBlockEvaluations(48)
                .setEstimatedCost(4.5)
                .build(),
            RequestCost.newBuilder()
                .setRequestId("b")
                .setTierLabel("s4-b4")
                .setImages(2)
                .setImagesGenerated(1)
                .setDeviceSeconds(1.5)
                .setBlockEvaluations(16)
                .setEstimatedCost(1.5)
                .build());
    pipeline.run().waitUntilFinish();
  }

  @Test
  void imagesRecoveredAfterAFailoverCountOnceWithTheCostTheirAttemptRecorded(
      TestPipeline pipeline) {
    // Request a: 3 images. The attempt that made a/0 and a/1 (one sampler call, 3.0 s) was lost
    // after writing them; the restarted attempt kept them (recovered, 1.5 s each as recorded) and
    // generated a/2 (1.5 s). Request b: b/0 resumed from an earlier run (--resume), b/1 generated.
    PCollectionTuple input =
        PCollectionTuple.of(
                AccountCosts.REQUESTS,
                pipeline.apply("Requests", Create.of(request("a"), request("b"))))
            .and(
                AccountCosts.RECORDS,
                pipeline.apply(
                    "Records",
                    Create.of(
                        record("a", 0, false).toBuilder().setRecovered(true).build(),
                        record("a", 1, false).toBuilder().setRecovered(true).build(),
                        record("a", 2, false),
                        record("b", 0, true),
                        record("b", 1, false))))
            .and(AccountCosts.STATS, pipeline.apply("Stats", Create.of(stats(1), stats(1))));
    PCollectionTuple out = input.apply(AccountCosts.withDeviceHourPrice(3600));
    PAssert.thatSingleton(out.get(AccountCosts.TIERS))
        .satisfies(
            t -> {
              assertEquals(5, t.getImages());
              assertEquals(4, t.getImagesGenerated());
              assertEquals(1, t.getImagesResumed());
              assertEquals(2, t.getImagesRecovered());
              assertEquals(3.0, t.getRecoveredSeconds(), 1e-9);
              // 2 × 1.5 s recovered + 2 batches × 1.5 s run by the surviving attempts.
              assertEquals(6.0, t.getDeviceSeconds(), 1e-9);
              assertEquals(1.5, t.getSecondsPerImage(), 1e-9);
              assertEquals(2, t.getBatches());
              return null;
            });
    PAssert.that(out.get(AccountCosts.REQUEST_COSTS))
        .satisfies(
            costs -> {
              double total = 0;
              for (RequestCost c : costs) {
                total += c.getDeviceSeconds();
                if (c.getRequestId().equals("a")) {
                  assertEquals(3, c.getImagesGenerated());
                  assertEquals(4.5, c.getDeviceSeconds(), 1e-9);
                }
              }
              assertEquals(6.0, total, 1e-9);
              return null;
            });
    pipeline.run().waitUntilFinish();
  }

  @Test
  void summaryFilesAreWrittenAlsoWhenNothingWasAccepted(TestPipeline pipeline) throws IOException {
    PCollectionTuple input =
        PCollectionTuple.of(
                WriteAccounting.TIERS,
                pipeline.apply("Tiers", Create.empty(ProtoCoder.of(TierAccount.class))))
            .and(
                WriteAccounting.REQUEST_COSTS,
                pipeline.apply("Costs", Create.empty(ProtoCoder.of(RequestCost.class))))
            .and(
                WriteAccounting.DEAD_LETTERS,
                pipeline.apply(
                    "Dead",
                    Create.of(
                        DeadLetter.newBuilder().setReason(RejectReason.NO_SUBJECT).build(),
                        DeadLetter.newBuilder()
                            .setReason(RejectReason.NO_SUBJECT)
                            .setLine(2)
                            .build(),
                        DeadLetter.newBuilder().setReason(RejectReason.EMPTY_FILE).build())));
    RunSummary info =
        RunSummary.newBuilder().setModelName("m").setStarted("2026-01-01T00:00:00Z").build();
    PAssert.thatSingleton(input.apply(WriteAccounting.to(out.toString(), info)))
        .satisfies(
            s -> {
              assertEquals(0, s.getWarmUpSeconds(), "no warm-up input: none");
              assertEquals(3, s.getRejects());
              assertEquals(2, s.getRejectsByReasonMap().get("NO_SUBJECT"));
              assertEquals(0, s.getImages());
              return null;
            });
    pipeline.run().waitUntilFinish();
    RunSummary.Builder run = RunSummary.newBuilder();
    JsonFormat.parser().merge(Files.readString(out.resolve(OutputLayout.RUN_JSON)), run);
    assertEquals("m", run.getModelName());
    assertEquals(1, run.getRejectsByReasonMap().get("EMPTY_FILE"));
    assertTrue(run.getWallSeconds() > 0);
    assertEquals("[]\n", Files.readString(out.resolve(OutputLayout.TIERS_JSON)));
    assertEquals(
        List.of(WriteAccounting.CSV_HEADER),
        Files.readAllLines(out.resolve(OutputLayout.TIERS_CSV)));
    for (int shard = 0; shard < 16; shard++) {
      assertEquals(0, Files.size(out.resolve(OutputLayout.requestsPath(shard))));
    }
  }

  @Test
  void theWarmUpIsPartOfTheRunsDeviceSecondsAndCostButOfNoTier(TestPipeline pipeline) {
    TierAccount tier =
        TierAccount.newBuilder()
            .setTierLabel("s4-b4")
            .setTier(S4)
            .setImages(2)
            .setImagesGenerated(2)
            .setDeviceSeconds(3)
            .setEstimatedCost(3)
            .build();
    PCollectionTuple input =
        PCollectionTuple.of(WriteAccounting.TIERS, pipeline.apply("Tiers", Create.of(tier)))
            .and(
                WriteAccounting.REQUEST_COSTS,
                pipeline.apply("Costs", Create.empty(ProtoCoder.of(RequestCost.class))))
            .and(
                WriteAccounting.DEAD_LETTERS,
                pipeline.apply("Dead", Create.empty(ProtoCoder.of(DeadLetter.class))))
            .and(WriteAccounting.WARM_UP_NANOS, pipeline.apply("WarmUp", Create.of(500_000_000L)));
    RunSummary info = RunSummary.newBuilder().setModelName("m").setDeviceHourPrice(3600).build();
    PAssert.thatSingleton(input.apply(WriteAccounting.to(out.toString(), info)))
        .satisfies(
            s -> {
              assertEquals(0.5, s.getWarmUpSeconds(), 1e-12);
              assertEquals(3.5, s.getDeviceSeconds(), 1e-12);
              assertEquals(3.5, s.getEstimatedCost(), 1e-12);
              assertEquals(3, s.getTiers(0).getDeviceSeconds(), 1e-12, "the tier is unchanged");
              return null;
            });
    pipeline.run().waitUntilFinish();
  }
}
