package dev.odelt.transforms.accounting;

import dev.odelt.model.sample.DeviceClock;
import dev.odelt.proto.v1.BatchCost;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.Plan;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.storage.ObjectStore;
import dev.odelt.transforms.CollectFn;
import dev.odelt.transforms.JsonLines;
import dev.odelt.transforms.io.OutputLayout;
import dev.odelt.transforms.io.RetryingStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableComparator;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.apache.commons.csv.CSVFormat;

/**
 * Writes the quote of a plan: {@code plan.json} (a {@link Plan}: the run summary the run would
 * write, with predicted device seconds and cost, plus the cost model and per batch shape
 * predictions) and {@code plan.csv} (one row per tier, sorted by label, a {@code warm-up} row when
 * a warm-up is predicted, then a {@code total} row). The warm-up is what the run's worker threads
 * spend before their first batch ({@code WarmUp}), in no tier, as {@link QuoteBatches} timed it:
 * min(the run's worker threads, batches) new threads warming up at once in the calibrating process.
 * Always written, also when every request was rejected. Input: {@link #TIERS} ({@link QuoteCosts}),
 * {@link #BATCH_COSTS} ({@link QuoteBatches}) and {@link #DEAD_LETTERS}; only per-tier, per-shape
 * and per-reason values are gathered in one place. Output: the {@link Plan}.
 */
