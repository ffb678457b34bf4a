package dev.odelt.transforms.datasets;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.BatchStats;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.PreviewImage;
import dev.odelt.proto.v1.ShardEntry;
import dev.odelt.proto.v1.ShardManifest;
import dev.odelt.storage.ObjectStore;
import dev.odelt.transforms.accounting.Progress;
import dev.odelt.transforms.accounting.ProgressSnapshots;
import dev.odelt.transforms.inference.ImageRenderer;
import dev.odelt.transforms.inference.TorchThreads;
import dev.odelt.transforms.io.Hashes;
import dev.odelt.transforms.io.OutputLayout;
import dev.odelt.transforms.io.RetryingStore;
import dev.odelt.transforms.io.WriteImages;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Sum;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Generates the images of a dataset and writes them as shards ({@link ShardLayout}): the tasks of
 * each tier are counted, spread over the tier's shards by a hash of (request id, index), grouped
 * per shard (only the small tasks are shuffled, never image bytes), and each shard is generated in
 * (request id, index) order, batch after batch, streaming into one upload that is published whole
 * when complete ({@link ObjectStore#upload}). No worker holds more of a shard than one batch of
 * images (and a Parquet row group). Then {@code dataset/<tier>/<NNNNN>.<ext>.json} (the shard's
 * size, sha256, records and first images for the contact sheet) and, per tier, {@code
 * dataset/<tier>/index.json}; last the dataset card {@code dataset/README.md}.
 *
 * <p>A shard whose manifest proves it complete (its size and sha256 match and its samples are the
 * shard's tasks) is kept instead of generated again when {@code --resume} is set, or when an
 * earlier attempt of this run wrote it (a region restarted after a failover); its records come from
 * the manifest, marked resumed (costs 0) or recovered (costs as recorded). Anything else is written
 * again, with the same bytes. Outputs: {@link #RECORDS} (one per image, naming its shard and key),
 * {@link #STATS} (per sampler call, as {@code GenerateImages}), {@link #PREVIEWS} (each shard's
 * first images with their PNGs) and {@link #SHARDS} (one entry per shard). Failures (device,
 * storage) throw so the runner retries.
 */
public final class WriteDataset extends PTransform<PCollection<ImageTask>, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  private static final Logger LOG = LoggerFactory.getLogger(WriteDataset.class);

  public static final TupleTag<ImageRecord> RECORDS = new TupleTag<ImageRecord>() {};
  public static final TupleTag<BatchStats> STATS = new TupleTag<BatchStats>() {};
  public static final TupleTag<PreviewImage> PREVIEWS = new TupleTag<PreviewImage>() {};
  public static final TupleTag<ShardEntry> SHARDS = new TupleTag<ShardEntry>() {};

  /**
   * How the shards' images are made, as {@code GenerateImages} makes them.
   *
   * @param precision empty: the model package's recommendation
   * @param maxBatchSize images per sampler call (and the warm-up's size)
   */
  public record Generation(
      String modelLocation,
      String device,
      String precision,
      int maxBatchSize,
      int torchThreads,
      long progressSeconds,
      ProgressSnapshots snapshots)
      implements Serializable {
    public Generation {
      if (modelLocation == null || modelLocation.isEmpty()) {
        throw new IllegalArgumentException("model location must not be empty");
      }
      if (maxBatchSize < 1) {
        throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
      }
      precision = precision == null ? "" : precision.trim();
    }
  }

  /** What the dataset card says made the dataset. */
  public record Card(
      String modelName, String modelVersion, String modelLocation, String precision, String requests)
      implements Serializable {}

  private final String outputRoot;
  private final DatasetFormat format;
  private final int shardImages;
  private final Generation generation;
  private final DatasetFeatures features;
  private final Card card;
  private final boolean resume;
  private final String runStarted;
  private final int previewImages;

  private WriteDataset(
      String outputRoot,
      DatasetFormat format,
      int shardImages,
      Generation generation,
      DatasetFeatures features,
      Card card,
      boolean resume,
      String runStarted,
      int previewImages) {
    this.outputRoot = outputRoot;
    this.format = format;
    this.shardImages = shardImages;
    this.generation = generation;
    this.features = features;
    this.card = card;
    this.resume = resume;
    this.runStarted = runStarted;
    this.previewImages = previewImages;
  }

  /** Writes {@code format} shards of about {@value ShardLayout#DEFAULT_SHARD_IMAGES} images. */
  public static WriteDataset to(
      String outputRoot,
      DatasetFormat format,
      Generation generation,
      DatasetFeatures features,
      Card card) {
    if (outputRoot == null || outputRoot.isEmpty()) {
      throw new IllegalArgumentException("outputRoot must not be empty");
    }
    if (format == null || !format.sharded()) {
      throw new IllegalArgumentException("Not a shard format: " + format);
    }
    return new WriteDataset(
        outputRoot,
        format,
        ShardLayout.DEFAULT_SHARD_IMAGES,
        generation,
        features,
        card,
        false,
        "",
        64);
  }

  /** Images per shard, in [1, 1,000,000]. */
  public WriteDataset withShardImages(long images) {
    return new WriteDataset(
        outputRoot,
        format,
        ShardLayout.checkShardImages(images),
        generation,
        features,
        card,
        resume,
        runStarted,
        previewImages);
  }

  /** Keeps shards that an earlier run completed ({@code --resume}). */
  public WriteDataset withResume(boolean enabled) {
    return new WriteDataset(
        outputRoot,
        format,
        shardImages,
        generation,
        features,
        card,
        enabled,
        runStarted,
        previewImages);
  }

  /** The run's start ({@code run.json} started): marks shards, recognises this run's own. */
  public WriteDataset forRun(String started) {
    if (started == null || started.isEmpty()) {
      throw new IllegalArgumentException("started must not be empty");
    }
    return new WriteDataset(
        outputRoot,
        format,
        shardImages,
        generation,
        features,
        card,
        resume,
        started,
        previewImages);
  }

  /** Images of each shard kept for the contact sheets ({@code --previewImages}). */
  public WriteDataset withPreviewImages(int images) {
    if (images < 0) {
      throw new IllegalArgumentException("preview images must be >= 0, got " + images);
    }
    return new WriteDataset(
        outputRoot, format, shardImages, generation, features, card, resume, runStarted, images);
  }

  @Override
  public PCollectionTuple expand(PCollection<ImageTask> tasks) {
    PCollection<KV<String, Long>> tierImages =
        tasks
            .apply(
                "KeyByTier",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.longs()))
                    .via((ImageTask t) -> KV.of(t.getRequest().getTierLabel(), 1L)))
            .apply("CountPerTier", Sum.longsPerKey());
    PCollectionView<Map<String, Long>> counts = tierImages.apply("TierCounts", View.asMap());
    PCollection<KV<KV<String, Integer>, ImageTask>> assigned =
        tasks.apply(
            "AssignShards",
            ParDo.of(new AssignShardFn(shardImages, counts)).withSideInputs(counts));
    // One empty element per shard, so that every shard number is written even when the hash left
    // it without images (numbers stay contiguous: 00000 … N-1).
    PCollection<KV<KV<String, Integer>, ImageTask>> everyShard =
        tierImages.apply("EveryShard", ParDo.of(new EveryShardFn(shardImages)));
    PCollectionTuple written =
        PCollectionList.of(assigned)
            .and(everyShard)
            .apply("AllShardTasks", Flatten.pCollections())
            .apply("GroupByShard", GroupByKey.create())
            .apply(
                "WriteShards",
                ParDo.of(
                        new WriteShardFn(
                            outputRoot,
                            format,
                            generation,
                            features,
                            resume,
                            runStarted,
                            previewImages))
                    .withOutputTags(RECORDS, TupleTagList.of(STATS).and(PREVIEWS).and(SHARDS)));
    PCollection<String> tiers =
        written
            .get(SHARDS)
            .apply(
                "KeyShardsByTier",
                WithKeys.of(ShardEntry::getTierLabel).withKeyType(TypeDescriptors.strings()))
            .apply("GroupShardsByTier", GroupByKey.create())
            .apply("WriteIndex", ParDo.of(new WriteIndexFn(outputRoot, format, features)));
    tiers
        .apply("KeyTiers", WithKeys.of((String t) -> "").withKeyType(TypeDescriptors.strings()))
        .apply("AllTiers", GroupByKey.create())
        .apply(
            "WriteCard",
            ParDo.of(new WriteCardFn(outputRoot, format, card, shardImages)));
    return written;
  }

  static final class AssignShardFn extends DoFn<ImageTask, KV<KV<String, Integer>, ImageTask>> {
    private static final long serialVersionUID = 1L;
    private final int shardImages;
    private final PCollectionView<Map<String, Long>> counts;

    AssignShardFn(int shardImages, PCollectionView<Map<String, Long>> counts) {
      this.shardImages = shardImages;
      this.counts = counts;
    }

    @ProcessElement
    public void process(
        @Element ImageTask task,
        ProcessContext context,
        OutputReceiver<KV<KV<String, Integer>, ImageTask>> out) {
      String tier = task.getRequest().getTierLabel();
      int shards = ShardLayout.shardCount(context.sideInput(counts).get(tier), shardImages);
      int shard = ShardLayout.shardOf(task.getRequest().getRequestId(), task.getIndex(), shards);
      out.output(KV.of(KV.of(tier, shard), task));
    }
  }

  static final class EveryShardFn extends DoFn<KV<String, Long>, KV<KV<String, Integer>, ImageTask>> {
    private static final long serialVersionUID = 1L;
    private final int shardImages;

    EveryShardFn(int shardImages) {
      this.shardImages = shardImages;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Long> tier, OutputReceiver<KV<KV<String, Integer>, ImageTask>> out) {
      int shards = ShardLayout.shardCount(tier.getValue(), shardImages);
      for (int s = 0; s < shards; s++) {
        out.output(KV.of(KV.of(tier.getKey(), s), ImageTask.getDefaultInstance()));
      }
    }
  }

  /** Counts and hashes what goes through it (a shard's size and sha256, as it is written). */
  static final class DigestingStream extends FilterOutputStream {
    private final MessageDigest digest = sha256();
    private long bytes;

    DigestingStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      digest.update((byte) b);
      bytes++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      digest.update(b, off, len);
      bytes += len;
    }

    @Override
    public void close() throws IOException {
      flush();
    }

    long bytes() {
      return bytes;
    }

    String sha256Hex() {
      return HexFormat.of().formatHex(digest.digest());
    }
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /** What an earlier attempt or run left of a shard. */
  enum Earlier {
    /** Nothing to keep: write the shard. */
    NONE,
    /** A complete shard, kept. */
    KEPT,
    /** A damaged shard or manifest: write the shard again and count its images as repaired. */
    DAMAGED
  }

  static final class WriteShardFn extends DoFn<KV<KV<String, Integer>, Iterable<ImageTask>>, ImageRecord> {
    private static final long serialVersionUID = 1L;
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().sortingMapKeys();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private final String outputRoot;
    private final DatasetFormat format;
    private final Generation generation;
    private final DatasetFeatures features;
    private final boolean resume;
    private final String runStarted;
    private final int previewImages;
    private transient ImageRenderer renderer;
    private transient ObjectStore store;

    WriteShardFn(
        String outputRoot,
        DatasetFormat format,
        Generation generation,
        DatasetFeatures features,
        boolean resume,
        String runStarted,
        int previewImages) {
      this.outputRoot = outputRoot;
      this.format = format;
      this.generation = generation;
      this.features = features;
      this.resume = resume;
      this.runStarted = runStarted;
      this.previewImages = previewImages;
    }

    @Setup
    public void setup() {
      TorchThreads.configure(generation.torchThreads());
      Progress.global().startReporting(generation.progressSeconds());
      generation.snapshots().start();
      store = RetryingStore.forLocation(outputRoot);
    }

    /** The model is loaded on the first shard with images (an empty shard needs none). */
    private ImageRenderer renderer() {
      if (renderer == null) {
        renderer =
            ImageRenderer.load(
                generation.modelLocation(),
                generation.device(),
                generation.precision(),
                generation.maxBatchSize());
      }
      return renderer;
    }

    @ProcessElement
    public void process(
        @Element KV<KV<String, Integer>, Iterable<ImageTask>> shard, MultiOutputReceiver out)
        throws IOException {
      String tier = shard.getKey().getKey();
      int number = shard.getKey().getValue();
      List<ImageTask> tasks = new ArrayList<>();
      for (ImageTask t : shard.getValue()) {
        if (t.hasRequest()) {
          tasks.add(t);
        }
      }
      tasks.sort(ImageRenderer.TASK_ORDER);
      String path = ShardLayout.shardPath(tier, number, format);
      String manifestLocation =
          OutputLayout.location(outputRoot, ShardLayout.manifestPath(tier, number, format));
      Earlier earlier =
          resume || !runStarted.isEmpty()
              ? keep(tier, number, path, manifestLocation, tasks, out)
              : Earlier.NONE;
      if (earlier == Earlier.KEPT) {
        return;
      }
      ShardManifest manifest = write(tier, number, path, tasks, earlier == Earlier.DAMAGED, out);
      store.write(
          manifestLocation,
          PRINTER.print(manifest).getBytes(StandardCharsets.UTF_8),
          "application/json",
          Map.of());
      out.get(SHARDS).output(manifest.getEntry());
      emitPreviews(manifest, out);
    }

    /** Generates and streams one shard; returns its manifest (not yet written). */
    private ShardManifest write(
        String tier,
        int number,
        String path,
        List<ImageTask> tasks,
        boolean repair,
        MultiOutputReceiver out)
        throws IOException {
      ShardManifest.Builder manifest = ShardManifest.newBuilder();
      String location = OutputLayout.location(outputRoot, path);
      Map<String, String> metadata = runStarted.isEmpty() ? Map.of() : Map.of(WriteImages.RUN_STARTED, runStarted);
      try (ObjectStore.Upload upload = store.upload(location, format.contentType(), metadata)) {
        DigestingStream stream = new DigestingStream(upload.stream());
        ShardWriter writer = format.open(stream, features);
        int batch = generation.maxBatchSize();
        IOException[] failure = new IOException[1];
        for (int from = 0; from < tasks.size(); from += batch) {
          List<ImageTask> part = tasks.subList(from, Math.min(tasks.size(), from + batch));
          renderer()
              .render(
                  part,
                  out.get(STATS)::output,
                  image -> {
                    if (failure[0] != null) {
                      return;
                    }
                    int position = manifest.getRecordsCount();
                    String key = ShardLayout.key(tier, number, position);
                    byte[] png = image.getPng().toByteArray();
                    ImageRecord record =
                        WriteImages.recordOf(image, Hashes.sha256(png)).toBuilder()
                            .clearImagePath()
                            .setShard(path)
                            .setKey(key)
                            .setRepaired(repair)
                            .build();
                    try {
                      writer.write(new Sample(key, png, record));
                    } catch (IOException e) {
                      failure[0] = e;
                      return;
                    }
                    manifest.addRecords(record);
                    if (position < previewImages) {
                      manifest.addPreviewPng(image.getPng());
                    }
                    out.get(RECORDS).output(record);
                  });
          if (failure[0] != null) {
            throw failure[0];
          }
          Progress.global().done(tier, part.size());
        }
        writer.finish();
        stream.flush();
        upload.commit();
        manifest.setEntry(
            ShardEntry.newBuilder()
                .setTierLabel(tier)
                .setShard(number)
                .setName(ShardLayout.shardName(number, format))
                .setPath(path)
                .setSamples(tasks.size())
                .setBytes(stream.bytes())
                .setSha256(stream.sha256Hex())
                .setFormat(format.label())
                .setRunStarted(runStarted));
      }
      return manifest.build();
    }

    /**
     * Keeps a shard that its manifest proves complete and that holds exactly these tasks: emits its
     * records, entry and previews and returns {@link Earlier#KEPT}. Otherwise the shard is written
     * again: {@link Earlier#NONE} when there is no manifest, it belongs to another run (without
     * --resume) or lists other samples (the request set changed); {@link Earlier#DAMAGED} (logged,
     * its images counted as repaired) when the manifest cannot be read or the shard is missing or
     * differs from it in size or sha256.
     */
    private Earlier keep(
        String tier,
        int number,
        String path,
        String manifestLocation,
        List<ImageTask> tasks,
        MultiOutputReceiver out)
        throws IOException {
      if (!store.exists(manifestLocation)) {
        return Earlier.NONE;
      }
      ShardManifest.Builder read = ShardManifest.newBuilder();
      try {
        PARSER.merge(
            new String(store.readAllBytes(manifestLocation), StandardCharsets.UTF_8), read);
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        LOG.warn(
            "Shard manifest {} cannot be read ({}): writing the shard again",
            manifestLocation,
            e.getMessage());
        return Earlier.DAMAGED;
      }
      ShardManifest manifest = read.build();
      boolean sameRun = !runStarted.isEmpty() && runStarted.equals(manifest.getEntry().getRunStarted());
      if (!resume && !sameRun) {
        return Earlier.NONE;
      }
      if (!holds(manifest, tier, number, path, tasks)) {
        return Earlier.NONE;
      }
      String location = OutputLayout.location(outputRoot, path);
      if (!matches(location, manifest.getEntry())) {
        LOG.warn(
            "Shard {} is missing or does not match its manifest (size or sha256): writing it"
                + " again",
            location);
        return Earlier.DAMAGED;
      }
      for (ImageRecord r : manifest.getRecordsList()) {
        out.get(RECORDS)
            .output(
                sameRun
                    ? r.toBuilder().setRecovered(true).build()
                    : r.toBuilder()
                        .setResumed(true)
                        .clearRepaired()
                        .clearDeviceSeconds()
                        .clearDecodeSeconds()
                        .clearBlockEvaluations()
                        .clearVelocityEvaluations()
                        .build());
      }
      out.get(SHARDS).output(manifest.getEntry());
      emitPreviews(manifest, out);
      Progress.global().done(tier, tasks.size());
      return Earlier.KEPT;
    }

    /** Whether the manifest lists exactly these tasks, in order, under the keys they get here. */
    private static boolean holds(
        ShardManifest manifest, String tier, int number, String path, List<ImageTask> tasks) {
      ShardEntry e = manifest.getEntry();
      if (!e.getTierLabel().equals(tier)
          || e.getShard() != number
          || !e.getPath().equals(path)
          || e.getSamples() != tasks.size()
          || manifest.getRecordsCount() != tasks.size()) {
        return false;
      }
      for (int i = 0; i < tasks.size(); i++) {
        ImageRecord r = manifest.getRecords(i);
        ImageTask t = tasks.get(i);
        if (!r.getRequestId().equals(t.getRequest().getRequestId())
            || r.getIndex() != t.getIndex()
            || r.getSeed() != t.getSeed()
            || !r.getTierLabel().equals(tier)
            || !r.getKey().equals(ShardLayout.key(tier, number, i))) {
          return false;
        }
      }
      return true;
    }

    /** Whether the object at {@code location} has the entry's size and sha256 (read through). */
    private boolean matches(String location, ShardEntry entry) throws IOException {
      if (!store.exists(location)) {
        return false;
      }
      MessageDigest digest = sha256();
      long bytes = 0;
      try (InputStream in = new DigestInputStream(store.open(location), digest)) {
        byte[] buffer = new byte[1 << 16];
        for (int n; (n = in.read(buffer)) > 0; ) {
          bytes += n;
        }
      }
      return bytes == entry.getBytes()
          && HexFormat.of().formatHex(digest.digest()).equals(entry.getSha256());
    }

    private void emitPreviews(ShardManifest manifest, MultiOutputReceiver out) {
      int n = Math.min(previewImages, manifest.getPreviewPngCount());
      for (int i = 0; i < n; i++) {
        out.get(PREVIEWS)
            .output(
                PreviewImage.newBuilder()
                    .setRecord(manifest.getRecords(i))
                    .setPng(manifest.getPreviewPng(i))
                    .build());
      }
    }

    @FinishBundle
    public void finishBundle() {
      generation.snapshots().flush();
    }
  }

  /** Writes {@code dataset/<tier>/index.json} from the tier's shard entries; outputs the tier. */
  static final class WriteIndexFn extends DoFn<KV<String, Iterable<ShardEntry>>, String> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final DatasetFormat format;
    private final DatasetFeatures features;
    private transient ObjectStore store;

    WriteIndexFn(String outputRoot, DatasetFormat format, DatasetFeatures features) {
      this.outputRoot = outputRoot;
      this.format = format;
      this.features = features;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<ShardEntry>> tier, OutputReceiver<String> out)
        throws IOException {
      List<ShardEntry> entries = new ArrayList<>();
      tier.getValue().forEach(entries::add);
      entries.sort(Comparator.comparingInt(ShardEntry::getShard));
      store.write(
          OutputLayout.location(outputRoot, ShardLayout.indexPath(tier.getKey())),
          index(tier.getKey(), format, features, entries).getBytes(StandardCharsets.UTF_8),
          "application/json",
          Map.of());
      out.output(tier.getKey());
    }
  }

  /** The JSON of {@code dataset/<tier>/index.json}. */
  static String index(
      String tier, DatasetFormat format, DatasetFeatures features, List<ShardEntry> entries) {
    JsonObject root = new JsonObject();
    root.addProperty("tier", tier);
    root.addProperty("format", format.label());
    long samples = 0;
    long bytes = 0;
    JsonArray shards = new JsonArray();
    for (ShardEntry e : entries) {
      JsonObject s = new JsonObject();
      s.addProperty("name", e.getName());
      s.addProperty("samples", e.getSamples());
      s.addProperty("bytes", e.getBytes());
      s.addProperty("sha256", e.getSha256());
      shards.add(s);
      samples += e.getSamples();
      bytes += e.getBytes();
    }
    root.addProperty("samples", samples);
    root.addProperty("bytes", bytes);
    root.add("shards", shards);
    root.add("features", features.features());
    JsonArray names = new JsonArray();
    features.classNames().forEach(names::add);
    root.add("class_names", names);
    return new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root) + "\n";
  }

  /** Writes the dataset card {@code dataset/README.md} once every tier's index is written. */
  static final class WriteCardFn extends DoFn<KV<String, Iterable<String>>, Void> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final DatasetFormat format;
    private final Card card;
    private final int shardImages;

    WriteCardFn(String outputRoot, DatasetFormat format, Card card, int shardImages) {
      this.outputRoot = outputRoot;
      this.format = format;
      this.card = card;
      this.shardImages = shardImages;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<String>> all) throws IOException {
      List<String> tiers = new ArrayList<>();
      all.getValue().forEach(tiers::add);
      tiers.sort(Comparator.naturalOrder());
      RetryingStore.forLocation(outputRoot)
          .write(
              OutputLayout.location(outputRoot, ShardLayout.CARD_PATH),
              DatasetCard.markdown(format, card, tiers, shardImages)
                  .getBytes(StandardCharsets.UTF_8),
              "text/markdown",
              Map.of());
    }
  }
}
