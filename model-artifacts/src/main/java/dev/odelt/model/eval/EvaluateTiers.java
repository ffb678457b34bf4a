package dev.odelt.model.eval;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.Tier;
import dev.odelt.model.data.DigitSet;
import dev.odelt.model.data.MnistDigits;
import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.SampleBatch;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.Sampler;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.QualityPoint;
import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures the quality and cost of a model's tiers on MNIST digits.
 *
 * <p>For every tier it generates {@code perClass} images of each digit 0..9 with the model's {@link
 * Sampler} and reports: class accuracy of the bundled {@link DigitClassifier}, the Fréchet distance
 * ({@link FrechetDistance}) between classifier features of the generated images and of the 1,000
 * held-out real digits ({@link MnistDigits#heldOut()}), velocity and block evaluations per image,
 * and sampler seconds per image. A reference row "real" does the same for {@code perClass} training
 * digits per class, the floor an FD at this sample size can reach.
 *
 * <p>Image j of digit k has the seed {@link #itemSeed}(seed, k, j) in every tier, so tiers are
 * compared on the same noise. Apart from the timing fields, the outputs are a pure function of
 * (model, tiers, perClass, seed) up to float rounding of the device.
 *
 * <p>Outputs under {@code --out} (a local directory or any {@link ObjectStores} location): {@code
 * report.md} (a table), {@code report.json}, {@code quality-table.json} (the tier rows as a JSON
 * array, the input of {@code ExportModel --quality}), {@code quality.json} (a {@link ModelManifest}
 * holding only {@link QualityPoint}s, proto3 JSON), and PNG grids {@code grid-<tier>.png} and
 * {@code grid-real.png} (rows = digits 0..9).
 *
 * <pre>
 * EvaluateTiers [--model=classpath:/dev/odelt/models/mnist/manifest.json] [--out=eval-report]
 *   [--tiers=s1-b2,s4-b6,s8-b6-heun] [--steps=1,2,4 --blocks=2,4,6 [--solvers=euler,heun]
 *   [--guidances=1,2]] [--perClass=100] [--seed=0] [--batch=50] [--device=auto] [--gridColumns=10]
 *   [--precision=fp32|bf16] [--bootstrap=20]
 * </pre>
 *
 * Without {@code --tiers} or {@code --steps}/{@code --blocks}, the manifest's tier presets are
 * evaluated.
 */
public final class EvaluateTiers {

  private static final Logger LOG = LoggerFactory.getLogger(EvaluateTiers.class);

  /** The label of the real-digit reference row. */
  public static final String REAL = "real";

  private EvaluateTiers() {}

  /**
   * What to evaluate.
   *
   * @param model location of the model package (its manifest.json or directory)
   * @param tiers tiers in report order; empty = the manifest's presets
   * @param perClass images per digit and tier, ≥ 1
   * @param seed base seed of the per-image seeds
   * @param batch images per sampler call, ≥ 1
   * @param device {@code auto}, {@code cpu}, {@code gpu}, {@code gpu:N}
   * @param out output location (directory or prefix)
   * @param gridColumns images per row in the PNG grids, ≥ 1
   * @param precision inference precision; {@code null}: the package's recommendation
   * @param bootstrap resamples for the FD's standard error; 0 computes none
   */
  public record Options(
      String model,
      List<Tier> tiers,
      int perClass,
      long seed,
      int batch,
      String device,
      String out,
      int gridColumns,
      Precision precision,
      int bootstrap) {

    public Options {
      if (perClass < 1 || batch < 1 || gridColumns < 1) {
        throw new IllegalArgumentException("perClass, batch and gridColumns must be >= 1");
      }
      if (bootstrap < 0 || bootstrap == 1) {
        throw new IllegalArgumentException("bootstrap must be 0 (off) or >= 2, got " + bootstrap);
      }
      tiers = List.copyOf(tiers);
    }

    /**
     * Defaults: the shipped model, presets, 100 per class, seed 0, batch 50, auto device, FD
     * standard errors from 20 bootstrap resamples.
     */
    public static Options defaults() {
      return new Options(
          Models.DEFAULT_MODEL, List.of(), 100, 0, 50, "auto", "eval-report", 10, null, 20);
    }

    /** Parses {@code --name=value} arguments over the defaults. */
    public static Options parse(String... args) {
      Options d = defaults();
      String model = d.model;
      int perClass = d.perClass;
      long seed = d.seed;
      int batch = d.batch;
      String device = d.device;
      String out = d.out;
      int gridColumns = d.gridColumns;
      Precision precision = d.precision;
      int bootstrap = d.bootstrap;
      List<Tier> labels = new ArrayList<>();
      List<Integer> steps = List.of();
      List<Integer> blocks = List.of();
      List<Solver> solvers = List.of(Solver.EULER);
      List<Float> guidances = List.of(Tier.DEFAULT_GUIDANCE);
      for (String arg : args) {
        String[] kv = arg.split("=", 2);
        if (kv.length != 2 || !kv[0].startsWith("--")) {
          throw new IllegalArgumentException("expected --name=value, got '" + arg + "'");
        }
        String v = kv[1].trim();
        switch (kv[0]) {
          case "--model" -> model = v;
          case "--out" -> out = v;
          case "--perClass" -> perClass = Integer.parseInt(v);
          case "--seed" -> seed = Long.parseLong(v);
          case "--batch" -> batch = Integer.parseInt(v);
          case "--device" -> device = v;
          case "--gridColumns" -> gridColumns = Integer.parseInt(v);
          case "--precision" -> precision = Precision.parse(v);
          case "--bootstrap" -> bootstrap = Integer.parseInt(v);
          case "--tiers" -> labels.addAll(TierGrid.parseList(v));
          case "--steps" -> steps = TierGrid.parseInts(v);
          case "--blocks" -> blocks = TierGrid.parseInts(v);
          case "--solvers" -> solvers = TierGrid.parseSolvers(v);
          case "--guidances" -> guidances = TierGrid.parseFloats(v);
          default -> throw new IllegalArgumentException("unknown option " + kv[0]);
        }
      }
      if (steps.isEmpty() != blocks.isEmpty()) {
        throw new IllegalArgumentException("--steps and --blocks go together");
      }
      LinkedHashSet<Tier> tiers = new LinkedHashSet<>(labels);
      tiers.addAll(TierGrid.crossProduct(steps, blocks, solvers, guidances));
      return new Options(
          model,
          List.copyOf(tiers),
          perClass,
          seed,
          batch,
          device,
          out,
          gridColumns,
          precision,
          bootstrap);
    }
  }

  /**
   * Quality and cost of one tier (or of the real digits, with zero cost).
   *
   * @param label the tier label, or {@value #REAL}
   * @param tier the tier; null for the real row
   * @param images images evaluated
   * @param classAccuracy fraction classified as the requested digit
   * @param classAccuracyStandardError its binomial standard error, √(p(1−p)/n)
   * @param perClassAccuracy (10) the same per digit
   * @param frechetDistance FD of classifier features to the held-out digits
   * @param frechetDistanceStandardError its bootstrap standard error ({@link
   *     FrechetDistance#bootstrapStandardError}; 0 when not computed)
   * @param velocityEvaluationsPerImage mean velocity evaluations per image
   * @param blockEvaluationsPerImage mean transformer-block evaluations per image
   * @param secondsPerImage sampler wall time per image (not deterministic)
   */
  public record TierResult(
      String label,
      Tier tier,
      int images,
      double classAccuracy,
      double classAccuracyStandardError,
      List<Double> perClassAccuracy,
      double frechetDistance,
      double frechetDistanceStandardError,
      double velocityEvaluationsPerImage,
      double blockEvaluationsPerImage,
      double secondsPerImage) {

    /** This result as a manifest quality point; only for tiers. */
    public QualityPoint toQualityPoint() {
      if (tier == null) {
        throw new IllegalStateException("the real row has no tier");
      }
      return QualityPoint.newBuilder()
          .setTier(tier.toProto())
          .setClassAccuracy(classAccuracy)
          .setFrechetDistance(frechetDistance)
          .setBlockEvalsPerImage(blockEvaluationsPerImage)
          .build();
    }
  }

  /**
   * The whole evaluation.
   *
   * @param model where the package was read from
   * @param modelName manifest name and version
   * @param device the device that ran the sampler
   * @param perClass images per digit
   * @param seed base seed
   * @param real the real-digit reference row
   * @param tiers one row per tier, in the requested order
   */
  public record Report(
      String model,
      String modelName,
      String device,
      int perClass,
      long seed,
      TierResult real,
      List<TierResult> tiers) {

    public Report {
      tiers = List.copyOf(tiers);
    }

    /** Quality points for the manifest, one per tier. */
    public List<QualityPoint> qualityPoints() {
      return tiers.stream().map(TierResult::toQualityPoint).toList();
    }
  }

  public static void main(String[] args) throws IOException {
    Report report = run(Options.parse(args));
    LOG.info("Evaluated {} tiers of {}", report.tiers().size(), report.modelName());
  }

  /**
   * Evaluates the tiers and writes the outputs.
   *
   * @throws IllegalArgumentException for a tier the model cannot run or a model without digit
   *     classes 0..9
   * @throws IOException when the model cannot be read or the outputs cannot be written
   */
  public static Report run(Options options) throws IOException {
    ObjectStore store = ObjectStores.forLocation(options.out());
    MnistDigits digits = MnistDigits.load();
    try (DigitClassifier classifier = DigitClassifier.loadBundled();
        LoadedModel model = Models.load(options.model(), options.device(), options.precision())) {
      ModelManifest manifest = model.manifest();
      int[] classOfDigit = classOfDigit(manifest, model.config().numClasses());
      List<Tier> tiers = options.tiers().isEmpty() ? presets(manifest) : options.tiers();
      for (Tier tier : tiers) {
        if (!model.config().isAllowedBlocks(tier.blocks())) {
          throw new IllegalArgumentException(
              "tier "
                  + tier.label()
                  + " runs "
                  + tier.blocks()
                  + " blocks; this model allows "
                  + model.config().allowedBlocks());
        }
      }
      FrechetDistance.Gaussian reference = HeldOutReference.GAUSSIAN;

      int[] wanted = wantedDigits(options.perClass());
      DigitSet realSample = realSample(digits.train(), options.perClass());
      DigitClassifier.Classification realOut =
          classifier.classify(
              realSample.batchAsModelInput(
                  IntStream.range(0, realSample.count()).toArray(), DigitClassifier.INPUT_SIZE),
              realSample.count());
      double realAccuracy = realOut.accuracy(realSample.labels());
      TierResult real =
          new TierResult(
              REAL,
              null,
              realSample.count(),
              realAccuracy,
              binomialStandardError(realAccuracy, realSample.count()),
              perClass(realOut.predicted(), realSample.labels()),
              FrechetDistance.between(FrechetDistance.fit(realOut.featureRows()), reference),
              fdStandardError(realOut.featureRows(), reference, options),
              0,
              0,
              0);
      writePng(store, options.out(), "grid-real.png", realGrid(realSample, options));

      List<TierResult> results = new ArrayList<>();
      for (Tier tier : tiers) {
        List<SampleItem> items = new ArrayList<>(wanted.length);
        for (int i = 0; i < wanted.length; i++) {
          int digit = wanted[i];
          int j = i % options.perClass();
          items.add(new SampleItem(classOfDigit[digit], itemSeed(options.seed(), digit, j)));
        }
        List<GeneratedImage> images = new ArrayList<>(items.size());
        long velocityEvaluations = 0;
        long blockEvaluations = 0;
        long nanos = 0;
        for (int start = 0; start < items.size(); start += options.batch()) {
          List<SampleItem> chunk =
              items.subList(start, Math.min(items.size(), start + options.batch()));
          SampleBatch batch = model.sampler().sample(chunk, tier);
          images.addAll(batch.images());
          velocityEvaluations += batch.stats().velocityEvaluations();
          blockEvaluations += batch.stats().blockEvaluations();
          nanos += batch.stats().wallNanos();
        }
        DigitClassifier.Classification out =
            classifier.classify(ClassifierInputs.of(images), images.size());
        double accuracy = out.accuracy(wanted);
        TierResult result =
            new TierResult(
                tier.label(),
                tier,
                images.size(),
                accuracy,
                binomialStandardError(accuracy, images.size()),
                perClass(out.predicted(), wanted),
                FrechetDistance.between(FrechetDistance.fit(out.featureRows()), reference),
                fdStandardError(out.featureRows(), reference, options),
                velocityEvaluations / (double) images.size(),
                blockEvaluations / (double) images.size(),
                nanos / 1e9 / images.size());
        LOG.info(
            "{}: accuracy {}, FD {}, {} block evals/image, {} s/image",
            result.label(),
            String.format(Locale.ROOT, "%.3f", result.classAccuracy()),
            String.format(Locale.ROOT, "%.2f", result.frechetDistance()),
            result.blockEvaluationsPerImage(),
            String.format(Locale.ROOT, "%.4f", result.secondsPerImage()));
        results.add(result);
        writePng(
            store,
            options.out(),
            "grid-" + tier.label() + ".png",
            tierGrid(images, options.perClass(), options.gridColumns()));
      }
      Report report =
          new Report(
              model.location(),
              manifest.getName() + " " + manifest.getVersion(),
              model.device().toString(),
              options.perClass(),
              options.seed(),
              real,
              results);
      write(store, options.out(), "report.json", toJson(report), "application/json");
      write(store, options.out(), "report.md", toMarkdown(report), "text/markdown");
      write(store, options.out(), "quality-table.json", toQualityTable(report), "application/json");
      write(
          store,
          options.out(),
          "quality.json",
          JsonFormat.printer()
                  .print(ModelManifest.newBuilder().addAllQuality(report.qualityPoints()))
              + "\n",
          "application/json");
      return report;
    }
  }

  /** √(p(1−p)/n): the standard error of an accuracy p measured on n images. */
  static double binomialStandardError(double p, int n) {
    return Math.sqrt(p * (1 - p) / n);
  }

  /** The FD's bootstrap standard error, from a fixed seed (0 when bootstrapping is off). */
  private static double fdStandardError(
      double[][] features, FrechetDistance.Gaussian reference, Options options) {
    return options.bootstrap() < 2
        ? 0
        : FrechetDistance.bootstrapStandardError(
            features, reference, options.bootstrap(), options.seed());
  }

  /** Gaussian of the bundled classifier's features of the held-out digits, computed once. */
  private static final class HeldOutReference {
    static final FrechetDistance.Gaussian GAUSSIAN = compute();

    private static FrechetDistance.Gaussian compute() {
      DigitSet heldOut = MnistDigits.load().heldOut();
      int[] all = IntStream.range(0, heldOut.count()).toArray();
      try (DigitClassifier classifier = DigitClassifier.loadBundled()) {
        return FrechetDistance.fit(
            classifier
                .classify(heldOut.batchAsModelInput(all, DigitClassifier.INPUT_SIZE), all.length)
                .featureRows());
      }
    }
  }

  /**
   * The seed of image {@code index} of {@code digit}: SplitMix64 of the three, so seeds of
   * neighbouring images and of different base seeds are unrelated.
   */
  public static long itemSeed(long seed, int digit, int index) {
    long z = seed * 0x9E3779B97F4A7C15L + ((long) digit << 32 | (index & 0xFFFFFFFFL));
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Model class id of each digit 0..9, from the manifest's class labels. */
  static int[] classOfDigit(ModelManifest manifest, int numClasses) {
    int[] classOf = new int[MnistDigits.CLASSES];
    Arrays.fill(classOf, -1);
    if (manifest.getClassesCount() == 0) {
      if (numClasses < MnistDigits.CLASSES) {
        throw new IllegalArgumentException(
            "model has " + numClasses + " classes; digit evaluation needs 10");
      }
      return IntStream.range(0, MnistDigits.CLASSES).toArray();
    }
    for (ClassLabel label : manifest.getClassesList()) {
      String text = label.getLabel().trim();
      if (text.length() == 1 && Character.isDigit(text.charAt(0))) {
        classOf[text.charAt(0) - '0'] = label.getId();
      }
    }
    for (int d = 0; d < classOf.length; d++) {
      if (classOf[d] < 0) {
        throw new IllegalArgumentException("model has no class labelled '" + d + "'");
      }
    }
    return classOf;
  }

  /** The manifest's preset tiers in order, without repeats. */
  static List<Tier> presets(ModelManifest manifest) {
    List<Tier> tiers = new ArrayList<>();
    for (TierPreset preset : manifest.getTiersList()) {
      Tier tier = Tier.fromProto(preset.getTier());
      if (!tiers.contains(tier)) {
        tiers.add(tier);
      }
    }
    if (tiers.isEmpty()) {
      throw new IllegalArgumentException("no tiers given and the manifest has no presets");
    }
    return tiers;
  }

  /** Digit of each generated image: perClass of 0, then of 1, … */
  private static int[] wantedDigits(int perClass) {
    int[] digits = new int[MnistDigits.CLASSES * perClass];
    for (int i = 0; i < digits.length; i++) {
      digits[i] = i / perClass;
    }
    return digits;
  }

  /** The first perClass training digits of each class (fewer if a class has fewer). */
  private static DigitSet realSample(DigitSet train, int perClass) {
    List<Integer> picked = new ArrayList<>();
    for (int d = 0; d < MnistDigits.CLASSES; d++) {
      int[] ofClass = train.indicesOf(d);
      for (int j = 0; j < Math.min(perClass, ofClass.length); j++) {
        picked.add(ofClass[j]);
      }
    }
    return train.select(picked.stream().mapToInt(Integer::intValue).toArray());
  }

  private static List<Double> perClass(int[] predicted, int[] labels) {
    int[] right = new int[MnistDigits.CLASSES];
    int[] total = new int[MnistDigits.CLASSES];
    for (int i = 0; i < labels.length; i++) {
      total[labels[i]]++;
      right[labels[i]] += predicted[i] == labels[i] ? 1 : 0;
    }
    List<Double> out = new ArrayList<>();
    for (int d = 0; d < MnistDigits.CLASSES; d++) {
      out.add(total[d] == 0 ? Double.NaN : right[d] / (double) total[d]);
    }
    return out;
  }

  /** Rows = digits, first {@code columns} images of each; tiles scaled up to about 64 px. */
  private static BufferedImage tierGrid(List<GeneratedImage> images, int perClass, int columns) {
    GeneratedImage first = images.get(0);
    int cols = Math.min(columns, perClass);
    int h = first.height();
    int w = first.width();
    int scale = Math.max(1, 64 / Math.max(h, w));
    boolean rgb = first.channels() >= 3;
    Grid grid = new Grid(MnistDigits.CLASSES, cols, h * scale, w * scale, rgb);
    for (int d = 0; d < MnistDigits.CLASSES; d++) {
      for (int j = 0; j < cols; j++) {
        GeneratedImage image = images.get(d * perClass + j);
        for (int r = 0; r < h * scale; r++) {
          for (int c = 0; c < w * scale; c++) {
            int y = r / scale;
            int x = c / scale;
            int value;
            if (rgb) {
              value = image.pixel(y, x, 0) << 16 | image.pixel(y, x, 1) << 8 | image.pixel(y, x, 2);
            } else {
              int g = image.pixel(y, x, 0);
              value = g << 16 | g << 8 | g;
            }
            grid.set(d, j, r, c, value);
          }
        }
      }
    }
    return grid.image;
  }

  private static BufferedImage realGrid(DigitSet real, Options options) {
    int cols = Math.min(options.gridColumns(), options.perClass());
    int scale = 2;
    Grid grid =
        new Grid(MnistDigits.CLASSES, cols, real.height() * scale, real.width() * scale, false);
    for (int d = 0; d < MnistDigits.CLASSES; d++) {
      int[] ofClass = real.indicesOf(d);
      for (int j = 0; j < Math.min(cols, ofClass.length); j++) {
        for (int r = 0; r < real.height() * scale; r++) {
          for (int c = 0; c < real.width() * scale; c++) {
            int g = real.pixel(ofClass[j], r / scale, c / scale);
            grid.set(d, j, r, c, g << 16 | g << 8 | g);
          }
        }
      }
    }
    return grid.image;
  }

  /** A grid of equal tiles separated by 2-pixel mid-grey gaps. */
  private static final class Grid {
    private static final int GAP = 2;
    private final BufferedImage image;
    private final int tileH;
    private final int tileW;

    Grid(int rows, int cols, int tileH, int tileW, boolean rgb) {
      this.tileH = tileH;
      this.tileW = tileW;
      this.image =
          new BufferedImage(
              cols * (tileW + GAP) + GAP,
              rows * (tileH + GAP) + GAP,
              rgb ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 0; y < image.getHeight(); y++) {
        for (int x = 0; x < image.getWidth(); x++) {
          image.setRGB(x, y, 0x808080);
        }
      }
    }

    void set(int row, int col, int r, int c, int rgb) {
      image.setRGB(GAP + col * (tileW + GAP) + c, GAP + row * (tileH + GAP) + r, rgb);
    }
  }

  private static void writePng(ObjectStore store, String out, String name, BufferedImage image)
      throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    if (!ImageIO.write(image, "png", bytes)) {
      throw new IllegalStateException("no PNG writer in this JVM");
    }
    store.write(ObjectStore.resolve(out, name), bytes.toByteArray(), "image/png", Map.of());
  }

  private static void write(
      ObjectStore store, String out, String name, String text, String contentType)
      throws IOException {
    store.write(
        ObjectStore.resolve(out, name),
        text.getBytes(StandardCharsets.UTF_8),
        contentType,
        Map.of());
  }

  static String toJson(Report report) {
    JsonObject root = new JsonObject();
    root.addProperty("model", report.model());
    root.addProperty("modelName", report.modelName());
    root.addProperty("device", report.device());
    root.addProperty("perClass", report.perClass());
    root.addProperty("seed", report.seed());
    root.addProperty("classifier", DigitClassifier.RESOURCE);
    root.addProperty("reference", "MNIST held-out split, 1000 digits");
    root.add("real", toJson(report.real()));
    JsonArray tiers = new JsonArray();
    for (TierResult result : report.tiers()) {
      tiers.add(toJson(result));
    }
    root.add("tiers", tiers);
    return gson().toJson(root) + "\n";
  }

  /**
   * The tier rows as a JSON array of objects with {@code tier} (the label), {@code classAccuracy},
   * {@code frechetDistance}, {@code blockEvaluationsPerImage} and the other metrics: the input of
   * {@code dev.odelt.model.train.ExportModel --quality}.
   */
  static String toQualityTable(Report report) {
    JsonArray rows = new JsonArray();
    for (TierResult result : report.tiers()) {
      rows.add(toJson(result));
    }
    return gson().toJson(rows) + "\n";
  }

  private static Gson gson() {
    return new GsonBuilder()
        .setPrettyPrinting()
        .disableHtmlEscaping()
        .serializeSpecialFloatingPointValues()
        .create();
  }

  private static JsonObject toJson(TierResult result) {
    JsonObject o = new JsonObject();
    o.addProperty("label", result.label());
    if (result.tier() != null) {
      Tier tier = result.tier();
      o.addProperty("tier", tier.label());
      o.addProperty("steps", tier.steps());
      o.addProperty("blocks", tier.blocks());
      o.addProperty("solver", tier.solver().name().toLowerCase(Locale.ROOT));
      o.addProperty("guidance", tier.guidance());
      if (tier.solver() == Solver.DOPRI5) {
        o.addProperty("tolerance", tier.tolerance());
      }
    }
    o.addProperty("images", result.images());
    o.addProperty("classAccuracy", result.classAccuracy());
    o.addProperty("classAccuracyStandardError", result.classAccuracyStandardError());
    JsonArray perClass = new JsonArray();
    result.perClassAccuracy().forEach(perClass::add);
    o.add("perClassAccuracy", perClass);
    o.addProperty("frechetDistance", result.frechetDistance());
    o.addProperty("frechetDistanceStandardError", result.frechetDistanceStandardError());
    o.addProperty("velocityEvaluationsPerImage", result.velocityEvaluationsPerImage());
    o.addProperty("blockEvaluationsPerImage", result.blockEvaluationsPerImage());
    o.addProperty("secondsPerImage", result.secondsPerImage());
    return o;
  }

  static String toMarkdown(Report report) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Tier evaluation: ").append(report.modelName()).append("\n\n");
    sb.append("Model `")
        .append(report.model())
        .append("` on ")
        .append(report.device())
        .append("; ")
        .append(report.perClass())
        .append(" images per digit, seed ")
        .append(report.seed())
        .append(". Accuracy: the bundled MNIST classifier's; FD: Fréchet distance of its ")
        .append(DigitClassifier.FEATURES)
        .append("-d features to the 1000 held-out digits (row `real`: ")
        .append(report.real().images())
        .append(" training digits, the floor at this sample size). ± is one standard error:")
        .append(" binomial for accuracy, bootstrap over the tier's images for FD.\n\n");
    sb.append(
        "| tier | class accuracy | FD | velocity evals / image | block evals / image | s / image"
            + " |\n");
    sb.append("|---|---:|---:|---:|---:|---:|\n");
    TierResult real = report.real();
    sb.append(
        String.format(
            Locale.ROOT,
            "| %s | %.3f ± %.3f | %.2f ± %.2f | – | – | – |\n",
            real.label(),
            real.classAccuracy(),
            real.classAccuracyStandardError(),
            real.frechetDistance(),
            real.frechetDistanceStandardError()));
    for (TierResult r : report.tiers()) {
      sb.append(
          String.format(
              Locale.ROOT,
              "| %s | %.3f ± %.3f | %.2f ± %.2f | %.1f | %.1f | %.4f |\n",
              r.label(),
              r.classAccuracy(),
              r.classAccuracyStandardError(),
              r.frechetDistance(),
              r.frechetDistanceStandardError(),
              r.velocityEvaluationsPerImage(),
              r.blockEvaluationsPerImage(),
              r.secondsPerImage()));
    }
    return sb.toString();
  }

  /** Parses proto3 JSON written to {@code quality.json} back into quality points. */
  public static List<QualityPoint> readQualityPoints(String json)
      throws InvalidProtocolBufferException {
    ModelManifest.Builder b = ModelManifest.newBuilder();
    JsonFormat.parser().merge(json, b);
    return b.getQualityList();
  }
}
