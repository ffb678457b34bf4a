package dev.odelt.transforms.io;

import dev.odelt.storage.ObjectStore;

/**
 * Where the job writes, relative to {@code --output}. Every name is a pure function of the request
 * (and of the record shard), so a rerun or a retry overwrites the same objects.
 *
 * <pre>
 * images/&lt;tier&gt;/&lt;request_id&gt;/&lt;index&gt;.png
 * records/records-&lt;shard&gt;.jsonl      one line per image
 * accounting/tiers.json, tiers.csv      per tier
 * accounting/requests-&lt;shard&gt;.jsonl  per request
 * errors/dead-letters-&lt;shard&gt;.jsonl   rejected input
 * previews/&lt;tier&gt;.png                 contact sheet of the first images of a tier
 * run.json                              the run summary
 * runs/&lt;started&gt;.json                 every run's summary (history)
 * lease.json                            held by the running job (one per output)
 * </pre>
 *
 * {@link #location} refuses any relative name that could leave the output root.
 */
public final class OutputLayout {

  public static final String TIERS_JSON = "accounting/tiers.json";
  public static final String TIERS_CSV = "accounting/tiers.csv";

  /** Shards {@code accounting/requests-<shard>.jsonl} ({@link #requestsPath}). */
  public static final String REQUESTS_PREFIX = "accounting/requests";

  /** Shards {@code errors/dead-letters-<shard>.jsonl} ({@link #deadLettersPath}). */
  public static final String DEAD_LETTERS_PREFIX = "errors/dead-letters";

  /** A glob over every per-request accounting shard. */
  public static final String REQUESTS_JSONL = REQUESTS_PREFIX + "-*.jsonl";

  /** A glob over every dead-letter shard. */
  public static final String DEAD_LETTERS_JSONL = DEAD_LETTERS_PREFIX + "-*.jsonl";

  public static final String RUN_JSON = "run.json";

  private OutputLayout() {}

  /** {@code images/<tier>/<request_id>/<index>.png}. */
  public static String imagePath(String tierLabel, String requestId, long index) {
    return "images/" + tierLabel + "/" + requestId + "/" + index + ".png";
  }

  /** {@code records/records-<shard, 5 digits>.jsonl}. */
  public static String recordsPath(int shard) {
    return String.format("records/records-%05d.jsonl", shard);
  }

  /** {@code accounting/requests-<shard, 5 digits>.jsonl}. */
  public static String requestsPath(int shard) {
    return String.format("%s-%05d.jsonl", REQUESTS_PREFIX, shard);
  }

  /** {@code errors/dead-letters-<shard, 5 digits>.jsonl}. */
  public static String deadLettersPath(int shard) {
    return String.format("%s-%05d.jsonl", DEAD_LETTERS_PREFIX, shard);
  }

  /** {@code previews/<tier>.png}. */
  public static String previewPath(String tierLabel) {
    return "previews/" + tierLabel + ".png";
  }

  /**
   * {@code progress/<run>}: the folder of the workers' live progress snapshots ({@link
   * dev.odelt.transforms.accounting.Progress#publishTo}) of the run started at {@code started}
   * (ISO-8601, as in {@code run.json}; each {@code :} becomes {@code -}). Display data only, not
   * part of the run's results: it may be deleted once the run ended.
   */
  public static String progressPath(String started) {
    if (started == null || started.isEmpty()) {
      throw new IllegalArgumentException("started must not be empty");
    }
    return "progress/" + started.replace(':', '-');
  }

  /** The folder of the runs' history: one {@code run.json} copy per run ({@link #runPath}). */
  public static final String RUNS_PREFIX = "runs/";

  /**
   * {@code runs/<started>.json}: the {@code run.json} of the run started at {@code started}
   * (ISO-8601; each {@code :} becomes {@code -}), kept when later runs replace {@code run.json}.
   */
  public static String runPath(String started) {
    if (started == null || started.isEmpty()) {
      throw new IllegalArgumentException("started must not be empty");
    }
    return RUNS_PREFIX + started.replace(':', '-') + ".json";
  }

  /**
   * The location of a relative name under the output root.
   *
   * @throws IllegalArgumentException when the name is absolute, has an empty, {@code .} or {@code
   *     ..} segment, a backslash, a colon or a control character
   */
  public static String location(String root, String relative) {
    if (relative.isEmpty() || relative.startsWith("/")) {
      throw new IllegalArgumentException("Not a relative output name: '" + relative + "'");
    }
    for (String segment : relative.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException("Output name would leave --output: '" + relative + "'");
      }
    }
    if (relative.indexOf('\\') >= 0
        || relative.indexOf(':') >= 0
        || relative.codePoints().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException("Unsafe character in output name: '" + relative + "'");
    }
    return ObjectStore.resolve(root, relative);
  }
}
