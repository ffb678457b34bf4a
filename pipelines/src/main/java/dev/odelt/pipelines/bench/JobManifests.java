package dev.odelt.pipelines.bench;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.Tier;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.transforms.requests.Seeds;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Request manifests for the job-level benchmarks, and the image tasks the job makes of them.
 *
 * <p>Generation is deterministic: the same seed and arguments give the same requests and the same
 * JSONL bytes. Every request names its class, image count, seed and tier explicitly, so the bare
 * sampler loop can derive the job's tasks the way {@code ExpandRequests} does: image {@code i} of a
 * request has seed {@link Seeds#forImage}(request seed, i).
 */
final class JobManifests {

  private JobManifests() {}

  /**
   * One request of a benchmark manifest.
   *
   * @param id request id, unique in a manifest
   * @param classId class of every image
   * @param images number of images
   * @param seed the request's base seed
   * @param tier a preset name of the model ({@code draft}) or an explicit tier
   */
  record Request(String id, int classId, int images, long seed, TierChoice tier) {}

  /** A tier as a request names it: a model preset, or explicit steps and blocks. */
  record TierChoice(String preset, Tier explicit) {

    static TierChoice preset(String name) {
      return new TierChoice(name, null);
    }

    static TierChoice of(Tier tier) {
      return new TierChoice(null, tier);
    }

    /** The name used in tables: the preset name or the tier label. */
    String name() {
      return preset != null ? preset : explicit.label();
    }
  }

  /** One image the job makes: its tier, class and per-image seed, in the job's batch order. */
  record ImageJob(Tier tier, String requestId, long index, SampleItem item) {}

  /**
   * Requests of {@code minImages..maxImages} images each (uniform), over {@code tiers} drawn with
   * the given weights, until {@code totalImages} images are planned (the last request is cut to
   * fit). Classes are uniform over {@code numClasses}; seeds come from the generator.
   */
  static List<Request> mixed(
      long seed,
      int totalImages,
      Map<TierChoice, Double> tiers,
      int minImages,
      int maxImages,
      int numClasses) {
    if (totalImages < 1 || minImages < 1 || maxImages < minImages || tiers.isEmpty()) {
      throw new IllegalArgumentException(
          "need totalImages >= 1, 1 <= minImages <= maxImages and at least one tier");
    }
    List<TierChoice> choices = new ArrayList<>(tiers.keySet());
    double[] cumulative = new double[choices.size()];
    double sum = 0;
    for (int i = 0; i < choices.size(); i++) {
      double w = tiers.get(choices.get(i));
      if (!(w > 0)) {
        throw new IllegalArgumentException("tier weights must be > 0, got " + w);
      }
      sum += w;
      cumulative[i] = sum;
    }
    SplittableRandom random = new SplittableRandom(seed);
    List<Request> out = new ArrayList<>();
    int planned = 0;
    while (planned < totalImages) {
      int n = Math.min(random.nextInt(minImages, maxImages + 1), totalImages - planned);
      double u = random.nextDouble() * sum;
      int pick = 0;
      while (pick < choices.size() - 1 && u >= cumulative[pick]) {
        pick++;
      }
      out.add(
          new Request(
              String.format(Locale.ROOT, "req-%06d", out.size()),
              random.nextInt(numClasses),
              n,
              random.nextLong() & Long.MAX_VALUE,
              choices.get(pick)));
      planned += n;
    }
    return List.copyOf(out);
  }

  /** The JSONL manifest of the requests, one request per line. */
  static String jsonl(List<Request> requests) {
    StringBuilder b = new StringBuilder();
    for (Request r : requests) {
      b.append(
          String.format(
              Locale.ROOT,
              "{\"request_id\":\"%s\",\"class_id\":%d,\"num_images\":%d,\"seed\":%d,",
              r.id(),
              r.classId(),
              r.images(),
              r.seed()));
      if (r.tier().preset() != null) {
        b.append("\"tier_name\":\"").append(r.tier().preset()).append("\"}\n");
      } else {
        // The whole tier (solver, guidance, tolerance too), as proto3 JSON on one line.
        try {
          b.append("\"tier\":")
              .append(
                  JsonFormat.printer()
                      .omittingInsignificantWhitespace()
                      .print(r.tier().explicit().toProto()))
              .append("}\n");
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("A tier that cannot be printed: " + r.tier(), e);
        }
      }
    }
    return b.toString();
  }

  /** Writes the JSONL manifest to {@code file} (parents created) and returns the file. */
  static Path write(Path file, List<Request> requests) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, jsonl(requests), StandardCharsets.UTF_8);
    return file;
  }

  /**
   * The images the job makes of requests with explicit tiers, as the job derives them: index {@code
   * i} of a request has seed {@link Seeds#forImage}(seed, i); sorted by (request id, index) like a
   * batch of {@code GenerateImages}.
   */
  static List<ImageJob> expand(List<Request> requests) {
    List<ImageJob> out = new ArrayList<>();
    for (Request r : requests) {
      if (r.tier().explicit() == null) {
        throw new IllegalArgumentException("request " + r.id() + " names a preset, not a tier");
      }
      for (long i = 0; i < r.images(); i++) {
        out.add(
            new ImageJob(
                r.tier().explicit(),
                r.id(),
                i,
                new SampleItem(r.classId(), Seeds.forImage(r.seed(), i))));
      }
    }
    out.sort(Comparator.comparing(ImageJob::requestId).thenComparingLong(ImageJob::index));
    return List.copyOf(out);
  }

  /**
   * Full batches of at most {@code maxBatchSize} images per tier, in tier order of first
   * appearance: what an ideal batcher makes ({@code ceil(n / max)} batches per tier).
   */
  static List<List<ImageJob>> batches(List<ImageJob> images, int maxBatchSize) {
    Map<Tier, List<ImageJob>> byTier = new LinkedHashMap<>();
    for (ImageJob j : images) {
      byTier.computeIfAbsent(j.tier(), t -> new ArrayList<>()).add(j);
    }
    List<List<ImageJob>> out = new ArrayList<>();
    for (List<ImageJob> tier : byTier.values()) {
      for (int from = 0; from < tier.size(); from += maxBatchSize) {
        out.add(List.copyOf(tier.subList(from, Math.min(tier.size(), from + maxBatchSize))));
      }
    }
    return out;
  }

  /** Images per tier name. */
  static Map<String, Long> imagesPerTier(List<Request> requests) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (Request r : requests) {
      out.merge(r.tier().name(), (long) r.images(), Long::sum);
    }
    return out;
  }
}
