package dev.odelt.pipelines;

import dev.odelt.model.Models;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/** Options of the generation job; Beam and Flink options ({@code --runner}, …) pass through. */
public interface GenerateOptions extends PipelineOptions {

  @Description(
      "Request manifests: comma-separated globs over local paths or gs://bucket/...;"
          + " .jsonl, .csv or .txt by extension")
  @Validation.Required
  String getRequests();

  void setRequests(String value);

  @Description("Output root: a directory or gs://bucket/prefix; everything is written under it")
  @Validation.Required
  String getOutput();

  void setOutput(String value);

  @Description("Model package: location of its manifest.json (default: the bundled model)")
  @Default.String(Models.DEFAULT_MODEL)
  String getModel();

  void setModel(String value);

  @Description("auto (GPU when DJL sees one), cpu, gpu or gpu:N")
  @Default.String("auto")
  String getDevice();

  void setDevice(String value);

  @Description(
      "Inference precision: fp32 or bf16 (matrix products and activations in bfloat16; softmax,"
          + " LayerNorm statistics, ODE state and noise in float32). Empty = the model package's"
          + " recommendation (fp32 when it names none)")
  @Default.String("")
  String getPrecision();

  void setPrecision(String value);

  @Description(
      "Images per device batch; 0 = per device (16 on CPU, 2 on CPU for a latent model, 256 on"
          + " GPU)")
  @Default.Integer(0)
  int getMaxBatchSize();

  void setMaxBatchSize(int value);

  @Description(
      "Output format: png (one PNG per image under images/<tier>/<request>/<i>.png), webdataset"
          + " (tar), parquet (Hugging Face datasets) or tfrecord (tf.train.Example): the shard"
          + " formats write dataset/<tier>/<NNNNN>.<ext>, index.json per tier and a dataset card")
  @Default.String("png")
  String getFormat();

  void setFormat(String value);

  @Description("Shard formats: images per shard (about; 1 to 1,000,000)")
  @Default.Long(10_000)
  long getShardImages();

  void setShardImages(long value);

  @Description("Images per chunk when spreading a large request over workers")
  @Default.Integer(256)
  int getChunkSize();

  void setChunkSize(int value);

  @Description(
      "Rerun after a crash: skip images whose PNG already exists under --output (shard formats:"
          + " keep every shard whose manifest proves it complete)")
  @Default.Boolean(false)
  boolean getResume();

  void setResume(boolean value);

  @Description("Prompt manifests (.txt): images per prompt")
  @Default.Long(1)
  long getImagesPerPrompt();

  void setImagesPerPrompt(long value);

  @Description("Prompt manifests (.txt): tier preset or label (default: the model's default tier)")
  @Default.String("")
  String getTier();

  void setTier(String value);

  @Description("Price of one device hour, for estimated costs (any currency)")
  @Default.Double(1.0)
  double getDeviceHourPrice();

  void setDeviceHourPrice(double value);

  @Description("Images per tier in previews/<tier>.png")
  @Default.Integer(64)
  int getPreviewImages();

  void setPreviewImages(int value);

  @Description(
      "Shards of records/records-<shard>.jsonl, accounting/requests-<shard>.jsonl and"
          + " errors/dead-letters-<shard>.jsonl")
  @Default.Integer(16)
  int getRecordShards();

  void setRecordShards(int value);

  @Description("Seconds between progress lines; 0 = none")
  @Default.Long(5)
  long getProgressSeconds();

  void setProgressSeconds(long value);

  @Description(
      "Google Cloud project for gs:// requests (billing and quota); default: GOOGLE_CLOUD_PROJECT"
          + " or the project of the Application Default Credentials")
  @Default.String("")
  String getGcpProject();

  void setGcpProject(String value);

  @Description("PyTorch intra-op threads per sampler call; 0 = cores / parallelism")
  @Default.Integer(0)
  int getTorchThreads();

  void setTorchThreads(int value);

  @Description(
      "On a Flink cluster (--flinkMaster=host:port): restarts of a failed region before the job"
          + " fails (a lost TaskManager, a storage fault that outlasted the DoFn's own retries)."
          + " Until Flink notices a dead TaskManager (heartbeat.timeout, 50 s by default), restarts"
          + " may land on it and fail at once: keep attempts x delay above that timeout. Beam's"
          + " --numberOfExecutionRetries wins when given. Embedded runs do not restart.")
  @Default.Integer(10)
  int getRestartAttempts();

  void setRestartAttempts(int value);

  @Description(
      "On a Flink cluster: seconds between restarts (time for a replacement TaskManager to"
          + " register); Beam's --executionRetryDelay (ms) wins when given")
  @Default.Long(10)
  long getRestartDelaySeconds();

  void setRestartDelaySeconds(long value);

  @Description(
      "One job per output: a run holds the lease <output>/lease.json, refreshed every quarter of"
          + " this many seconds and removed at the end; a second job on the output exits 2. A"
          + " lease not refreshed for this long is stale (its job is taken to be dead) and is"
          + " taken over with a warning. Keep it above a Flink restart (attempts x delay).")
  @Default.Long(600)
  long getLeaseStaleSeconds();

  void setLeaseStaleSeconds(long value);

  @Description(
      "Quote instead of run: read, check, resolve, expand and batch the requests as a run would,"
          + " predict device seconds and cost per tier (calibrated on --device), write plan.json,"
          + " plan.csv and report.html; generate nothing")
  @Default.Boolean(false)
  boolean getPlan();

  void setPlan(boolean value);
}
