package dev.odelt.transforms.accounting;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.RequestCost;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.storage.ObjectStore;
import dev.odelt.transforms.CollectFn;
import dev.odelt.transforms.JsonLines;
import dev.odelt.transforms.io.OutputLayout;
import dev.odelt.transforms.io.RetryingStore;
import dev.odelt.transforms.io.WriteShardedLines;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
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
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Writes the accounting files and the run summary: {@code accounting/tiers.json} and {@code
 * tiers.csv} (sorted by tier label), {@code accounting/requests-<shard>.jsonl} (a fixed number of
 * shards by a hash of the request id, sorted by request id within a shard: {@link
 * WriteShardedLines}), {@code run.json} and its copy in the history, {@code runs/<started>.json}
 * ({@link OutputLayout#runPath}). Always written, also when every request was rejected. Only
 * O(tiers) and O(reject reasons) data travel as side inputs; per-request costs and dead letters
 * never meet in one worker. Input: {@link #TIERS}, {@link #REQUEST_COSTS}, {@link #DEAD_LETTERS}
 * and, optionally, {@link #WARM_UP_NANOS} (the workers' warm-up calls, one value: added to the
 * run's device seconds and cost as {@code warm_up_seconds}, in no tier); output: the {@link
 * RunSummary} written.
 */
public final class WriteAccounting extends PTransform<PCollectionTuple, PCollection<RunSummary>> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<TierAccount> TIERS = AccountCosts.TIERS;
  public static final TupleTag<RequestCost> REQUEST_COSTS = AccountCosts.REQUEST_COSTS;
  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<DeadLetter>() {};
  public static final TupleTag<Long> WARM_UP_NANOS = AccountCosts.WARM_UP_NANOS;

  /** The tiers.csv header. */
  public static final String CSV_HEADER =
      "tier,steps,blocks,solver,guidance,requests,images,images_generated,images_resumed,batches,"
          + "mean_batch_size,mean_fill,velocity_evaluations_per_image,"
          + "block_evaluations_per_image,device_seconds,seconds_per_image,estimated_cost,"
          + "decode_seconds,images_repaired";

  private static final SerializableComparator<TierAccount> BY_TIER =
      (a, b) -> a.getTierLabel().compareTo(b.getTierLabel());
  private static final SerializableComparator<RequestCost> BY_REQUEST =
      (a, b) -> a.getRequestId().compareTo(b.getRequestId());

  private final String outputRoot;
  private final RunSummary info;
  private final int requestShards;

  private WriteAccounting(String outputRoot, RunSummary info, int requestShards) {
    this.outputRoot = outputRoot;
    this.info = info;
    this.requestShards = requestShards;
  }

  /**
   * Writes under {@code outputRoot}; {@code info} holds what the pipeline cannot know (model,
   * options, start time, device hour price) and is completed with the totals.
   */
  public static WriteAccounting to(String outputRoot, RunSummary info) {
    return new WriteAccounting(outputRoot, info, 16);
  }

  /** Writes {@code count} shards of {@code accounting/requests-<shard>.jsonl}. */
  public WriteAccounting withRequestShards(int count) {
    if (count < 1 || count > WriteShardedLines.MAX_SHARDS) {
      throw new IllegalArgumentException(
          "shards must be in [1, " + WriteShardedLines.MAX_SHARDS + "], got " + count);
    }
    return new WriteAccounting(outputRoot, info, count);
  }

  @Override
  public PCollection<RunSummary> expand(PCollectionTuple input) {
    PCollectionView<List<TierAccount>> tiers =
        input
            .get(TIERS)
            .apply("CollectTiers", Combine.globally(CollectFn.sortedBy(BY_TIER)).asSingletonView());
    input
        .get(REQUEST_COSTS)
        .apply(
            "WriteRequestCosts",
            WriteShardedLines.to(
                outputRoot,
                OutputLayout.REQUESTS_PREFIX,
                requestShards,
                RequestCost::getRequestId,
                BY_REQUEST));
    PCollectionView<Map<String, Long>> rejects =
        input
            .get(DEAD_LETTERS)
            .apply(
                "RejectReasons",
                MapElements.into(TypeDescriptors.strings()).via(d -> d.getReason().name()))
            .apply("CountReasons", Count.perElement())
            .apply("ReasonCounts", View.asMap());
    PCollection<Long> warmUpNanos =
        input.has(WARM_UP_NANOS)
            ? input.get(WARM_UP_NANOS)
            : input.getPipeline().apply("NoWarmUp", Create.of(0L));
    PCollectionView<Long> warmUp = warmUpNanos.apply("WarmUp", View.asSingleton());
    return input
        .getPipeline()
        .apply("Once", Create.of(outputRoot))
        .apply(
            "WriteSummary",
            ParDo.of(new WriteFn(info, tiers, rejects, warmUp))
                .withSideInputs(tiers, rejects, warmUp));
  }

  static final class WriteFn extends DoFn<String, RunSummary> {
    private static final long serialVersionUID = 1L;
    private final RunSummary info;
    private final PCollectionView<List<TierAccount>> tiers;
    private final PCollectionView<Map<String, Long>> rejects;
    private final PCollectionView<Long> warmUp;

    WriteFn(
        RunSummary info,
        PCollectionView<List<TierAccount>> tiers,
        PCollectionView<Map<String, Long>> rejects,
        PCollectionView<Long> warmUp) {
      this.info = info;
      this.tiers = tiers;
      this.rejects = rejects;
      this.warmUp = warmUp;
    }

    @ProcessElement
    public void process(ProcessContext c) throws IOException {
      String root = c.element();
      List<TierAccount> tierList = c.sideInput(tiers);
      Map<String, Long> byReason = new TreeMap<>(c.sideInput(rejects));
      ObjectStore store = RetryingStore.forLocation(root);

      List<String> tierJson = new ArrayList<>();
      StringBuilder csv = new StringBuilder(CSV_HEADER).append('\n');
      for (TierAccount t : tierList) {
        tierJson.add(JsonLines.pretty(t));
        csv.append(csvRow(t)).append('\n');
      }
      write(store, root, OutputLayout.TIERS_JSON, "[" + String.join(",\n", tierJson) + "]\n");
      write(store, root, OutputLayout.TIERS_CSV, csv.toString());

      Instant finished = Instant.now();
      RunSummary.Builder s =
          info.toBuilder().setFinished(finished.toString()).addAllTiers(tierList);
      if (!info.getStarted().isEmpty()) {
        Instant started = Instant.parse(info.getStarted());
        s.setWallSeconds(Duration.between(started, finished).toMillis() / 1000.0);
      }
      addRejects(s, byReason);
      addTiers(s, tierList);
      addWarmUp(s, c.sideInput(warmUp) / 1e9);
      RunSummary summary = s.build();
      write(store, root, OutputLayout.RUN_JSON, JsonLines.pretty(summary) + "\n");
      if (!summary.getStarted().isEmpty()) {
        write(
            store,
            root,
            OutputLayout.runPath(summary.getStarted()),
            JsonLines.pretty(summary) + "\n");
      }
      c.output(summary);
    }

    private static void write(ObjectStore store, String root, String relative, String text)
        throws IOException {
      String type = relative.endsWith(".csv") ? "text/csv" : "application/json";
      store.write(
          OutputLayout.location(root, relative),
          text.getBytes(StandardCharsets.UTF_8),
          type,
          Map.of());
    }
  }

  /** Records the rejected inputs per reason and their total. */
  static void addRejects(RunSummary.Builder s, Map<String, Long> byReason) {
    long rejectCount = 0;
    for (Map.Entry<String, Long> e : byReason.entrySet()) {
      s.putRejectsByReason(e.getKey(), e.getValue());
      rejectCount += e.getValue();
    }
    s.setRejects(rejectCount);
  }

  /** Adds the tiers' requests, images, device seconds and cost to the run's totals. */
  static void addTiers(RunSummary.Builder s, List<TierAccount> tiers) {
    for (TierAccount t : tiers) {
      s.setRequestsAccepted(s.getRequestsAccepted() + t.getRequests())
          .setImages(s.getImages() + t.getImages())
          .setImagesGenerated(s.getImagesGenerated() + t.getImagesGenerated())
          .setImagesResumed(s.getImagesResumed() + t.getImagesResumed())
          .setDeviceSeconds(s.getDeviceSeconds() + t.getDeviceSeconds())
          .setDecodeSeconds(s.getDecodeSeconds() + t.getDecodeSeconds())
          .setImagesRecovered(s.getImagesRecovered() + t.getImagesRecovered())
          .setRecoveredSeconds(s.getRecoveredSeconds() + t.getRecoveredSeconds())
          .setImagesRepaired(s.getImagesRepaired() + t.getImagesRepaired())
          .setEstimatedCost(s.getEstimatedCost() + t.getEstimatedCost());
      List<String> paths =
          AccountCosts.firstPaths(s.getRepairedPathsList(), t.getRepairedPathsList());
      s.clearRepairedPaths().addAllRepairedPaths(paths);
    }
  }

  /**
   * Adds the workers' warm-up to a summary whose tiers are summed: its own field, and part of the
   * device seconds and cost at the summary's device hour price.
   */
  public static void addWarmUp(RunSummary.Builder s, double warmUpSeconds) {
    s.setWarmUpSeconds(warmUpSeconds)
        .setDeviceSeconds(s.getDeviceSeconds() + warmUpSeconds)
        .setEstimatedCost(s.getEstimatedCost() + warmUpSeconds / 3600 * s.getDeviceHourPrice());
  }

  /** One tiers.csv row. */
  public static String csvRow(TierAccount t) {
    return String.join(
        ",",
        t.getTierLabel(),
        Integer.toString(t.getTier().getSteps()),
        Integer.toString(t.getTier().getBlocks()),
        t.getTier().getSolver().name(),
        num(t.getTier().hasGuidance() ? t.getTier().getGuidance() : 1.0),
        Long.toString(t.getRequests()),
        Long.toString(t.getImages()),
        Long.toString(t.getImagesGenerated()),
        Long.toString(t.getImagesResumed()),
        Long.toString(t.getBatches()),
        num(t.getMeanBatchSize()),
        num(t.getMeanFill()),
        num(t.getVelocityEvaluationsPerImage()),
        num(t.getBlockEvaluationsPerImage()),
        num(t.getDeviceSeconds()),
        num(t.getSecondsPerImage()),
        num(t.getEstimatedCost()),
        num(t.getDecodeSeconds()),
        Long.toString(t.getImagesRepaired()));
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }
}