public final class WritePlan extends PTransform<PCollectionTuple, PCollection<Plan>> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<TierAccount> TIERS = AccountCosts.TIERS;
  public static final TupleTag<BatchCost> BATCH_COSTS = QuoteCosts.BATCH_COSTS;
  public static final TupleTag<DeadLetter> DEAD_LETTERS = WriteAccounting.DEAD_LETTERS;

  public static final String PLAN_JSON = "plan.json";
  public static final String PLAN_CSV = "plan.csv";

  /** The plan.csv header. */
  public static final List<String> CSV_HEADER =
      List.of(
          "tier",
          "steps",
          "blocks",
          "solver",
          "guidance",
          "requests",
          "images",
          "images_to_generate",
          "images_resumed",
          "batches",
          "mean_batch_size",
          "block_evaluations",
          "block_evaluations_per_image",
          "predicted_device_seconds",
          "predicted_seconds_per_image",
          "predicted_cost");

  private static final SerializableComparator<TierAccount> BY_TIER =
      (a, b) -> a.getTierLabel().compareTo(b.getTierLabel());
  private static final SerializableComparator<BatchCost> BY_SHAPE =
      (a, b) ->
          Comparator.comparing(BatchCost::getTierLabel)
              .thenComparingInt(BatchCost::getBatchSize)
              .compare(a, b);
  private static final SerializableComparator<KV<String, Long>> BY_KEY =
      (a, b) -> a.getKey().compareTo(b.getKey());

  private final String outputRoot;
  private final RunSummary info;

  private WritePlan(String outputRoot, RunSummary info) {
    this.outputRoot = outputRoot;
    this.info = info;
  }

  /**
   * Writes under {@code outputRoot}; {@code info} holds what the pipeline cannot know (model,
   * options, start time, device hour price) and is completed with the predicted totals.
   */
  public static WritePlan to(String outputRoot, RunSummary info) {
    return new WritePlan(outputRoot, info);
  }

  @Override
  public PCollection<Plan> expand(PCollectionTuple input) {
    PCollectionView<List<TierAccount>> tiers =
        input
            .get(TIERS)
            .apply("CollectTiers", Combine.globally(CollectFn.sortedBy(BY_TIER)).asSingletonView());
    PCollectionView<List<BatchCost>> shapes =
        input
            .get(BATCH_COSTS)
            .apply(
                "CollectShapes", Combine.globally(CollectFn.sortedBy(BY_SHAPE)).asSingletonView());
    PCollectionView<List<KV<String, Long>>> rejects =
        input
            .get(DEAD_LETTERS)
            .apply(
                "RejectReasons",
                MapElements.into(TypeDescriptors.strings()).via(d -> d.getReason().name()))
            .apply("CountReasons", Count.perElement())
            .apply(
                "CollectReasons", Combine.globally(CollectFn.sortedBy(BY_KEY)).asSingletonView());
    return input
        .getPipeline()
        .apply("Once", Create.of(outputRoot))
        .apply(
            "WritePlan",
            ParDo.of(new WriteFn(info, tiers, shapes, rejects))
                .withSideInputs(tiers, shapes, rejects));
  }

  /** The plan from its parts; pure, for tests. */
  public static Plan plan(
      RunSummary info,
      List<TierAccount> tiers,
      List<BatchCost> shapes,
      List<KV<String, Long>> rejects,
      Instant finished) {
    EarlyCalls first = earlyCalls(tiers, shapes, info.getDeviceHourPrice());
    tiers = withShards(first.tiers(), info);
    RunSummary.Builder s =
        info.toBuilder().setFinished(finished.toString()).addAllTiers(tiers).clearRejectsByReason();
    if (!info.getStarted().isEmpty()) {
      s.setWallSeconds(
          Duration.between(Instant.parse(info.getStarted()), finished).toMillis() / 1000.0);
    }
    Map<String, Long> byReason = new TreeMap<>();
    for (KV<String, Long> r : rejects) {
      byReason.put(r.getKey(), r.getValue());
    }
    WriteAccounting.addRejects(s, byReason);
    WriteAccounting.addTiers(s, tiers);
    // Every shape calibrated in one process carries the same warm-up; on a runner that calibrates
    // in several processes each timed it for the same threads, and the largest is charged.
    BatchCost warmUp =
        shapes.stream()
            .max(Comparator.comparingLong(BatchCost::getWarmUpNanos))
            .orElse(BatchCost.getDefaultInstance());
    int threads = warmUp.getWarmUpThreads();
    WriteAccounting.addWarmUp(s, warmUp.getWarmUpNanos() / 1e9);
    double calibration = shapes.stream().mapToDouble(BatchCost::getCalibrationSeconds).sum();
    String device =
        shapes.isEmpty() ? "no device (nothing to generate)" : shapes.get(0).getDevice();
    String costModel =
        String.format(
            Locale.ROOT,
            "calibrated on %s when planning: short solves of the model's sampler at each of the %d"
                + " (tier, batch size) shapes of this plan, %.1f device seconds; warm-up of %d"
                + " worker thread(s) %.2f device seconds (timed as the run pays it: those threads"
                + " warming up at once in a fresh process, then calibrating); the run's first %d"
                + " batches after the warm-up at the calibration's first-pass times, %+.3f device"
                + " seconds beyond settled ones, in the tiers by their batches; device time is the"
                + " %s",
            device,
            shapes.size(),
            calibration,
            threads,
            warmUp.getWarmUpNanos() / 1e9,
            first.calls(),
            first.nanos() / 1e9,
            shapes.isEmpty() ? DeviceClock.WALL.describe() : shapes.get(0).getDeviceClock());
    return Plan.newBuilder()
        .setSummary(s.build())
        .setCostModel(costModel)
        .addAllBatchCosts(shapes)
        .setCalibrationSeconds(calibration)
        .setEarlyCalls(first.calls())
        .setFirstCallsSeconds(first.nanos() / 1e9)
        .build();
  }

  /**
   * The tiers with the first calls' excess added, and what was added.
   *
   * @param tiers the tiers as quoted from settled calls, plus their first calls' excess
   * @param calls the run's batches predicted at their first-pass time
   * @param nanos their device time beyond settled calls', added to the tiers
   */
  record EarlyCalls(List<TierAccount> tiers, long calls, double nanos) {}

  /**
   * Adds to each tier what its batches among the run's first calls after the warm-up cost beyond
   * settled ones: the first {@code min(batches, early_calls)} of the run's batches (over all worker
   * threads) are predicted at their shapes' first-pass times ({@code first_device_nanos}, measured
   * by the calibrating threads straight after their warm-up, as the run's threads start), the
   * others at their settled times. Which batches run first is up to the runner, so each shape gets
   * the early calls in proportion to its batches. The run pays this once per process; embedded
   * Flink is one process (on a cluster each TaskManager pays it, which is not predicted). Shapes
   * without a first-pass time (plans written before it existed) add nothing.
   */
  static EarlyCalls earlyCalls(
      List<TierAccount> tiers, List<BatchCost> shapes, double deviceHourPrice) {
    long batches = shapes.stream().mapToLong(BatchCost::getBatches).sum();
    long early =
        Math.min(batches, shapes.stream().mapToLong(BatchCost::getEarlyCalls).max().orElse(0));
    if (early <= 0) {
      return new EarlyCalls(tiers, 0, 0);
    }
    Map<String, Double> byTier = new TreeMap<>();
    double nanos = 0;
    for (BatchCost b : shapes) {
      if (b.getFirstDeviceNanos() <= 0) {
        continue;
      }
      double share = (double) b.getBatches() * early / batches;
      double excess = share * (b.getFirstDeviceNanos() - b.getDeviceNanos());
      byTier.merge(b.getTierLabel(), excess, Double::sum);
      nanos += excess;
    }
    List<TierAccount> out = new ArrayList<>(tiers.size());
    for (TierAccount t : tiers) {
      double seconds = t.getDeviceSeconds() + byTier.getOrDefault(t.getTierLabel(), 0.0) / 1e9;
      long generated = t.getImagesGenerated();
      out.add(
          t.toBuilder()
              .setDeviceSeconds(seconds)
              .setSecondsPerImage(generated == 0 ? 0 : seconds / generated)
              .setEstimatedCost(seconds / 3600 * deviceHourPrice)
              .build());
    }
    return new EarlyCalls(out, early, nanos);
  }

  /** plan.csv: one row per tier, a warm-up row when there is one, then a total row. */
  public static String csv(Plan plan) {
    StringBuilder text = new StringBuilder();
    CSVFormat format = CSVFormat.DEFAULT.builder().setRecordSeparator('\n').get();
    try {
      format.printRecord(text, CSV_HEADER.toArray());
      RunSummary s = plan.getSummary();
      long batches = 0;
      double blocks = 0;
      for (TierAccount t : s.getTiersList()) {
        double tierBlocks = t.getBlockEvaluationsPerImage() * t.getImagesGenerated();
        batches += t.getBatches();
        blocks += tierBlocks;
        format.printRecord(
            text,
            t.getTierLabel(),
            t.getTier().getSteps(),
            t.getTier().getBlocks(),
            t.getTier().getSolver().name(),
            num(t.getTier().hasGuidance() ? t.getTier().getGuidance() : 1.0),
            t.getRequests(),
            t.getImages(),
            t.getImagesGenerated(),
            t.getImagesResumed(),
            t.getBatches(),
            num(t.getMeanBatchSize()),
            Math.round(tierBlocks),
            num(t.getBlockEvaluationsPerImage()),
            num(t.getDeviceSeconds()),
            num(t.getSecondsPerImage()),
            num(t.getEstimatedCost()));
      }
      if (s.getWarmUpSeconds() > 0) {
        format.printRecord(
            text,
            "warm-up",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            num(s.getWarmUpSeconds()),
            "",
            num(s.getWarmUpSeconds() / 3600 * s.getDeviceHourPrice()));
      }
      format.printRecord(
          text,
          "total",
          "",
          "",
          "",
          "",
          s.getRequestsAccepted(),
          s.getImages(),
          s.getImagesGenerated(),
          s.getImagesResumed(),
          batches,
          "",
          Math.round(blocks),
          "",
          num(s.getDeviceSeconds()),
          num(s.getImagesGenerated() == 0 ? 0 : s.getDeviceSeconds() / s.getImagesGenerated()),
          num(s.getEstimatedCost()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }

  /**
   * With a shard format ({@code format} and {@code shard_images} among the options), each tier's
   * shards: {@code ceil(images / shard_images)}, at least one (as the run writes them).
   */
  static List<TierAccount> withShards(List<TierAccount> tiers, RunSummary info) {
    String format = info.getOptionsOrDefault("format", "png");
    long shardImages = Long.parseLong(info.getOptionsOrDefault("shard_images", "0"));
    if (format.equals("png") || shardImages < 1) {
      return tiers;
    }
    List<TierAccount> out = new ArrayList<>(tiers.size());
    for (TierAccount t : tiers) {
      out.add(
          t.toBuilder()
              .setShards(Math.max(1, (t.getImages() + shardImages - 1) / shardImages))
              .build());
    }
    return out;
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }

  static final class WriteFn extends DoFn<String, Plan> {
    private static final long serialVersionUID = 1L;
    private final RunSummary info;
    private final PCollectionView<List<TierAccount>> tiers;
    private final PCollectionView<List<BatchCost>> shapes;
    private final PCollectionView<List<KV<String, Long>>> rejects;

    WriteFn(
        RunSummary info,
        PCollectionView<List<TierAccount>> tiers,
        PCollectionView<List<BatchCost>> shapes,
        PCollectionView<List<KV<String, Long>>> rejects) {
      this.info = info;
      this.tiers = tiers;
      this.shapes = shapes;
      this.rejects = rejects;
    }

    @ProcessElement
    public void process(ProcessContext c) throws IOException {
      String root = c.element();
      Plan plan =
          plan(info, c.sideInput(tiers), c.sideInput(shapes), c.sideInput(rejects), Instant.now());
      ObjectStore store = RetryingStore.forLocation(root);
      store.write(
          OutputLayout.location(root, PLAN_JSON),
          (JsonLines.pretty(plan) + "\n").getBytes(StandardCharsets.UTF_8),
          "application/json",
          Map.of());
      store.write(
          OutputLayout.location(root, PLAN_CSV),
          csv(plan).getBytes(StandardCharsets.UTF_8),
          "text/csv",
          Map.of());
      c.output(plan);
    }
  }
}
