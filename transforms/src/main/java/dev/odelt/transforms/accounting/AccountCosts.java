package dev.odelt.transforms.accounting;

import dev.odelt.proto.v1.BatchStats;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.RequestCost;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.proto.v1.TierTotals;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Filter;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SerializableBiFunction;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Per-tier and per-request cost accounting.
 *
 * <p>Input: a tuple of {@link #REQUESTS} (resolved requests), {@link #RECORDS} (image records,
 * generated and resumed) and {@link #STATS} (one per sampler call). Output: {@link #TIERS}, one
 * {@link TierAccount} per tier with images = records of that tier, so the totals equal the images
 * written; device seconds (each call's {@link BatchStats#getDeviceNanos()}), batches and
 * evaluations come from the batch stats (what the device really did) plus the recorded shares of
 * images recovered after a failover ({@link #recordTotals}); {@link #REQUEST_COSTS}, one {@link
 * RequestCost} per request from its records' shares. Estimated cost = device seconds / 3600 ×
 * {@code deviceHourPrice}. Warm-up calls ({@link BatchStats#getWarmUp()}: one per worker thread,
 * before its first batch) belong to no tier: their device time is summed into {@link
 * #WARM_UP_NANOS}, a single value (0 when there were none), so that a tier's device seconds do not
 * depend on which tier a thread happened to run first.
 */
public final class AccountCosts extends PTransform<PCollectionTuple, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  /** How many repaired paths the accounting keeps (in run.json and on the console). */
  public static final int REPAIRED_PATHS_KEPT = 10;

  public static final TupleTag<ResolvedRequest> REQUESTS = new TupleTag<ResolvedRequest>() {};
  public static final TupleTag<ImageRecord> RECORDS = new TupleTag<ImageRecord>() {};
  public static final TupleTag<BatchStats> STATS = new TupleTag<BatchStats>() {};
  public static final TupleTag<TierAccount> TIERS = new TupleTag<TierAccount>() {};
  public static final TupleTag<RequestCost> REQUEST_COSTS = new TupleTag<RequestCost>() {};
  public static final TupleTag<Long> WARM_UP_NANOS = new TupleTag<Long>() {};

  private final double deviceHourPrice;

  private AccountCosts(double deviceHourPrice) {
    this.deviceHourPrice = deviceHourPrice;
  }

  /** Accounting with this price of one device hour (any currency). */
  public static AccountCosts withDeviceHourPrice(double price) {
    if (!(price >= 0) || Double.isInfinite(price)) {
      throw new IllegalArgumentException("device hour price must be >= 0, got " + price);
    }
    return new AccountCosts(price);
  }

  static final TypeDescriptor<KV<String, TierTotals>> KEYED_TOTALS =
      TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(TierTotals.class));

  @Override
  public PCollectionTuple expand(PCollectionTuple input) {
    PCollection<KV<String, TierTotals>> fromRequests = requestTotals(input.get(REQUESTS));
    PCollection<KV<String, TierTotals>> fromRecords =
        input
            .get(RECORDS)
            .apply(
                "RecordTotals",
                MapElements.into(KEYED_TOTALS).via(r -> KV.of(r.getTierLabel(), recordTotals(r))));
    PCollection<Long> warmUp =
        input
            .get(STATS)
            .apply("WarmUpCalls", Filter.by(BatchStats::getWarmUp))
            .apply(
                "WarmUpNanos",
                MapElements.into(TypeDescriptors.longs()).via(BatchStats::getDeviceNanos))
            .apply("SumWarmUp", Sum.longsGlobally());
    PCollection<KV<String, TierTotals>> fromStats =
        input
            .get(STATS)
            .apply("BatchCalls", Filter.by(s -> !s.getWarmUp()))
            .apply(
                "BatchTotals",
                MapElements.into(KEYED_TOTALS)
                    .via(
                        s ->
                            KV.of(
                                s.getTierLabel(),
                                TierTotals.newBuilder()
                                    .setTier(s.getTier())
                                    .setBatches(1)
                                    .setBatchImages(s.getBatchSize())
                                    .setBatchCapacity(s.getMaxBatchSize())
                                    .setVelocityEvaluations(s.getVelocityEvaluations())
                                    .setBlockEvaluations(s.getBlockEvaluations())
                                    .setDeviceNanos(s.getDeviceNanos())
                                    .setDecodeNanos(s.getDecodeNanos())
                                    .build())));
    double price = deviceHourPrice;
    PCollection<TierAccount> tiers =
        tierAccounts(PCollectionList.of(fromRequests).and(fromRecords).and(fromStats), price);

    PCollection<RequestCost> requests =
        input
            .get(RECORDS)
            .apply(
                "RequestShares",
                MapElements.into(
                        TypeDescriptors.kvs(
                            TypeDescriptors.strings(), TypeDescriptor.of(RequestCost.class)))
                    .via(
                        r ->
                            KV.of(
                                r.getRequestId(),
                                RequestCost.newBuilder()
                                    .setRequestId(r.getRequestId())
                                    .setTierLabel(r.getTierLabel())
                                    .setImages(1)
                                    .setImagesGenerated(r.getResumed() ? 0 : 1)
                                    .setDeviceSeconds(r.getDeviceSeconds())
                                    .setBlockEvaluations(r.getBlockEvaluations())
                                    .build())))
            .apply("SumPerRequest", Combine.perKey(sum(AccountCosts::add)))
            .apply(
                "RequestCosts",
                MapElements.into(TypeDescriptor.of(RequestCost.class))
                    .via(
                        kv ->
                            kv.getValue().toBuilder()
                                .setEstimatedCost(kv.getValue().getDeviceSeconds() / 3600 * price)
                                .build()));
    return PCollectionTuple.of(TIERS, tiers)
        .and(REQUEST_COSTS, requests)
        .and(WARM_UP_NANOS, warmUp);
  }

  /**
   * The totals of one image record. A recovered image (written by an attempt that a failover lost)
   * brings its recorded device and decode seconds: no batch stats of the surviving attempts cover
   * it, and without them the run's device seconds would miss work it paid for.
   */
  static TierTotals recordTotals(ImageRecord r) {
    TierTotals.Builder t =
        TierTotals.newBuilder()
            .setTier(r.getTier())
            .setImages(1)
            .setImagesGenerated(r.getResumed() ? 0 : 1)
            .setImagesResumed(r.getResumed() ? 1 : 0);
    if (r.getRepaired()) {
      // A shard format's image has no file of its own: its shard and key name it.
      t.setImagesRepaired(1)
          .addRepairedPaths(
              r.getImagePath().isEmpty() ? r.getShard() + "#" + r.getKey() : r.getImagePath());
    }
    if (r.getRecovered()) {
      long nanos = Math.round(r.getDeviceSeconds() * 1e9);
      t.setImagesRecovered(1)
          .setRecoveredNanos(nanos)
          .setDeviceNanos(nanos)
          .setDecodeNanos(Math.round(r.getDecodeSeconds() * 1e9));
    }
    return t.build();
  }

  /** One request-count total per accepted request, keyed by its tier label. */
  static PCollection<KV<String, TierTotals>> requestTotals(PCollection<ResolvedRequest> requests) {
    return requests.apply(
        "RequestTotals",
        MapElements.into(KEYED_TOTALS)
            .via(
                r ->
                    KV.of(
                        r.getTierLabel(),
                        TierTotals.newBuilder().setTier(r.getTier()).setRequests(1).build())));
  }

  /**
   * Sums partial totals per tier and turns each sum into its {@link TierAccount} at this price:
   * shared by the run's accounting and the plan's quote, so both count alike.
   */
  static PCollection<TierAccount> tierAccounts(
      PCollectionList<KV<String, TierTotals>> totals, double deviceHourPrice) {
    return totals
        .apply("FlattenTotals", Flatten.pCollections())
        .apply("SumPerTier", Combine.perKey(sum(AccountCosts::add)))
        .apply(
            "TierAccounts",
            MapElements.into(TypeDescriptor.of(TierAccount.class))
                .via(kv -> account(kv.getKey(), kv.getValue(), deviceHourPrice)));
  }

  private static <T> Combine.BinaryCombineFn<T> sum(SerializableBiFunction<T, T, T> add) {
    return new Combine.BinaryCombineFn<T>() {
      private static final long serialVersionUID = 1L;

      @Override
      public T apply(T left, T right) {
        return add.apply(left, right);
      }
    };
  }

  static TierTotals add(TierTotals a, TierTotals b) {
    return TierTotals.newBuilder()
        .setTier(a.hasTier() ? a.getTier() : b.getTier())
        .setRequests(a.getRequests() + b.getRequests())
        .setImages(a.getImages() + b.getImages())
        .setImagesGenerated(a.getImagesGenerated() + b.getImagesGenerated())
        .setImagesResumed(a.getImagesResumed() + b.getImagesResumed())
        .setBatches(a.getBatches() + b.getBatches())
        .setBatchImages(a.getBatchImages() + b.getBatchImages())
        .setBatchCapacity(a.getBatchCapacity() + b.getBatchCapacity())
        .setVelocityEvaluations(a.getVelocityEvaluations() + b.getVelocityEvaluations())
        .setBlockEvaluations(a.getBlockEvaluations() + b.getBlockEvaluations())
        .setDeviceNanos(a.getDeviceNanos() + b.getDeviceNanos())
        .setDecodeNanos(a.getDecodeNanos() + b.getDecodeNanos())
        .setImagesRecovered(a.getImagesRecovered() + b.getImagesRecovered())
        .setRecoveredNanos(a.getRecoveredNanos() + b.getRecoveredNanos())
        .setImagesRepaired(a.getImagesRepaired() + b.getImagesRepaired())
        .addAllRepairedPaths(firstPaths(a.getRepairedPathsList(), b.getRepairedPathsList()))
        .build();
  }

  /** The first {@link #REPAIRED_PATHS_KEPT} of two lists of paths, in order, without repeats. */
  public static List<String> firstPaths(List<String> a, List<String> b) {
    return Stream.concat(a.stream(), b.stream())
        .distinct()
        .sorted()
        .limit(REPAIRED_PATHS_KEPT)
        .collect(Collectors.toList());
  }

  static RequestCost add(RequestCost a, RequestCost b) {
    return a.toBuilder()
        .setImages(a.getImages() + b.getImages())
        .setImagesGenerated(a.getImagesGenerated() + b.getImagesGenerated())
        .setDeviceSeconds(a.getDeviceSeconds() + b.getDeviceSeconds())
        .setBlockEvaluations(a.getBlockEvaluations() + b.getBlockEvaluations())
        .build();
  }

  /** The account of one tier from its totals. */
  public static TierAccount account(String label, TierTotals t, double deviceHourPrice) {
    double seconds = t.getDeviceNanos() / 1e9;
    long generated = t.getImagesGenerated();
    return TierAccount.newBuilder()
        .setTierLabel(label)
        .setTier(t.getTier())
        .setRequests(t.getRequests())
        .setImages(t.getImages())
        .setImagesGenerated(generated)
        .setImagesResumed(t.getImagesResumed())
        .setBatches(t.getBatches())
        .setMeanBatchSize(t.getBatches() == 0 ? 0 : (double) t.getBatchImages() / t.getBatches())
        .setMeanFill(
            t.getBatchCapacity() == 0 ? 0 : (double) t.getBatchImages() / t.getBatchCapacity())
        .setVelocityEvaluationsPerImage(
            t.getBatchImages() == 0 ? 0 : (double) t.getVelocityEvaluations() / t.getBatchImages())
        .setBlockEvaluationsPerImage(
            t.getBatchImages() == 0 ? 0 : (double) t.getBlockEvaluations() / t.getBatchImages())
        .setDeviceSeconds(seconds)
        .setDecodeSeconds(t.getDecodeNanos() / 1e9)
        .setImagesRecovered(t.getImagesRecovered())
        .setRecoveredSeconds(t.getRecoveredNanos() / 1e9)
        .setImagesRepaired(t.getImagesRepaired())
        .addAllRepairedPaths(t.getRepairedPathsList())
        .setSecondsPerImage(generated == 0 ? 0 : seconds / generated)
        .setEstimatedCost(seconds / 3600 * deviceHourPrice)
        .build();
  }
}
