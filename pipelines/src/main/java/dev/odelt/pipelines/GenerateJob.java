package dev.odelt.pipelines;

import ai.djl.Device;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.io.ModelPackage;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.pipelines.cli.Cli;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Plan;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.storage.LocalObjectStore;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import dev.odelt.storage.gcs.GcsObjectStore;
import dev.odelt.transforms.accounting.WritePlan;
import dev.odelt.transforms.datasets.DatasetFormat;
import dev.odelt.transforms.datasets.ShardLayout;
import dev.odelt.transforms.inference.TorchThreads;
import dev.odelt.transforms.io.Hashes;
import dev.odelt.transforms.io.ImageProvenance;
import dev.odelt.transforms.io.OutputConflictException;
import dev.odelt.transforms.io.OutputLayout;
import dev.odelt.transforms.io.OutputLease;
import dev.odelt.transforms.io.OutputProvenance;
import dev.odelt.transforms.report.WriteReport;
import dev.odelt.transforms.requests.MatchManifests;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job jar's entry point and the generation job's command line: {@code java -jar
 * odelt-pipelines.jar --requests=<globs> --output=<dir> [options]}. Runs on embedded Flink unless
 * {@code --runner} says otherwise. {@link #main} hands every command line to {@link Cli} (which
 * dispatches subcommands, prints help, and runs the job through {@link #runJob} when no subcommand
 * is given) and is the only place that calls {@code System.exit}.
 *
 * <p>Steps: check options and match the manifests; read the model manifest; pick defaults (Flink
 * parallelism = cores, PyTorch threads = cores / parallelism, batch size by device); build and run
 * the pipeline ({@link GeneratePipeline}); read back {@code run.json} and print the per-tier table.
 * With {@code --plan} the pipeline quotes instead of generating; {@code plan.json} is read back and
 * the predicted per-tier table printed. Both write {@code report.html}.
 *
 * <p>Exit codes: {@value #EXIT_OK} all requests done; {@value #EXIT_REJECTS} done, but some input
 * was rejected (see {@code errors/dead-letters-*.jsonl}); {@value #EXIT_FAILED} the job failed;
 * {@value #EXIT_USAGE} bad options, no manifest matched, the model cannot be read, another job
 * holds the output's lease, or {@code --resume} into an output made with another model or
 * precision.
 */
public final class GenerateJob {

  public static final int EXIT_OK = 0;
  public static final int EXIT_FAILED = 1;
  public static final int EXIT_USAGE = 2;
  public static final int EXIT_REJECTS = 3;

  /** Batch size when {@code --maxBatchSize=0}. */
  public static final int CPU_BATCH_SIZE = 16;

  public static final int GPU_BATCH_SIZE = 256;

  /**
   * Batch size when {@code --maxBatchSize=0} for a latent model on the CPU. Each worker thread's
   * warm-up runs a guided batch of this size through every block, and its working set sets the
   * thread's memory: a 5-image DiT-B/2 + SD VAE job (random weights, bf16, 2 threads, s1-b4 and
   * s4-b12) peaked at 16.2 GB resident with batches of 16 (warm-up 90.2 of 110.8 device seconds)
   * and at 4.6 GB with 2 (warm-up 14.6 of 31.9), on the same loaded 2-core machine (issue 29).
   */
  public static final int CPU_LATENT_BATCH_SIZE = 2;

  private static final Logger LOG = LoggerFactory.getLogger(GenerateJob.class);

  private GenerateJob() {}

  public static void main(String[] args) {
    System.exit(runCli(args, System.out));
  }

  /**
   * Runs a command line of the jar (a subcommand, help, or the job when no subcommand is given; see
   * {@link Cli}) and returns its exit code, never exiting the JVM.
   */
  public static int runCli(String[] args, PrintStream console) {
    return Cli.run(args, console);
  }

  /**
   * Runs the job with Beam-style {@code --flag=value} arguments, as the command line does without a
   * subcommand, and returns the exit code; prints the summary.
   */
  public static int runJob(String[] args, PrintStream console) {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    GenerateOptions options;
    GeneratePipeline.Settings settings;
    try {
      options =
          PipelineOptionsFactory.fromArgs(withDefaults(args))
              .withValidation()
              .as(GenerateOptions.class);
      settings = settings(options);
    } catch (IllegalArgumentException | IOException e) {
      console.println("odelt: " + e.getMessage());
      console.println(
          "usage: java -jar odelt-pipelines.jar --requests=<globs> --output=<dir> [--model=...]"
              + " [--device=auto|cpu|gpu|gpu:N] [--maxBatchSize=N] [--resume] [--plan]"
              + " (--help lists every option and subcommand)");
      return EXIT_USAGE;
    }
    OutputLease lease;
    try {
      lease = checkOutput(options, settings);
    } catch (OutputConflictException e) {
      console.println("odelt: " + e.getMessage());
      return EXIT_USAGE;
    } catch (IOException e) {
      LOG.error("Cannot check the output", e);
      console.println("odelt: cannot check the output " + settings.output() + ": " + e);
      return EXIT_FAILED;
    }
    RunSummary summary;
    Plan plan = null;
    ClusterProgress progress = startClusterProgress(options, settings, console);
    try {
      PipelineResult result = run(options, settings);
      PipelineResult.State state = result.waitUntilFinish();
      if (state != PipelineResult.State.DONE) {
        console.println("odelt: the job ended in state " + state);
        return EXIT_FAILED;
      }
      if (settings.plan()) {
        plan = readPlan(settings.output());
        summary = plan.getSummary();
      } else {
        summary = readSummary(settings.output());
      }
    } catch (RuntimeException | IOException e) {
      LOG.error("The generation job failed", e);
      console.println("odelt: the job failed: " + e);
      return EXIT_FAILED;
    } finally {
      if (progress != null) {
        progress.close();
      }
      lease.close();
    }
    if (plan != null) {
      printPlan(plan, console);
    } else {
      printSummary(summary, console);
    }
    return summary.getRejects() > 0 ? EXIT_REJECTS : EXIT_OK;
  }

  /**
   * Before anything is written: with {@code --resume}, refuses an output made with another model
   * digest, decoder or precision ({@link OutputProvenance#checkResume}); then takes the output's
   * lease ({@link OutputLease}), refreshed every quarter of {@code --leaseStaleSeconds} until the
   * caller closes it. A plan takes it too: it writes plan.json and report.html into the output.
   */
  static OutputLease checkOutput(GenerateOptions o, GeneratePipeline.Settings s)
      throws IOException, OutputConflictException {
    if (s.resume()) {
      OutputProvenance.checkResume(s.output(), ImageProvenance.of(s.info()));
    }
    Duration stale = Duration.ofSeconds(o.getLeaseStaleSeconds());
    // A stale lease taken over is warned about by OutputLease.
    return OutputLease.acquire(s.output(), s.info().getRunId(), host(), stale, Clock.systemUTC())
        .keepRefreshed(stale.dividedBy(4));
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return System.getenv().getOrDefault("HOSTNAME", "unknown-host");
    }
  }

  /**
   * On a Flink cluster ({@code --flinkMaster=host:port}) with {@code --progressSeconds > 0}: prints
   * the whole cluster's progress from the workers' snapshots while the job runs ({@link
   * ClusterProgress}); null (nothing to close) on embedded Flink or another runner.
   */
  static ClusterProgress startClusterProgress(
      GenerateOptions o, GeneratePipeline.Settings s, PrintStream console) {
    if (o.getRunner() != FlinkRunner.class || o.getProgressSeconds() <= 0) {
      return null;
    }
    String master = o.as(FlinkPipelineOptions.class).getFlinkMaster();
    if (isEmbedded(master)) {
      return null;
    }
    return ClusterProgress.start(
        master, o.getJobName(), o.getProgressSeconds(), s.progressSnapshots(), console);
  }

  private static boolean isEmbedded(String flinkMaster) {
    return flinkMaster == null || flinkMaster.equals("[local]") || flinkMaster.equals("[auto]");
  }

  /** Builds and starts the job with checked settings. */
  public static PipelineResult run(GenerateOptions options, GeneratePipeline.Settings settings) {
    Pipeline pipeline = Pipeline.create(options);
    GeneratePipeline.build(pipeline, settings);
    return pipeline.run();
  }

  /**
   * {@code --runner=FlinkRunner} (embedded), {@code --fasterCopy} and {@code
   * --useDataStreamForBatch} unless given.
   */
  static String[] withDefaults(String[] args) {
    List<String> out = new ArrayList<>(Arrays.asList(args));
    if (out.stream().noneMatch(a -> a.startsWith("--runner="))) {
      out.add("--runner=FlinkRunner");
    }
    if (out.stream().noneMatch(a -> a.startsWith("--fasterCopy"))) {
      // Elements are immutable protos: Flink need not deep-copy them between chained operators.
      out.add("--fasterCopy=true");
    }
    if (out.stream().noneMatch(a -> a.startsWith("--useDataStreamForBatch"))) {
      // Flink's DataSet translation held every generated image back until all generation had
      // finished (a deadlock-avoiding dam on the plan's branches), so nothing was written while
      // the model ran and the images waited in memory. In DataStream batch mode WriteImages runs
      // chained to GenerateImages and each batch's images are written as soon as they are made
      // (measured in BENCHMARKS.md, pipeline efficiency).
      out.add("--useDataStreamForBatch=true");
    }
    return out.toArray(new String[0]);
  }

  /** Checks options, matches manifests, reads the model manifest and fills in defaults. */
  static GeneratePipeline.Settings settings(GenerateOptions o) throws IOException {
    int cores = Runtime.getRuntime().availableProcessors();
    int parallelism = cores;
    boolean local = true;
    if (o.getRunner() == FlinkRunner.class) {
      FlinkPipelineOptions flink = o.as(FlinkPipelineOptions.class);
      if (flink.getParallelism() <= 0) {
        flink.setParallelism(cores);
      }
      parallelism = flink.getParallelism();
      String master = flink.getFlinkMaster();
      local = isEmbedded(master);
      boolean ownConf =
          (flink.getFlinkConfDir() != null && !flink.getFlinkConfDir().isEmpty())
              || System.getenv("FLINK_CONF_DIR") != null;
      if (local && !ownConf) {
        // Otherwise Flink's adaptive batch scheduler runs small jobs' generation on one thread.
        flink.setFlinkConfDir(EmbeddedFlinkConf.write(parallelism).toString());
      }
      if (o.getRestartAttempts() < 0) {
        throw new IllegalArgumentException("--restartAttempts must be >= 0");
      }
      if (o.getRestartDelaySeconds() < 0) {
        throw new IllegalArgumentException("--restartDelaySeconds must be >= 0");
      }
      if (!local) {
        // Flink sets no restart strategy for batch jobs: one lost TaskManager would fail the run.
        // Failover is per region (the cluster's default); writes are idempotent and generation
        // skips what an earlier attempt wrote (SkipWrittenImages), so a restart redoes little.
        Integer retries = flink.getNumberOfExecutionRetries();
        if (retries == null || retries < 0) {
          flink.setNumberOfExecutionRetries(o.getRestartAttempts());
        }
        Long delay = flink.getExecutionRetryDelay();
        if (delay == null || delay < 0) {
          flink.setExecutionRetryDelay(o.getRestartDelaySeconds() * 1000);
        }
      }
    } else if (o.getRunner() == DirectRunner.class) {
      parallelism = o.as(DirectOptions.class).getTargetParallelism();
    }
    int torchThreads = o.getTorchThreads();
    if (torchThreads < 0) {
      throw new IllegalArgumentException("--torchThreads must be >= 0");
    }
    if (torchThreads == 0 && local) {
      torchThreads = TorchThreads.perCall(cores, parallelism);
    }
    TorchThreads.configure(torchThreads);

    String output = absolute(o.getOutput());
    if (!o.getGcpProject().isBlank()) {
      ObjectStores.register(GcsObjectStore.forProject(o.getGcpProject()));
    }
    List<String> manifests = MatchManifests.match(o.getRequests());
    checkAccess("--model", ModelPackages.manifestLocation(o.getModel()), false);
    ModelManifest manifest;
    try {
      manifest = ModelPackages.readManifest(o.getModel());
      // The whole package (weights digest, decoder, presets) before the pipeline starts: a bad
      // model is a usage error, not a failed job.
      Models.verify(o.getModel());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--model: cannot read " + o.getModel() + ": " + e.getMessage(), e);
    }
    int maxBatchSize = o.getMaxBatchSize();
    if (maxBatchSize < 0) {
      throw new IllegalArgumentException("--maxBatchSize must be >= 0");
    }
    Device device = Models.resolveDevice(o.getDevice());
    if (maxBatchSize == 0) {
      boolean latent = "latent".equals(manifest.getNormalization().getSpace());
      maxBatchSize =
          device.isGpu() ? GPU_BATCH_SIZE : latent ? CPU_LATENT_BATCH_SIZE : CPU_BATCH_SIZE;
    }
    String precision = o.getPrecision() == null ? "" : o.getPrecision().trim();
    if (!precision.isEmpty()) {
      try {
        precision = Precision.parse(precision).label();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--precision: " + e.getMessage(), e);
      }
    } else {
      try {
        precision = ModelPackage.recommendedPrecision(manifest).label();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "--model: " + o.getModel() + " has a bad precision: " + e.getMessage(), e);
      }
    }
    if (o.getLeaseStaleSeconds() < 1) {
      throw new IllegalArgumentException("--leaseStaleSeconds must be >= 1");
    }
    if (o.getChunkSize() < 1) {
      throw new IllegalArgumentException("--chunkSize must be >= 1");
    }
    if (o.getRecordShards() < 1) {
      throw new IllegalArgumentException("--recordShards must be >= 1");
    }
    if (o.getPreviewImages() < 1) {
      throw new IllegalArgumentException("--previewImages must be >= 1");
    }
    if (!(o.getDeviceHourPrice() >= 0) || Double.isInfinite(o.getDeviceHourPrice())) {
      throw new IllegalArgumentException("--deviceHourPrice must be a number >= 0");
    }
    DatasetFormat format;
    try {
      format = DatasetFormat.parse(o.getFormat());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--format: " + e.getMessage(), e);
    }
    int shardImages = ShardLayout.checkShardImages(o.getShardImages());
    checkOutputFormat(output, format, shardImages);
    // Last, because it is the only check that may touch the output (a probe object on gs://).
    checkAccess("--output", output, true);
    ImageProvenance provenance =
        new ImageProvenance(
            manifest.getName(),
            manifest.getVersion(),
            manifestDigest(o.getModel()),
            manifest.getDecoder().getSha256(),
            precision,
            device.isGpu() ? "gpu" : "cpu",
            JobVersion.get());
    RunSummary.Builder infoBuilder =
        RunSummary.newBuilder()
            .setRunId(UUID.randomUUID().toString())
            .setModelName(manifest.getName())
            .setModelVersion(manifest.getVersion())
            .setModelLocation(o.getModel())
            .setOutput(output)
            .setStarted(Instant.now().toString())
            .setDeviceHourPrice(o.getDeviceHourPrice())
            .putAllOptions(
                Map.ofEntries(
                    Map.entry("requests", o.getRequests()),
                    Map.entry("output", output),
                    Map.entry("model", o.getModel()),
                    Map.entry("device", o.getDevice()),
                    Map.entry("precision", precision),
                    Map.entry("max_batch_size", Integer.toString(maxBatchSize)),
                    Map.entry("chunk_size", Integer.toString(o.getChunkSize())),
                    Map.entry("resume", Boolean.toString(o.getResume())),
                    Map.entry("images_per_prompt", Long.toString(o.getImagesPerPrompt())),
                    Map.entry("tier", o.getTier()),
                    Map.entry("runner", o.getRunner().getSimpleName()),
                    Map.entry("parallelism", Integer.toString(parallelism)),
                    Map.entry("torch_threads", Integer.toString(torchThreads)),
                    Map.entry("plan", Boolean.toString(o.getPlan())),
                    Map.entry("format", format.label()),
                    Map.entry("shard_images", Integer.toString(shardImages))));
    RunSummary info = provenance.addTo(infoBuilder).build();
    return new GeneratePipeline.Settings(
        manifests,
        output,
        o.getModel(),
        manifest,
        o.getDevice(),
        precision,
        maxBatchSize,
        o.getChunkSize(),
        o.getResume(),
        o.getImagesPerPrompt(),
        o.getTier(),
        o.getDeviceHourPrice(),
        o.getPreviewImages(),
        o.getRecordShards(),
        o.getProgressSeconds(),
        local || o.getProgressSeconds() <= 0 || o.getPlan()
            ? ""
            : OutputLayout.location(output, OutputLayout.progressPath(info.getStarted())),
        torchThreads,
        parallelism,
        info,
        o.getPlan(),
        format,
        shardImages);
  }

  /**
   * Refuses an output that already holds another format (a PNG tree under a shard format, shards
   * under {@code png}, or shards of another format or size): mixing them would leave two datasets
   * in one output, or stale shards next to new ones. The earlier run's format comes from its {@code
   * run.json}, else from what lies under {@code images/} and {@code dataset/}.
   */
  static void checkOutputFormat(String output, DatasetFormat format, int shardImages)
      throws IOException {
    ObjectStore store = ObjectStores.forLocation(output);
    String runJson = OutputLayout.location(output, OutputLayout.RUN_JSON);
    String before = null;
    String beforeShards = null;
    if (store.exists(runJson)) {
      RunSummary earlier = readSummary(output);
      before = earlier.getOptionsOrDefault("format", DatasetFormat.PNG.label());
      beforeShards = earlier.getOptionsMap().get("shard_images");
    } else if (any(store, OutputLayout.location(output, "images/**"))) {
      before = DatasetFormat.PNG.label();
    } else {
      for (DatasetFormat f : DatasetFormat.values()) {
        if (f.sharded()
            && any(
                store,
                OutputLayout.location(output, ShardLayout.DATASET_DIR + "/*/*." + f.extension()))) {
          before = f.label();
        }
      }
    }
    if (before != null && !before.equals(format.label())) {
      throw new IllegalArgumentException(
          "--format="
              + format.label()
              + ": "
              + output
              + " already holds "
              + (before.equals(DatasetFormat.PNG.label()) ? "a PNG tree" : before + " shards")
              + " (--format="
              + before
              + "); write to a new --output, or use --format="
              + before);
    }
    if (format.sharded()
        && beforeShards != null
        && !beforeShards.equals(Integer.toString(shardImages))) {
      throw new IllegalArgumentException(
          "--shardImages="
              + shardImages
              + ": "
              + output
              + " already holds shards of --shardImages="
              + beforeShards
              + "; write to a new --output, or use --shardImages="
              + beforeShards);
    }
  }

  private static boolean any(ObjectStore store, String glob) throws IOException {
    try (var found = store.list(glob)) {
      return found.findAny().isPresent();
    }
  }

  /** The model's digest: the sha256 of its {@code manifest.json} bytes (which pin the weights'). */
  static String manifestDigest(String model) throws IOException {
    String location = ModelPackages.manifestLocation(model);
    try {
      return Hashes.sha256(ObjectStores.forLocation(location).readAllBytes(location));
    } catch (IOException e) {
      throw new IllegalArgumentException("--model: cannot read " + location + ": " + e, e);
    }
  }

  /**
   * Fails in seconds, before any work, when credentials, a bucket or a permission is missing for a
   * location; the message names the option.
   */
  static void checkAccess(String option, String location, boolean forWrite) throws IOException {
    try {
      ObjectStores.checkAccess(location, forWrite);
    } catch (IOException e) {
      throw new IOException(option + ": " + e.getMessage(), e);
    }
  }

  /** Local paths become absolute (workers may not share the launcher's directory). */
  static String absolute(String output) {
    if (output.isBlank()) {
      throw new IllegalArgumentException("--output is empty");
    }
    if (ObjectStores.schemeOf(output).equals("file")) {
      return LocalObjectStore.toPath(output).toAbsolutePath().normalize().toString();
    }
    return output;
  }

  /** Reads {@code run.json} of a finished run. */
  public static RunSummary readSummary(String output) throws IOException {
    String location = OutputLayout.location(output, OutputLayout.RUN_JSON);
    RunSummary.Builder b = RunSummary.newBuilder();
    JsonFormat.parser()
        .ignoringUnknownFields()
        .merge(
            new String(
                ObjectStores.forLocation(location).readAllBytes(location), StandardCharsets.UTF_8),
            b);
    return b.build();
  }

  /** The end-of-run table: per tier images, img/s (device throughput), device seconds, cost. */
  static void printSummary(RunSummary s, PrintStream out) {
    out.printf(
        Locale.ROOT,
        "odelt: %d images (%d generated, %d resumed) for %d requests with %s %s in %.1f s%n",
        s.getImages(),
        s.getImagesGenerated(),
        s.getImagesResumed(),
        s.getRequestsAccepted(),
        s.getModelName(),
        s.getModelVersion(),
        s.getWallSeconds());
    if (s.getImagesRepaired() > 0) {
      out.printf(
          Locale.ROOT,
          "odelt: %d resumed image(s) were damaged and generated again (repaired, counted as"
              + " generated): %s%s%n",
          s.getImagesRepaired(),
          String.join(", ", s.getRepairedPathsList()),
          s.getImagesRepaired() > s.getRepairedPathsCount() ? ", …" : "");
    }
    if (s.getImagesRecovered() > 0) {
      out.printf(
          Locale.ROOT,
          "odelt: %d of the generated images were written by an attempt lost in a failover and"
              + " kept (%.2f device s, counted once)%n",
          s.getImagesRecovered(),
          s.getRecoveredSeconds());
    }
    // A latent model's device seconds are sampling + decoding: shown side by side.
    boolean latent = s.getDecodeSeconds() > 0;
    out.println(
        latent
            ? String.format(
                Locale.ROOT,
                "%-24s %9s %9s %10s %10s %10s %12s",
                "tier",
                "images",
                "img/s",
                "device s",
                "sampling s",
                "decode s",
                "cost")
            : String.format(
                Locale.ROOT,
                "%-24s %9s %9s %10s %12s",
                "tier",
                "images",
                "img/s",
                "device s",
                "cost"));
    for (TierAccount t : s.getTiersList()) {
      double rate = t.getDeviceSeconds() > 0 ? t.getImagesGenerated() / t.getDeviceSeconds() : 0.0;
      out.println(
          tierLine(
              latent,
              t.getTierLabel(),
              Long.toString(t.getImages()),
              String.format(Locale.ROOT, "%.2f", rate),
              t.getDeviceSeconds(),
              t.getDecodeSeconds(),
              t.getEstimatedCost()));
    }
    if (s.getWarmUpSeconds() > 0) {
      // The worker threads' warm-up calls (one each, before its first batch): in no tier.
      out.println(
          tierLine(
              latent,
              "warm-up",
              "",
              "",
              s.getWarmUpSeconds(),
              0,
              s.getWarmUpSeconds() / 3600 * s.getDeviceHourPrice()));
    }
    out.println(
        tierLine(
            latent,
            "total",
            Long.toString(s.getImages()),
            "",
            s.getDeviceSeconds(),
            s.getDecodeSeconds(),
            s.getEstimatedCost()));
    if (s.getRejects() > 0) {
      out.printf(
          Locale.ROOT,
          "odelt: %d input(s) rejected %s; see %s%n",
          s.getRejects(),
          s.getRejectsByReasonMap(),
          OutputLayout.location(s.getOutput(), OutputLayout.DEAD_LETTERS_JSONL));
    }
    out.println(
        "odelt: report in " + OutputLayout.location(s.getOutput(), WriteReport.REPORT_HTML));
    out.println("odelt: output in " + s.getOutput());
  }

  /** One row of the per-tier table; latent models get sampling and decode columns. */
  private static String tierLine(
      boolean latent,
      String label,
      String images,
      String imagesPerSecond,
      double deviceSeconds,
      double decodeSeconds,
      double cost) {
    StringBuilder row =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "%-24s %9s %9s %10.2f",
                label,
                images,
                imagesPerSecond,
                deviceSeconds));
    if (latent) {
      row.append(
          String.format(
              Locale.ROOT, " %10.2f %10.2f", deviceSeconds - decodeSeconds, decodeSeconds));
    }
    return row.append(String.format(Locale.ROOT, " %12.6f", cost)).toString();
  }

  /** Reads {@code plan.json} of a finished plan. */
  public static Plan readPlan(String output) throws IOException {
    String location = OutputLayout.location(output, WritePlan.PLAN_JSON);
    Plan.Builder b = Plan.newBuilder();
    JsonFormat.parser()
        .ignoringUnknownFields()
        .merge(
            new String(
                ObjectStores.forLocation(location).readAllBytes(location), StandardCharsets.UTF_8),
            b);
    return b.build();
  }

  /** The quote: per tier requests, images, batches, predicted device seconds and cost. */
  static void printPlan(Plan plan, PrintStream out) {
    RunSummary s = plan.getSummary();
    out.printf(
        Locale.ROOT,
        "odelt: plan: %d images (%d to generate, %d resumed) for %d requests with %s %s,"
            + " planned in %.1f s; nothing generated%n",
        s.getImages(),
        s.getImagesGenerated(),
        s.getImagesResumed(),
        s.getRequestsAccepted(),
        s.getModelName(),
        s.getModelVersion(),
        s.getWallSeconds());
    boolean sharded = s.getTiersList().stream().anyMatch(t -> t.getShards() > 0);
    out.printf(
        Locale.ROOT,
        "%-24s %9s %9s %8s %14s %10s %12s%s%n",
        "tier",
        "requests",
        "images",
        "batches",
        "block evals",
        "device s*",
        "cost*",
        sharded ? String.format(Locale.ROOT, " %8s", "shards") : "");
    long batches = 0;
    double blocks = 0;
    for (TierAccount t : s.getTiersList()) {
      double tierBlocks = t.getBlockEvaluationsPerImage() * t.getImagesGenerated();
      batches += t.getBatches();
      blocks += tierBlocks;
      out.printf(
          Locale.ROOT,
          "%-24s %9d %9d %8d %14.0f %10.2f %12.6f%s%n",
          t.getTierLabel(),
          t.getRequests(),
          t.getImages(),
          t.getBatches(),
          tierBlocks,
          t.getDeviceSeconds(),
          t.getEstimatedCost(),
          sharded ? String.format(Locale.ROOT, " %8d", t.getShards()) : "");
    }
    if (s.getWarmUpSeconds() > 0) {
      out.printf(
          Locale.ROOT,
          "%-24s %9s %9s %8s %14s %10.2f %12.6f%n",
          "warm-up",
          "",
          "",
          "",
          "",
          s.getWarmUpSeconds(),
          s.getWarmUpSeconds() / 3600 * s.getDeviceHourPrice());
    }
    out.printf(
        Locale.ROOT,
        "%-24s %9d %9d %8d %14.0f %10.2f %12.6f%n",
        "total",
        s.getRequestsAccepted(),
        s.getImages(),
        batches,
        blocks,
        s.getDeviceSeconds(),
        s.getEstimatedCost());
    out.println("* predicted; cost model: " + plan.getCostModel());
    if (s.getRejects() > 0) {
      out.printf(
          Locale.ROOT,
          "odelt: %d input(s) rejected %s; see %s%n",
          s.getRejects(),
          s.getRejectsByReasonMap(),
          OutputLayout.location(s.getOutput(), OutputLayout.DEAD_LETTERS_JSONL));
    }
    out.println(
        "odelt: quote in "
            + OutputLayout.location(s.getOutput(), WritePlan.PLAN_JSON)
            + ", "
            + WritePlan.PLAN_CSV
            + " and "
            + WriteReport.REPORT_HTML);
  }
}
