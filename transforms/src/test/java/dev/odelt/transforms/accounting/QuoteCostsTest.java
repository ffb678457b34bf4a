package dev.odelt.transforms.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.BatchCost;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.Plan;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.proto.v1.TierSpec;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class QuoteCostsTest {

  @TempDir Path out;

  private static final TierSpec S4 = TierSpec.newBuilder().setSteps(4).setBlocks(4).build();

  private static ResolvedRequest request(String id) {
    return ResolvedRequest.newBuilder().setRequestId(id).setTier(S4).setTierLabel("s4-b4").build();
  }

  private static ImageTask task(String id, long index) {
    return ImageTask.newBuilder().setRequest(request(id)).setIndex(index).build();
  }

  private static BatchCost shape(int size, long batches, long nanos) {
    return BatchCost.newBuilder()
        .setTierLabel("s4-b4")
        .setTier(S4)
        .setBatchSize(size)
        .setMaxBatchSize(4)
        .setBatches(batches)
        .setDeviceNanos(nanos)
        .setVelocityEvaluations(4L * size)
        .setBlockEvaluations(16L * size)
        .setDevice("cpu()")
        .setCalibrationSeconds(0.25)
        .build();
  }

  @Test
  void quotesPerTierFromTasksAndBatchShapes(TestPipeline pipeline) {
    PCollectionTuple input =
        PCollectionTuple.of(
                QuoteCosts.REQUESTS,
                pipeline.apply("Requests", Create.of(request("a"), request("b"))))
            .and(
                QuoteCosts.TASKS,
                pipeline.apply(
                    "Tasks",
                    Create.of(
                        task("a", 0), task("a", 1), task("a", 2), task("a", 3), task("b", 0))))
            .and(QuoteCosts.RESUMED, pipeline.apply("Resumed", Create.of(task("b", 1))))
            .and(
                QuoteCosts.BATCH_COSTS,
                pipeline.apply(
                    "Shapes",
                    Create.of(
                        shape(4, 1, 2_400_000_000L).toBuilder()
                            .setWarmUpNanos(500_000_000L)
                            .setWarmUpThreads(2)
                            .build(),
                        shape(1, 1, 1_600_000_000L))));
    PAssert.thatSingleton(input.apply(QuoteCosts.withDeviceHourPrice(3600)).get(QuoteCosts.TIERS))
        .isEqualTo(
            TierAccount.newBuilder()
                .setTierLabel("s4-b4")
                .setTier(S4)
                .setRequests(2)
                .setImages(6)
                .setImagesGenerated(5)
                .setImagesResumed(1)
                .setBatches(2)
                .setMeanBatchSize(2.5)
                .setMeanFill(5.0 / 8)
                .setVelocityEvaluationsPerImage(4)
                .setBlockEvaluationsPerImage(16)
                .setDeviceSeconds(4.0)
                .setSecondsPerImage(4.0 / 5)
                .setEstimatedCost(4.0)
                .build());
    pipeline.run().waitUntilFinish();
  }

  @Test
  void writesPlanJsonAndCsv(TestPipeline pipeline) throws IOException {
    TierAccount tier =
        AccountCosts.account(
            "s4-b4",
            dev.odelt.proto.v1.TierTotals.newBuilder()
                .setTier(S4)
                .setRequests(2)
                .setImages(5)
                .setImagesGenerated(5)
                .setBatches(2)
                .setBatchImages(5)
                .setBatchCapacity(8)
                .setVelocityEvaluations(20)
                .setBlockEvaluations(80)
                .setDeviceNanos(3_600_000_000L)
                .build(),
            1.0);
    PCollection<DeadLetter> dead =
        pipeline.apply(
            "Dead",
            Create.of(
                DeadLetter.newBuilder().setReason(RejectReason.NO_SUBJECT).setLine(1).build(),
                DeadLetter.newBuilder().setReason(RejectReason.NO_SUBJECT).setLine(2).build(),
                DeadLetter.newBuilder().setReason(RejectReason.EMPTY_FILE).build()));
    RunSummary info =
        RunSummary.newBuilder()
            .setModelName("m")
            .setStarted("2026-01-01T00:00:00Z")
            .setDeviceHourPrice(1.0)
            .build();
    // Two worker threads warming up together took 0.5 s when calibrating.
    BatchCost warmed =
        shape(4, 1, 2_000_000_000L).toBuilder()
            .setWarmUpNanos(500_000_000L)
            .setWarmUpThreads(2)
            .build();
    PCollection<Plan> plan =
        PCollectionTuple.of(WritePlan.TIERS, pipeline.apply("Tiers", Create.of(tier)))
            .and(WritePlan.BATCH_COSTS, pipeline.apply("Shapes", Create.of(warmed)))
            .and(WritePlan.DEAD_LETTERS, dead)
            .apply(WritePlan.to(out.toString(), info));
    PAssert.thatSingleton(plan)
        .satisfies(
            p -> {
              assertEquals(3, p.getSummary().getRejects());
              assertEquals(2, p.getSummary().getRejectsByReasonMap().get("NO_SUBJECT"));
              assertEquals(0.5, p.getSummary().getWarmUpSeconds(), 1e-9);
              assertEquals(3.6 + 0.5, p.getSummary().getDeviceSeconds(), 1e-9);
              assertEquals(4.1 / 3600, p.getSummary().getEstimatedCost(), 1e-12);
              assertTrue(p.getCostModel().contains("cpu()"), p.getCostModel());
              assertTrue(p.getCostModel().contains("warm-up of 2 worker"), p.getCostModel());
              return null;
            });
    pipeline.run().waitUntilFinish();
    Plan.Builder written = Plan.newBuilder();
    JsonFormat.parser().merge(Files.readString(out.resolve(WritePlan.PLAN_JSON)), written);
    assertEquals(5, written.getSummary().getImagesGenerated());
    assertEquals(1, written.getBatchCostsCount());
    List<CSVRecord> rows = csv(Files.readString(out.resolve(WritePlan.PLAN_CSV)));
    assertEquals(3, rows.size());
    assertEquals("s4-b4", rows.get(0).get("tier"));
    assertEquals("2", rows.get(0).get("batches"));
    assertEquals(3.6, Double.parseDouble(rows.get(0).get("predicted_device_seconds")), 1e-6);
    assertEquals("80", rows.get(0).get("block_evaluations"));
    assertEquals("warm-up", rows.get(1).get("tier"));
    assertEquals(0.5, Double.parseDouble(rows.get(1).get("predicted_device_seconds")), 1e-6);
    assertEquals("total", rows.get(2).get("tier"));
    assertEquals(4.1, Double.parseDouble(rows.get(2).get("predicted_device_seconds")), 1e-6);
    assertEquals(4.1 / 3600, Double.parseDouble(rows.get(2).get("predicted_cost")), 1e-8);
  }

  @Test
  void csvQuotesFieldsThatNeedIt() throws IOException {
    TierAccount odd = TierAccount.newBuilder().setTierLabel("a,\"b\"").setTier(S4).build();
    Plan plan =
        WritePlan.plan(
            RunSummary.getDefaultInstance(),
            List.of(odd),
            List.of(),
            List.of(KV.of("NO_SUBJECT", 1L)),
            Instant.parse("2026-01-01T00:00:00Z"));
    List<CSVRecord> rows = csv(WritePlan.csv(plan));
    assertEquals("a,\"b\"", rows.get(0).get("tier"));
    assertEquals(1, plan.getSummary().getRejects());
    assertEquals(0, plan.getSummary().getWarmUpSeconds(), "no batches, no warm-up");
    assertEquals(2, rows.size(), "no warm-up row");
  }

  @Test
  void warmUpThreadsAreBoundedByTheBatches() {
    assertEquals(1, QuoteBatches.warmUpThreads(8, 1), "one batch: one thread");
    assertEquals(8, QuoteBatches.warmUpThreads(8, 9), "nine batches on eight threads");
    assertEquals(1, QuoteBatches.warmUpThreads(2, 0), "no batches: a plan still times one");
  }

  @Test
  void theLargestWarmUpOfTheCalibratingProcessesIsCharged() {
    TierAccount one =
        TierAccount.newBuilder().setTierLabel("s4-b4").setTier(S4).setBatches(3).build();
    BatchCost a = shape(4, 1, 2_000_000_000L).toBuilder().setWarmUpNanos(300_000_000L).build();
    BatchCost b = shape(2, 2, 1_000_000_000L).toBuilder().setWarmUpNanos(420_000_000L).build();
    Plan plan =
        WritePlan.plan(
            RunSummary.getDefaultInstance(),
            List.of(one),
            List.of(
                a.toBuilder().setWarmUpThreads(3).build(),
                b.toBuilder().setWarmUpThreads(3).build()),
            List.of(),
            Instant.parse("2026-01-01T00:00:00Z"));
    assertEquals(0.42, plan.getSummary().getWarmUpSeconds(), 1e-9);
    assertTrue(plan.getCostModel().contains("warm-up of 3 worker"), plan.getCostModel());
  }

  @Test
  void theRunsEarlyBatchesAreChargedAtTheirFirstPassTimesByTheirShapesBatches() {
    // s4-b4: two batches of 4, settled 100 ms, 130 ms as an early call.
    BatchCost plain =
        shape(4, 2, 100_000_000L).toBuilder().setFirstDeviceNanos(130_000_000L).build();
    // s2-b2-g2: six batches of 2, settled 10 ms, 16 ms early.
    TierSpec guided = TierSpec.newBuilder().setSteps(2).setBlocks(2).setGuidance(2f).build();
    BatchCost g =
        BatchCost.newBuilder()
            .setTierLabel("s2-b2-g2")
            .setTier(guided)
            .setBatchSize(2)
            .setBatches(6)
            .setDeviceNanos(10_000_000L)
            .setFirstDeviceNanos(16_000_000L)
            .setVelocityEvaluations(4)
            .setBlockEvaluations(16)
            .build();
    TierAccount a =
        TierAccount.newBuilder()
            .setTierLabel("s4-b4")
            .setTier(S4)
            .setImagesGenerated(8)
            .setDeviceSeconds(0.2)
            .build();
    TierAccount b =
        TierAccount.newBuilder()
            .setTierLabel("s2-b2-g2")
            .setTier(guided)
            .setImagesGenerated(12)
            .setDeviceSeconds(0.06)
            .build();
    // Four early calls (two threads, two calls in each one's first pass) of the 8 batches: each
    // shape has half of its batches early.
    Plan plan =
        WritePlan.plan(
            RunSummary.newBuilder().setDeviceHourPrice(3600).build(),
            List.of(a, b),
            List.of(
                plain.toBuilder().setEarlyCalls(4).build(), g.toBuilder().setEarlyCalls(4).build()),
            List.of(),
            Instant.parse("2026-01-01T00:00:00Z"));
    assertEquals(4, plan.getEarlyCalls());
    assertEquals(0.03 + 0.018, plan.getFirstCallsSeconds(), 1e-12);
    TierAccount pa = plan.getSummary().getTiers(0);
    TierAccount pb = plan.getSummary().getTiers(1);
    assertEquals(0.2 + 1 * 0.03, pa.getDeviceSeconds(), 1e-9);
    assertEquals(pa.getDeviceSeconds() / 8, pa.getSecondsPerImage(), 1e-12);
    assertEquals(pa.getDeviceSeconds(), pa.getEstimatedCost(), 1e-12, "at 1 per device second");
    assertEquals(0.06 + 3 * 0.006, pb.getDeviceSeconds(), 1e-9);
    assertEquals(0.308, plan.getSummary().getDeviceSeconds(), 1e-9, "the total carries it once");
    assertTrue(
        plan.getCostModel().contains("the run's first 4 batches after the warm-up"),
        plan.getCostModel());

    // A run of fewer batches than the first pass: every batch is early.
    Plan small =
        WritePlan.plan(
            RunSummary.getDefaultInstance(),
            List.of(a),
            List.of(plain.toBuilder().setEarlyCalls(12).build()),
            List.of(),
            Instant.parse("2026-01-01T00:00:00Z"));
    assertEquals(2, small.getEarlyCalls());
    assertEquals(0.06, small.getFirstCallsSeconds(), 1e-12);
    assertEquals(0.26, small.getSummary().getTiers(0).getDeviceSeconds(), 1e-9);

    // A first call faster than the settled ones (noise) lowers the tier as measured.
    Plan faster =
        WritePlan.plan(
            RunSummary.getDefaultInstance(),
            List.of(a),
            List.of(plain.toBuilder().setFirstDeviceNanos(90_000_000L).setEarlyCalls(2).build()),
            List.of(),
            Instant.parse("2026-01-01T00:00:00Z"));
    assertEquals(-0.02, faster.getFirstCallsSeconds(), 1e-12);
    assertEquals(0.18, faster.getSummary().getTiers(0).getDeviceSeconds(), 1e-9);

    // No first pass recorded (a plan written before it existed): the tiers are the settled quote.
    Plan none =
        WritePlan.plan(
            RunSummary.getDefaultInstance(),
            List.of(a),
            List.of(shape(4, 2, 100_000_000L)),
            List.of(),
            Instant.parse("2026-01-01T00:00:00Z"));
    assertEquals(0, none.getFirstCallsSeconds());
    assertEquals(0, none.getEarlyCalls());
    assertEquals(0.2, none.getSummary().getTiers(0).getDeviceSeconds(), 1e-12);
  }

  private static List<CSVRecord> csv(String text) throws IOException {
    try (CSVParser parser =
        CSVFormat.DEFAULT
            .builder()
            .setHeader()
            .setSkipHeaderRecord(true)
            .get()
            .parse(new StringReader(text))) {
      assertEquals(WritePlan.CSV_HEADER, parser.getHeaderNames());
      return parser.getRecords();
    }
  }
}
