package dev.odelt.transforms.accounting;

import dev.odelt.proto.v1.BatchCost;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.proto.v1.TierTotals;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The per-tier quote of a plan, in the same form as a run's {@code accounting/tiers.json}.
 *
 * <p>Input: {@link #REQUESTS} (resolved requests), {@link #TASKS} (images the run would generate),
 * {@link #RESUMED} (images {@code --resume} would keep) and {@link #BATCH_COSTS} ({@link
 * QuoteBatches}). Output {@link #TIERS}: one {@link TierAccount} per tier, where requests, images,
 * images generated and resumed, batches and mean fill are what the run would have, and evaluations,
 * device seconds and estimated cost are predictions: batches × the shape's warm per-batch time, as
 * the run charges a tier only its batches' calls (the workers' warm-up is quoted apart, by {@link
 * WritePlan}). Everything is summed per tier by a combine, so a plan of millions of requests holds
 * only per-tier totals in one place.
 */
public final class QuoteCosts extends PTransform<PCollectionTuple, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<ResolvedRequest> REQUESTS = new TupleTag<ResolvedRequest>() {};
  public static final TupleTag<ImageTask> TASKS = new TupleTag<ImageTask>() {};
  public static final TupleTag<ImageTask> RESUMED = new TupleTag<ImageTask>() {};
  public static final TupleTag<BatchCost> BATCH_COSTS = new TupleTag<BatchCost>() {};
  public static final TupleTag<TierAccount> TIERS = AccountCosts.TIERS;

  private final double deviceHourPrice;

  private QuoteCosts(double deviceHourPrice) {
    this.deviceHourPrice = deviceHourPrice;
  }

  /** A quote at this price of one device hour (any currency). */
  public static QuoteCosts withDeviceHourPrice(double price) {
    if (!(price >= 0) || Double.isInfinite(price)) {
      throw new IllegalArgumentException("device hour price must be >= 0, got " + price);
    }
    return new QuoteCosts(price);
  }

  @Override
  public PCollectionTuple expand(PCollectionTuple input) {
    PCollection<KV<String, TierTotals>> requests = AccountCosts.requestTotals(input.get(REQUESTS));
    PCollection<KV<String, TierTotals>> tasks = imageTotals(input.get(TASKS), "TaskTotals", false);
    PCollection<KV<String, TierTotals>> resumed =
        imageTotals(input.get(RESUMED), "ResumedTotals", true);
    PCollection<KV<String, TierTotals>> batches =
        input
            .get(BATCH_COSTS)
            .apply(
                "BatchTotals",
                MapElements.into(AccountCosts.KEYED_TOTALS)
                    .via(
                        b ->
                            KV.of(
                                b.getTierLabel(),
                                TierTotals.newBuilder()
                                    .setTier(b.getTier())
                                    .setBatches(b.getBatches())
                                    .setBatchImages(b.getBatches() * b.getBatchSize())
                                    .setBatchCapacity(b.getBatches() * b.getMaxBatchSize())
                                    .setVelocityEvaluations(
                                        b.getBatches() * b.getVelocityEvaluations())
                                    .setBlockEvaluations(b.getBatches() * b.getBlockEvaluations())
                                    .setDeviceNanos(b.getBatches() * b.getDeviceNanos())
                                    .build())));
    PCollection<TierAccount> tiers =
        AccountCosts.tierAccounts(
            PCollectionList.of(requests).and(tasks).and(resumed).and(batches), deviceHourPrice);
    return PCollectionTuple.of(TIERS, tiers);
  }

  /** One image total per task, to generate or (when {@code resumed}) already written. */
  private static PCollection<KV<String, TierTotals>> imageTotals(
      PCollection<ImageTask> tasks, String name, boolean resumed) {
    return tasks.apply(
        name,
        MapElements.into(AccountCosts.KEYED_TOTALS)
            .via(
                t ->
                    KV.of(
                        t.getRequest().getTierLabel(),
                        TierTotals.newBuilder()
                            .setTier(t.getRequest().getTier())
                            .setImages(1)
                            .setImagesGenerated(resumed ? 0 : 1)
                            .setImagesResumed(resumed ? 1 : 0)
                            .build())));
  }
}
