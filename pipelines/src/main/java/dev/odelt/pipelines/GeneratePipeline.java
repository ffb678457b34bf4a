package dev.odelt.pipelines;

import dev.odelt.proto.v1.BatchCost;
import dev.odelt.proto.v1.BatchStats;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Plan;
import dev.odelt.proto.v1.PreviewImage;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.transforms.accounting.AccountCosts;
import dev.odelt.transforms.accounting.ProgressSnapshots;
import dev.odelt.transforms.accounting.QuoteBatches;
import dev.odelt.transforms.accounting.QuoteCosts;
import dev.odelt.transforms.accounting.WriteAccounting;
import dev.odelt.transforms.accounting.WritePlan;
import dev.odelt.transforms.batching.BatchByTier;
import dev.odelt.transforms.datasets.DatasetFeatures;
import dev.odelt.transforms.datasets.DatasetFormat;
import dev.odelt.transforms.datasets.WriteDataset;
import dev.odelt.transforms.inference.GenerateImages;
import dev.odelt.transforms.io.ImageProvenance;
import dev.odelt.transforms.io.ReadExistingImages;
import dev.odelt.transforms.io.SkipWrittenImages;
import dev.odelt.transforms.io.WriteDeadLetters;
import dev.odelt.transforms.io.WriteImages;
import dev.odelt.transforms.io.WritePreviews;
import dev.odelt.transforms.io.WriteRecords;
import dev.odelt.transforms.report.WriteReport;
import dev.odelt.transforms.requests.DeduplicateRequests;
import dev.odelt.transforms.requests.ExpandRequests;
import dev.odelt.transforms.requests.ManifestParser;
import dev.odelt.transforms.requests.ParseRequests;
import dev.odelt.transforms.requests.ResolveRequests;
import java.time.Instant;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * Wires the generation job:
 *
 * <pre>
 * manifests → ParseRequests → DeduplicateRequests → ResolveRequests → ExpandRequests
 *   → BatchByTier → SkipWrittenImages → GenerateImages → WriteImages ─┬→ records → WriteRecords
 *   resumed → ReadExistingImages ─┬→ ResumedRecords ──────────────────┘         → WritePreviews
 *   written by an earlier attempt ┘
 *   resumed but damaged (ReadExistingImages verifies) → back into BatchByTier: repaired
 *
 * --format=webdataset|parquet|tfrecord: instead of BatchByTier … WriteImages
 *   tasks → WriteDataset (count per tier, AssignShards by hash, GroupByShard, WriteShards: each
 *   shard's images generated in order and streamed into dataset/&lt;tier&gt;/&lt;NNNNN&gt;.&lt;ext&gt;)
 *   ─┬→ records → WriteRecords, AccountCosts;  first images of each shard → WritePreviews
 *    └→ shard entries → index.json per tier → dataset/README.md
 * dead letters of every stage → WriteDeadLetters
 * requests + records + batch stats → AccountCosts → WriteAccounting (tiers, requests, run.json)
 *   → WriteReport (report.html; with previews and the first dead letters of each reason)
 * </pre>
 *
 * <p>The manifests are spread over the workers before parsing (one file is parsed by one worker);
 * the requests are then spread again by request id (DeduplicateRequests), their chunks at random
 * (ExpandRequests) and the batches at random (BatchByTier), so expansion and generation use every
 * worker whatever the number of files.
 *
 * <p>With {@code plan} set the same stages up to BatchByTier run, and instead of generating:
 *
 * <pre>
 * batches → QuoteBatches (count batch shapes, calibrate each once) ─┐
 * requests + tasks + resumed tasks ──────────────────────────────────┴→ QuoteCosts
 *   → WritePlan (plan.json, plan.csv) → WriteReport (report.html as a quote)
 * dead letters → WriteDeadLetters
 * </pre>
 */
public final class GeneratePipeline {

  private GeneratePipeline() {}

  /**
   * Everything the job needs, already checked and defaulted by {@link GenerateJob}. {@code
   * progressSnapshots} is the folder where workers publish their progress for the launcher on a
   * cluster ({@link ProgressSnapshots}); empty for none. {@code parallelism} is the job's (the
   * worker threads that generate), which a quote needs to time the threads' warm-up.
   */
  public record Settings(
      List<String> manifests,
      String output,
      String model,
      ModelManifest manifest,
      String device,
      String precision,
      int maxBatchSize,
      int chunkSize,
      boolean resume,
      long imagesPerPrompt,
      String promptTier,
      double deviceHourPrice,
      int previewImages,
      int recordShards,
      long progressSeconds,
      String progressSnapshots,
      int torchThreads,
      int parallelism,
      RunSummary info,
      boolean plan,
      DatasetFormat format,
      int shardImages) {}

  /** Adds the job to {@code pipeline}. */
  public static void build(Pipeline pipeline, Settings s) {
    String out = s.output();
    ProgressSnapshots snapshots =
        s.progressSnapshots().isEmpty() || s.progressSeconds() <= 0
            ? ProgressSnapshots.none()
            : new ProgressSnapshots(s.progressSnapshots(), s.progressSeconds());
    PCollectionTuple parsed =
        pipeline
            .apply("Manifests", Create.of(s.manifests()))
            // Create emits every element from one subtask: without this, every manifest file would
            // be parsed by the same worker, one after the other (seen on the local cluster).
            .apply("SpreadManifests", Reshuffle.viaRandomKey())
            .apply(
                "ParseRequests",
                ParseRequests.with(
                    ManifestParser.create()
                        .withImagesPerPrompt(s.imagesPerPrompt())
                        .withPromptTier(s.promptTier())
                        .withSubjectRequired(!s.manifest().getUnconditional())));
    PCollectionTuple unique =
        parsed
            .get(ParseRequests.REQUESTS)
            .apply("DeduplicateRequests", DeduplicateRequests.create());
    PCollectionTuple resolved =
        unique
            .get(DeduplicateRequests.UNIQUE)
            .apply("ResolveRequests", ResolveRequests.against(s.manifest()));
    PCollectionTuple tasks =
        resolved
            .get(ResolveRequests.RESOLVED)
            .apply(
                "ExpandRequests",
                ExpandRequests.into(out)
                    .withChunkSize(s.chunkSize())
                    // Shard formats resume per shard (WriteDataset), not per image file.
                    .withResume(s.resume() && !s.format().sharded())
                    .withProgressSnapshots(snapshots));
    if (s.plan()) {
      PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> batches =
          tasks
              .get(ExpandRequests.TASKS)
              .apply("BatchByTier", BatchByTier.ofSize(s.maxBatchSize()));
      quote(
          s,
          resolved,
          tasks,
          batches,
          deadLetters(parsed, unique, resolved, out, s.recordShards()));
      return;
    }
    PCollection<ImageRecord> records;
    PCollection<BatchStats> stats;
    PCollection<PreviewImage> previewCandidates;
    if (s.format().sharded()) {
      PCollectionTuple dataset =
          tasks.get(ExpandRequests.TASKS).apply("WriteDataset", dataset(s, snapshots));
      ImageProvenance made = ImageProvenance.of(s.info());
      records =
          dataset
              .get(WriteDataset.RECORDS)
              .apply(
                  "RecordProvenance",
                  MapElements.into(TypeDescriptor.of(ImageRecord.class))
                      .via(r -> made.addTo(r.toBuilder()).build()));
      stats = dataset.get(WriteDataset.STATS);
      previewCandidates = dataset.get(WriteDataset.PREVIEWS);
    } else {
      // Resumed images are verified; a damaged one is generated again with the rest (repaired).
      PCollectionTuple existing =
          tasks
              .get(ExpandRequests.RESUMED)
              .apply("ReadExistingImages", ReadExistingImages.from(out));
      PCollectionTuple generated =
          pngTree(
              s,
              existing.get(ReadExistingImages.IMAGES),
              PCollectionList.of(tasks.get(ExpandRequests.TASKS))
                  .and(existing.get(ReadExistingImages.DAMAGED))
                  .apply("TasksAndRepairs", Flatten.pCollections())
                  .apply("BatchByTier", BatchByTier.ofSize(s.maxBatchSize())),
              snapshots);
      records = generated.get(IMAGE_RECORDS);
      stats = generated.get(GenerateImages.STATS);
      previewCandidates = records.apply("PreviewCandidates", WritePreviews.fromRecords());
    }
    records.apply("WriteRecords", WriteRecords.to(out).withShards(s.recordShards()));
    PCollection<String> previews =
        previewCandidates.apply(
            "WritePreviews", WritePreviews.to(out).withCount(s.previewImages()));

    PCollection<DeadLetter> deadLetters =
        deadLetters(parsed, unique, resolved, out, s.recordShards());

    PCollectionTuple accounts =
        PCollectionTuple.of(AccountCosts.REQUESTS, resolved.get(ResolveRequests.RESOLVED))
            .and(AccountCosts.RECORDS, records)
            .and(AccountCosts.STATS, stats)
            .apply("AccountCosts", AccountCosts.withDeviceHourPrice(s.deviceHourPrice()));
    PCollection<RunSummary> summary =
        PCollectionTuple.of(WriteAccounting.TIERS, accounts.get(AccountCosts.TIERS))
            .and(WriteAccounting.REQUEST_COSTS, accounts.get(AccountCosts.REQUEST_COSTS))
            .and(WriteAccounting.DEAD_LETTERS, deadLetters)
            .and(WriteAccounting.WARM_UP_NANOS, accounts.get(AccountCosts.WARM_UP_NANOS))
            .apply(
                "WriteAccounting",
                WriteAccounting.to(out, s.info()).withRequestShards(s.recordShards()));
    PCollectionTuple.of(WriteReport.RUN, summary)
        .and(WriteReport.PREVIEWS, previews)
        .and(WriteReport.DEAD_LETTERS, deadLetters)
        .apply("WriteReport", WriteReport.to(out, s.manifest()));
  }

  /** The image records of the PNG tree, next to GenerateImages' stats. */
  private static final TupleTag<ImageRecord> IMAGE_RECORDS = new TupleTag<ImageRecord>() {};

  /**
   * The PNG tree: generate the batches, write one PNG per image; outputs {@link #IMAGE_RECORDS} and
   * {@link GenerateImages#STATS}.
   */
  private static PCollectionTuple pngTree(
      Settings s,
      PCollection<RenderedImage> verified,
      PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> batches,
      ProgressSnapshots snapshots) {
    String out = s.output();
    Pipeline pipeline = batches.getPipeline();
    // After a lost worker, Flink reruns the generation region (and the producers of its lost
    // inputs): skip what an earlier attempt of this run already wrote.
    PCollectionList<RenderedImage> written = PCollectionList.empty(pipeline);
    WriteImages writeImages = WriteImages.to(out).withProvenance(ImageProvenance.of(s.info()));
    if (!s.info().getStarted().isEmpty()) {
      Instant started = Instant.parse(s.info().getStarted());
      writeImages = writeImages.forRun(started.toString());
      PCollectionTuple skipped =
          batches.apply(
              "SkipWrittenImages",
              SkipWrittenImages.since(out, started).withProgressSnapshots(snapshots));
      batches = skipped.get(SkipWrittenImages.BATCHES);
      written = written.and(skipped.get(SkipWrittenImages.WRITTEN));
    }
    PCollectionTuple generated =
        batches.apply(
            "GenerateImages",
            GenerateImages.using(s.model())
                .onDevice(s.device())
                .withPrecision(s.precision())
                .withMaxBatchSize(s.maxBatchSize())
                .withTorchThreads(s.torchThreads())
                .withProgressEvery(s.progressSeconds())
                .withProgressSnapshots(snapshots));
    // WriteImages consumes GenerateImages' output directly (no Flatten in between), so Flink
    // chains the two and writes each batch's images as they are made; a Flatten there broke the
    // chain, and in batch mode every generated image then waited for all generation to finish.
    // Downstream of the writes only records travel: no image bytes cross a shuffle.
    PCollection<RenderedImage> fresh = generated.get(GenerateImages.IMAGES);
    PCollection<RenderedImage> resumed =
        written.and(verified).apply("AllResumed", Flatten.pCollections());
    PCollection<ImageRecord> records =
        PCollectionList.of(fresh.apply("WriteImages", writeImages))
            .and(resumed.apply("ResumedRecords", writeImages))
            .apply("AllRecords", Flatten.pCollections());
    return PCollectionTuple.of(IMAGE_RECORDS, records)
        .and(GenerateImages.STATS, generated.get(GenerateImages.STATS));
  }

  /** The shard formats: generate each shard's images and stream them into it. */
  private static WriteDataset dataset(Settings s, ProgressSnapshots snapshots) {
    WriteDataset write =
        WriteDataset.to(
                s.output(),
                s.format(),
                new WriteDataset.Generation(
                    s.model(),
                    s.device(),
                    s.precision(),
                    s.maxBatchSize(),
                    s.torchThreads(),
                    s.progressSeconds(),
                    snapshots),
                DatasetFeatures.of(s.manifest()),
                new WriteDataset.Card(
                    s.manifest().getName(),
                    s.manifest().getVersion(),
                    s.model(),
                    s.precision(),
                    s.info().getOptionsOrDefault("requests", "")))
            .withShardImages(s.shardImages())
            .withResume(s.resume())
            .withPreviewImages(s.previewImages());
    return s.info().getStarted().isEmpty() ? write : write.forRun(s.info().getStarted());
  }

  /** The dead letters of every stage, also written to errors/dead-letters-<shard>.jsonl. */
  private static PCollection<DeadLetter> deadLetters(
      PCollectionTuple parsed,
      PCollectionTuple unique,
      PCollectionTuple resolved,
      String out,
      int shards) {
    PCollection<DeadLetter> deadLetters =
        PCollectionList.of(parsed.get(ParseRequests.DEAD_LETTERS))
            .and(unique.get(DeduplicateRequests.DEAD_LETTERS))
            .and(resolved.get(ResolveRequests.DEAD_LETTERS))
            .apply("AllDeadLetters", Flatten.pCollections());
    deadLetters.apply("WriteDeadLetters", WriteDeadLetters.to(out).withShards(shards));
    return deadLetters;
  }

  /** The plan's stages after BatchByTier: predict, write plan.json/plan.csv and the quote page. */
  private static void quote(
      Settings s,
      PCollectionTuple resolved,
      PCollectionTuple tasks,
      PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> batches,
      PCollection<DeadLetter> deadLetters) {
    PCollection<BatchCost> batchCosts =
        batches.apply(
            "QuoteBatches",
            QuoteBatches.using(s.model())
                .onDevice(s.device())
                .withPrecision(s.precision())
                .withMaxBatchSize(s.maxBatchSize())
                .withTorchThreads(s.torchThreads())
                .withWorkerThreads(s.parallelism()));
    PCollectionTuple quotes =
        PCollectionTuple.of(QuoteCosts.REQUESTS, resolved.get(ResolveRequests.RESOLVED))
            .and(QuoteCosts.TASKS, tasks.get(ExpandRequests.TASKS))
            .and(QuoteCosts.RESUMED, tasks.get(ExpandRequests.RESUMED))
            .and(QuoteCosts.BATCH_COSTS, batchCosts)
            .apply("QuoteCosts", QuoteCosts.withDeviceHourPrice(s.deviceHourPrice()));
    PCollection<Plan> plan =
        PCollectionTuple.of(WritePlan.TIERS, quotes.get(QuoteCosts.TIERS))
            .and(WritePlan.BATCH_COSTS, batchCosts)
            .and(WritePlan.DEAD_LETTERS, deadLetters)
            .apply("WritePlan", WritePlan.to(s.output(), s.info()));
    PCollectionTuple.of(WriteReport.PLAN, plan)
        .and(WriteReport.DEAD_LETTERS, deadLetters)
        .apply("WriteReport", WriteReport.to(s.output(), s.manifest()));
  }
}
