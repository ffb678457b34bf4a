package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.JobStats.f;

import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.SampleBatch;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.Sampler;
import dev.odelt.pipelines.GenerateJob;
import dev.odelt.pipelines.bench.JobManifests.ImageJob;
import dev.odelt.pipelines.bench.JobManifests.TierChoice;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import dev.odelt.transforms.inference.TorchThreads;
import dev.odelt.transforms.io.Hashes;
import dev.odelt.transforms.io.OutputLayout;
import dev.odelt.transforms.io.PngImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue item 2: the whole generation job on embedded Flink, in this JVM through its command-line
 * entry point, against the bare sampler loop on the same images (classes, seeds and tiers derived
 * as {@code ExpandRequests} does), with the job's batch size, the same PyTorch threads per call and
 * as many sampler threads as the job's Flink parallelism. Runs alternate bare, job, bare, job; the
 * goal compares medians of images per second.
 */
public final class PipelineEfficiencyBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(PipelineEfficiencyBench.class);

  /** The job's CPU batch size ({@code --maxBatchSize=0} on CPU). */
  static final int BATCH_SIZE = GenerateJob.CPU_BATCH_SIZE;

  static final double GOAL = 0.90;

  /**
   * Bare-loop seconds a full-mode manifest aims at, so the job's fixed start-up cost is amortised.
   */
  static final double TARGET_BARE_SECONDS = 45;

  static final int MIN_IMAGES = 3000;

  /** Unmeasured passes before the PNG and file-write timings (JIT warm-up). */
  static final int WARM_UP_PASSES = 10;
  static final int MAX_IMAGES = 15_000;

  @Override
  public String id() {
    return "pipeline-efficiency";
  }

  @Override
  public Section run(BenchContext context) throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    int threads = Math.max(1, context.threads());
    int parallelism = Math.max(1, cores / threads);
    TorchThreads.configure(threads);
    LoadedModel model = Models.shared(context.modelLocation(), "cpu");
    List<String> jobOptions =
        List.of(
            "--parallelism=" + parallelism,
            "--torchThreads=" + threads,
            "--maxBatchSize=" + BATCH_SIZE);
    Mix cheapest =
        new Mix(
            "cheapest tiers", "cheapest", cheapTiers(model.config()), new double[] {0.4, 0.35, 0.25});
    Mix presets =
        new Mix(
            "the model's presets",
            "presets",
            presetTiers(model.manifest()),
            new double[] {0.4, 0.4, 0.2});
    return combine(
        measure(context, model, cheapest, parallelism, threads, jobOptions),
        measure(context, model, presets, parallelism, threads, jobOptions));
  }

  /**
   * A tier mix: its name in tables, its key (raw JSON, work files), its tiers and their shares of
   * the images.
   */
  record Mix(String name, String key, List<Tier> tiers, double[] weights) {}

  /**
   * One tier mix: warm-up, rounds of bare loop, job and 1-image job, the profile of the last job.
   * Tables, goals and findings name the mix; files go under {@code <workDir>/<id>/<key>}.
   */
  private Section measure(
      BenchContext context,
      LoadedModel model,
      Mix tierMix,
      int parallelism,
      int threads,
      List<String> jobOptions)
      throws Exception {
    String mixName = tierMix.name();
    String key = tierMix.key();
    List<Tier> tiers = tierMix.tiers();
    ModelConfig config = model.config();
    int rounds = context.shortMode() ? 1 : 2;
    Map<TierChoice, Double> mix = new LinkedHashMap<>();
    for (int i = 0; i < tiers.size(); i++) {
      mix.put(TierChoice.of(tiers.get(i)), tierMix.weights()[i]);
    }
    Path dir = context.workDir().resolve(id()).resolve(key);

    // Warm-up: both paths once on a small manifest (model, JIT, Flink classes). The bare loop's
    // warm-up rate sizes the full-mode manifest.
    List<JobManifests.Request> warmRequests =
        JobManifests.mixed(7L, 6 * BATCH_SIZE, mix, 4, 16, config.numClasses());
    Path warmManifest = JobManifests.write(dir.resolve("warm-up.jsonl"), warmRequests);
    List<List<ImageJob>> warmBatches =
        JobManifests.batches(JobManifests.expand(warmRequests), BATCH_SIZE);
    bare(model.sampler(), warmBatches, parallelism);
    BareRun warmBare = bare(model.sampler(), warmBatches, parallelism);
    double warmRate = 6 * BATCH_SIZE / warmBare.seconds();
    if (!context.shortMode()) {
      Path warmOut = fresh(dir.resolve("out-warm-up"));
      InProcessJob.run(
          InProcessJob.args(warmManifest, warmOut, context.modelLocation(), jobOptions), warmOut);
    }
    int totalImages = context.shortMode() ? 96 : imagesFor(warmRate);

    List<JobManifests.Request> requests =
        JobManifests.mixed(20260601L, totalImages, mix, 4, 32, config.numClasses());
    Path manifest = JobManifests.write(dir.resolve("requests.jsonl"), requests);
    List<ImageJob> images = JobManifests.expand(requests);
    List<List<ImageJob>> batches = JobManifests.batches(images, BATCH_SIZE);
    LOG.info(
        "pipeline-efficiency ({}): {} images in {} requests over {}, batch {}, {} sampler threads"
            + " x {} PyTorch threads, {} round(s)",
        key,
        images.size(),
        requests.size(),
        JobManifests.imagesPerTier(requests),
        BATCH_SIZE,
        parallelism,
        threads,
        rounds);

    List<Double> bareRates = new ArrayList<>();
    List<Double> jobRates = new ArrayList<>();
    List<BareRun> bareRuns = new ArrayList<>();
    List<InProcessJob.Result> jobRuns = new ArrayList<>();
    List<Double> fixedSeconds = new ArrayList<>();
    Path oneManifest =
        JobManifests.write(
            dir.resolve("one-image.jsonl"),
            List.of(new JobManifests.Request("one", 0, 1, 1L, TierChoice.of(tiers.get(0)))));
    for (int r = 0; r < rounds; r++) {
      BareRun b = bare(model.sampler(), batches, parallelism);
      bareRuns.add(b);
      bareRates.add(images.size() / b.seconds());
      LOG.info(
          "pipeline-efficiency ({}) round {}: bare {} img/s", key, r + 1, f("%.1f", bareRates.get(r)));
      Path out = fresh(dir.resolve("out-" + (r + 1)));
      InProcessJob.Result j =
          InProcessJob.run(
              InProcessJob.args(manifest, out, context.modelLocation(), jobOptions), out);
      if (j.summary().getImagesGenerated() != images.size()) {
        throw new IllegalStateException(
            "The job made " + j.summary().getImagesGenerated() + " images, not " + images.size());
      }
      jobRuns.add(j);
      jobRates.add(images.size() / j.seconds());
      LOG.info(
          "pipeline-efficiency ({}) round {}: job {} img/s", key, r + 1, f("%.1f", jobRates.get(r)));
      if (r == 0) {
        checkSameImages(model.sampler(), batches, out);
      }
      Path oneOut = fresh(dir.resolve("out-one-image"));
      fixedSeconds.add(
          InProcessJob.run(
                  InProcessJob.args(oneManifest, oneOut, context.modelLocation(), jobOptions),
                  oneOut)
              .seconds());
    }
    double fixed = JobStats.median(fixedSeconds);
    double jobSecondsMedian =
        JobStats.median(jobRuns.stream().map(InProcessJob.Result::seconds).toList());
    double marginalRatio =
        (images.size() - 1) / Math.max(1e-9, jobSecondsMedian - fixed) / JobStats.median(bareRates);
    double bareMedian = JobStats.median(bareRates);
    double jobMedian = JobStats.median(jobRates);
    double ratio = jobMedian / bareMedian;
    InProcessJob.Result lastJob = jobRuns.get(jobRuns.size() - 1);
    Path lastOut = dir.resolve("out-" + rounds);
    Profile profile = profile(lastJob, lastOut, parallelism);
    double pngMillis = pngMillisPerImage(model.sampler(), batches.get(0));
    double writeMillis =
        writeMillisPerImage(model.sampler(), batches.get(0), dir.resolve("writes"));
    BareRun lastBare = bareRuns.get(bareRuns.size() - 1);

    List<List<String>> runRows = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      runRows.add(
          List.of(
              Integer.toString(r + 1),
              f("%.2f", bareRuns.get(r).seconds()),
              f("%.1f", bareRates.get(r)),
              f("%.2f", jobRuns.get(r).seconds()),
              f("%.1f", jobRates.get(r)),
              f("%.3f", jobRates.get(r) / bareRates.get(r))));
    }
    runRows.add(
        List.of("median", "", f("%.1f", bareMedian), "", f("%.1f", jobMedian), f("%.3f", ratio)));
    Section.Table runs =
        new Section.Table(
            f(
                "%s: images per second, %d images, batch %d, %d sampler threads x %d PyTorch"
                    + " threads",
                mixName, images.size(), BATCH_SIZE, parallelism, threads),
            List.of("round", "bare s", "bare img/s", "job s", "job img/s", "job / bare"),
            runRows);
    long idealBatches = batches.size();
    Section.Table where =
        new Section.Table(
            mixName + ": where the job's wall time goes (last job run; seconds)",
            List.of("part", "seconds", "share of job wall"),
            List.of(
                row(
                    "launch → first PNG file on disk (Flink up, parse, expand, batch, first"
                        + " batch generated)",
                    profile.head(),
                    lastJob.seconds()),
                row("first → last PNG file on disk (writes)", profile.body(), lastJob.seconds()),
                row(
                    "last PNG file → job returned (records, previews, accounting, shutdown)",
                    profile.tail(),
                    lastJob.seconds()),
                row(
                    "a 1-image job, whole (fixed cost; median over rounds)",
                    fixed,
                    lastJob.seconds()),
                row(
                    "sampler calls (sum over threads / threads)",
                    profile.samplerWall(),
                    lastJob.seconds()),
                row(
                    "bare loop: sampler calls (sum over threads / threads)",
                    lastBare.samplerSeconds() / parallelism,
                    lastJob.seconds()),
                row(
                    "PNG encoding, measured alone (x images / threads)",
                    pngMillis / 1000 * images.size() / parallelism,
                    lastJob.seconds()),
                row(
                    "image file writes, measured alone (x images / threads)",
                    writeMillis / 1000 * images.size() / parallelism,
                    lastJob.seconds())));
    Section.Table batching =
        new Section.Table(
            mixName + ": batches, the job's batcher vs the bare loop's full batches",
            List.of("tier", "images", "job batches", "bare batches"),
            tierBatchRows(lastJob.summary(), images));

    boolean met = ratio >= GOAL;
    List<String> findings = new ArrayList<>();
    findings.add(
        f(
            "%s: the job runs at %.1f img/s against %.1f img/s for the bare sampler loop: %.3f"
                + " of the bare loop (goal ≥ %.2f).",
            mixName, jobMedian, bareMedian, ratio, GOAL));
    findings.add(
        f(
            mixName + ": of the last job's %.2f s, %.2f s pass before the first PNG is written, %.2f s"
                + " between the first and the last PNG, and %.2f s after the last PNG; its"
                + " sampler calls take %.2f s per thread (bare loop: %.2f s).",
            lastJob.seconds(),
            profile.head(),
            profile.body(),
            profile.tail(),
            profile.samplerWall(),
            lastBare.samplerSeconds() / parallelism));
    findings.add(
        f(
            mixName + ": PNG encoding costs %.3f ms and writing the file %.3f ms per image on one thread"
                + " (%.1f%% of a bare image's %.3f ms of sampler time per thread).",
            pngMillis,
            writeMillis,
            100 * (pngMillis + writeMillis) / (lastBare.samplerSeconds() * 1000 / images.size()),
            lastBare.samplerSeconds() * 1000 / images.size()));
    findings.add(
        f(
            mixName + ": a 1-image job takes %.2f s (median): the job's fixed cost. Beyond it, the job makes"
                + " images at %.3f of the bare loop's rate ((images − 1) / (job s − fixed s) ÷"
                + " bare img/s).",
            fixed, marginalRatio));
    if (!met) {
      findings.add(
          f(
              mixName + ": fixed costs (before the first and after the last PNG) are %.2f s of %.2f s: on a"
                  + " job of this size they alone cost %.1f%% of throughput.",
              profile.head() + profile.tail(),
              lastJob.seconds(),
              100 * (profile.head() + profile.tail()) / lastJob.seconds()));
    }

    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("images", images.size());
    raw.put("warm_up_bare_images_per_second", warmRate);
    raw.put("requests", requests.size());
    raw.put("tiers", JobManifests.imagesPerTier(requests));
    raw.put("batch_size", BATCH_SIZE);
    raw.put("parallelism", parallelism);
    raw.put("torch_threads", threads);
    raw.put("bare_images_per_second", bareRates);
    raw.put("job_images_per_second", jobRates);
    raw.put("bare_seconds", bareRuns.stream().map(BareRun::seconds).toList());
    raw.put("job_seconds", jobRuns.stream().map(InProcessJob.Result::seconds).toList());
    raw.put("bare_median", bareMedian);
    raw.put("job_median", jobMedian);
    raw.put("ratio", ratio);
    raw.put("one_image_job_seconds", fixedSeconds);
    raw.put("marginal_ratio", marginalRatio);
    raw.put(
        "profile",
        Map.of(
            "head_seconds", profile.head(),
            "body_seconds", profile.body(),
            "tail_seconds", profile.tail(),
            "sampler_seconds_per_thread", profile.samplerWall(),
            "bare_sampler_seconds_per_thread", lastBare.samplerSeconds() / parallelism,
            "png_ms_per_image", pngMillis,
            "write_ms_per_image", writeMillis,
            "job_batches",
                lastJob.summary().getTiersList().stream().mapToLong(TierAccount::getBatches).sum(),
            "bare_batches", idealBatches));
    return new Section(
        id(),
        "Pipeline efficiency: the job against the bare sampler loop",
        f(
            mixName + ": a mixed manifest of %d images (%d requests of 4–32 images, tiers %s; full mode sizes"
                + " it to about %.0f s of the bare loop at its warm-up rate, within %d–%d images)"
                + " runs as the whole job (GenerateJob.runCli, embedded Flink, --parallelism=%d"
                + " --torchThreads=%d --maxBatchSize=%d: parse, resolve, expand, batch, generate,"
                + " PNG, write, records, previews, accounting) and as the bare loop: the same"
                + " (class, seed, tier) items in full batches of %d per tier, taken from one queue"
                + " by %d threads calling Sampler.sample, no PNG, no writes. Both warmed up on a"
                + " small manifest first (short mode: the bare loop only); then %d round(s) of"
                + " bare, job and a 1-image job (the fixed cost); medians. Images of the first"
                + " round are checked byte-identical (bare pixels → PNG vs the job's files) for the"
                + " first batch of each tier.",
            images.size(),
            requests.size(),
            JobManifests.imagesPerTier(requests).keySet(),
            TARGET_BARE_SECONDS,
            MIN_IMAGES,
            MAX_IMAGES,
            parallelism,
            threads,
            BATCH_SIZE,
            BATCH_SIZE,
            parallelism,
            rounds),
        List.of(runs, where, batching),
        List.of(
            new Section.Goal(
                mixName + ": job img/s ÷ bare loop img/s",
                f("≥ %.2f", GOAL),
                f("%.3f", ratio),
                met)),
        findings,
        raw,
        List.of());
  }

  /**
   * Full-mode manifest size: {@link #TARGET_BARE_SECONDS} of the bare loop at its warm-up rate, at
   * least {@link #MIN_IMAGES} and at most {@link #MAX_IMAGES}, rounded to hundreds.
   */
  static int imagesFor(double bareImagesPerSecond) {
    double wanted = TARGET_BARE_SECONDS * bareImagesPerSecond;
    int n = (int) Math.round(Math.min(MAX_IMAGES, Math.max(MIN_IMAGES, wanted)) / 100) * 100;
    return Math.max(MIN_IMAGES, Math.min(MAX_IMAGES, n));
  }

  /**
   * The two mixes in one section: the cheapest tiers (the worst case, where per-image work outside
   * the sampler weighs most) and the model's presets (what requests mostly ask for).
   */
  private Section combine(Section worst, Section typical) {
    List<Section.Table> tables = new ArrayList<>(worst.tables());
    tables.addAll(typical.tables());
    List<Section.Goal> goals = new ArrayList<>(worst.goals());
    goals.addAll(typical.goals());
    List<String> findings = new ArrayList<>(worst.findings());
    findings.addAll(typical.findings());
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("cheapest", worst.raw());
    raw.put("presets", typical.raw());
    return new Section(
        id(),
        worst.title(),
        "Two tier mixes, each measured the same way. "
            + worst.method()
            + " Then "
            + typical.method(),
        tables,
        goals,
        findings,
        raw,
        List.of());
  }

  /** The model's named presets (draft, standard, premium, …), in manifest order, at most three. */
  static List<Tier> presetTiers(ModelManifest manifest) {
    List<Tier> out = new ArrayList<>();
    for (TierPreset p : manifest.getTiersList()) {
      if (out.size() < 3) {
        out.add(Tier.fromProto(p.getTier()));
      }
    }
    return out;
  }

  /** Up to three cheap tiers the model allows: s1 and s2 at the fewest blocks, s1 at the next. */
  static List<Tier> cheapTiers(ModelConfig config) {
    List<Integer> blocks = config.allowedBlocks();
    List<Tier> out = new ArrayList<>();
    out.add(Tier.of(1, blocks.get(0)));
    out.add(Tier.of(2, blocks.get(0)));
    if (blocks.size() > 1) {
      out.add(Tier.of(1, blocks.get(1)));
    }
    return out;
  }

  private static List<String> row(String part, double seconds, double total) {
    return List.of(part, f("%.2f", seconds), f("%.1f%%", 100 * seconds / total));
  }

  private static List<List<String>> tierBatchRows(RunSummary summary, List<ImageJob> images) {
    Map<String, Long> perTier = new LinkedHashMap<>();
    for (ImageJob j : images) {
      perTier.merge(j.tier().label(), 1L, Long::sum);
    }
    List<List<String>> rows = new ArrayList<>();
    for (TierAccount t : summary.getTiersList()) {
      long n = perTier.getOrDefault(t.getTierLabel(), 0L);
      rows.add(
          List.of(
              t.getTierLabel(),
              Long.toString(t.getImagesGenerated()),
              Long.toString(t.getBatches()),
              Long.toString(JobStats.minimumBatches(n, BATCH_SIZE))));
    }
    return rows;
  }

  /** One bare run: wall seconds and the sum of the sampler calls' own seconds. */
  record BareRun(double seconds, double samplerSeconds) {}

  /** The bare loop: {@code threads} threads take batches from one queue and sample them. */
  static BareRun bare(Sampler sampler, List<List<ImageJob>> batches, int threads) throws Exception {
    ConcurrentLinkedQueue<List<ImageJob>> queue = new ConcurrentLinkedQueue<>(batches);
    AtomicLong samplerNanos = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      long start = System.nanoTime();
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (List<ImageJob> batch = queue.poll(); batch != null; batch = queue.poll()) {
                    SampleBatch result = sampler.sample(items(batch), batch.get(0).tier());
                    samplerNanos.addAndGet(result.stats().wallNanos());
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      return new BareRun((System.nanoTime() - start) / 1e9, samplerNanos.get() / 1e9);
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<SampleItem> items(List<ImageJob> batch) {
    return batch.stream().map(ImageJob::item).toList();
  }

  /**
   * Checks that the bare loop makes the job's images: the first batch of each tier, PNG-encoded,
   * equals the job's files byte for byte.
   */
  static void checkSameImages(Sampler sampler, List<List<ImageJob>> batches, Path output)
      throws IOException {
    Map<Tier, List<ImageJob>> firstPerTier = new LinkedHashMap<>();
    for (List<ImageJob> b : batches) {
      firstPerTier.putIfAbsent(b.get(0).tier(), b);
    }
    for (List<ImageJob> batch : firstPerTier.values()) {
      SampleBatch result = sampler.sample(items(batch), batch.get(0).tier());
      for (int i = 0; i < batch.size(); i++) {
        ImageJob j = batch.get(i);
        GeneratedImage image = result.images().get(i);
        byte[] png =
            PngImages.encode(image.width(), image.height(), image.channels(), image.pixels());
        Path file =
            output.resolve(OutputLayout.imagePath(j.tier().label(), j.requestId(), j.index()));
        if (!Hashes.sha256(png).equals(Hashes.sha256(Files.readAllBytes(file)))) {
          throw new IllegalStateException(
              "The bare loop's image differs from the job's " + file + ": not the same images");
        }
      }
    }
  }

  /** Head, body and tail of a job run from its PNG files' modification times. */
  record Profile(double head, double body, double tail, double samplerWall) {}

  static Profile profile(InProcessJob.Result job, Path output, int parallelism) throws IOException {
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    try (Stream<Path> files = Files.walk(output.resolve("images"))) {
      for (Path p : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".png"))::iterator) {
        long t = Files.getLastModifiedTime(p).toMillis();
        first = Math.min(first, t);
        last = Math.max(last, t);
      }
    }
    double sampler = job.summary().getDeviceSeconds() / parallelism;
    return new Profile(
        (first - job.startMillis()) / 1000.0,
        (last - first) / 1000.0,
        (job.endMillis() - last) / 1000.0,
        sampler);
  }

  /**
   * Milliseconds to PNG-encode one image, on one thread: median of 3 passes over a batch, after
   * {@link #WARM_UP_PASSES} unmeasured passes so the encoder is compiled (the job encodes
   * thousands).
   */
  static double pngMillisPerImage(Sampler sampler, List<ImageJob> batch) {
    SampleBatch result = sampler.sample(items(batch), batch.get(0).tier());
    List<Double> perImage = new ArrayList<>();
    for (int pass = -WARM_UP_PASSES; pass < 3; pass++) {
      long start = System.nanoTime();
      for (int rep = 0; rep < 8; rep++) {
        for (GeneratedImage image : result.images()) {
          PngImages.encode(image.width(), image.height(), image.channels(), image.pixels());
        }
      }
      if (pass >= 0) {
        perImage.add((System.nanoTime() - start) / 1e6 / (8.0 * result.images().size()));
      }
    }
    return JobStats.median(perImage);
  }

  /**
   * Milliseconds to write one image file through the job's object store (temporary file and atomic
   * rename), on one thread: 16 passes over a batch's PNGs into fresh names under {@code dir};
   * median of 3 rounds after {@link #WARM_UP_PASSES} unmeasured ones.
   */
  static double writeMillisPerImage(Sampler sampler, List<ImageJob> batch, Path dir)
      throws IOException {
    SampleBatch result = sampler.sample(items(batch), batch.get(0).tier());
    List<byte[]> pngs = new ArrayList<>();
    for (GeneratedImage image : result.images()) {
      pngs.add(PngImages.encode(image.width(), image.height(), image.channels(), image.pixels()));
    }
    String root = fresh(dir).toAbsolutePath().toString();
    ObjectStore store = ObjectStores.forLocation(root);
    List<Double> perImage = new ArrayList<>();
    for (int round = -WARM_UP_PASSES; round < 3; round++) {
      long start = System.nanoTime();
      for (int pass = 0; pass < 16; pass++) {
        for (int i = 0; i < pngs.size(); i++) {
          String path = OutputLayout.imagePath("t" + (round + WARM_UP_PASSES), "r" + pass, i);
          store.write(OutputLayout.location(root, path), pngs.get(i), "image/png", Map.of());
        }
      }
      if (round >= 0) {
        perImage.add((System.nanoTime() - start) / 1e6 / (16.0 * pngs.size()));
      }
    }
    return JobStats.median(perImage);
  }

  static Path fresh(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    return dir;
  }
}
