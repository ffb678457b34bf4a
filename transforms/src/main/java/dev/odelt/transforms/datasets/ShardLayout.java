package dev.odelt.transforms.datasets;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * Where each image of a dataset goes, as pure functions of the request set (so a rerun, a retry or
 * a failover rewrites identical shards):
 *
 * <ul>
 *   <li>a tier of {@code n} images has {@code ceil(n / shardImages)} shards (at least one);
 *   <li>image {@code (request id, index)} goes to shard {@code hash(request id, index) mod shards}
 *       (SHA-256; about {@code shardImages} per shard, ± its square root);
 *   <li>within a shard, samples are in (request id, index) order; the sample at position {@code p}
 *       of shard {@code s} has the key {@code <tier>_<s, 5 digits>_<p, 7 digits>}, where the tier
 *       label's dots become {@code p} (WebDataset splits member names at the first dot).
 * </ul>
 *
 * <pre>
 * dataset/&lt;tier&gt;/&lt;NNNNN&gt;.&lt;ext&gt;        a shard (tar, parquet, tfrecord)
 * dataset/&lt;tier&gt;/&lt;NNNNN&gt;.&lt;ext&gt;.json   its manifest: size, sha256 and its samples' records
 * dataset/&lt;tier&gt;/index.json             every shard of the tier, features, class names
 * dataset/README.md                       the dataset card
 * </pre>
 */
public final class ShardLayout {

  public static final int DEFAULT_SHARD_IMAGES = 10_000;
  public static final int MIN_SHARD_IMAGES = 1;
  public static final int MAX_SHARD_IMAGES = 1_000_000;

  /** The folder of every dataset file, relative to the output root. */
  public static final String DATASET_DIR = "dataset";

  public static final String CARD_PATH = DATASET_DIR + "/README.md";

  private ShardLayout() {}

  /**
   * @throws IllegalArgumentException when {@code shardImages} is outside [{@value
   *     #MIN_SHARD_IMAGES}, {@value #MAX_SHARD_IMAGES}]
   */
  public static int checkShardImages(long shardImages) {
    if (shardImages < MIN_SHARD_IMAGES || shardImages > MAX_SHARD_IMAGES) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "--shardImages must be in [%d, %d], got %d",
              MIN_SHARD_IMAGES,
              MAX_SHARD_IMAGES,
              shardImages));
    }
    return (int) shardImages;
  }

  /** The number of shards of a tier of {@code images} images. */
  public static int shardCount(long images, int shardImages) {
    checkShardImages(shardImages);
    long shards = Math.max(1, (images + shardImages - 1) / shardImages);
    if (shards > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("Too many shards: " + shards);
    }
    return (int) shards;
  }

  /** The shard of image {@code index} of request {@code requestId} among {@code shards}. */
  public static int shardOf(String requestId, long index, int shards) {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be >= 1, got " + shards);
    }
    byte[] id = requestId.getBytes(StandardCharsets.UTF_8);
    ByteBuffer input = ByteBuffer.allocate(4 + id.length + 8);
    input.putInt(id.length).put(id).putLong(index);
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(input.array());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    return (int) Math.floorMod(ByteBuffer.wrap(digest).getLong(), (long) shards);
  }

  /** The key of the sample at {@code position} of shard {@code shard} of a tier. */
  public static String key(String tierLabel, int shard, int position) {
    return String.format(
        Locale.ROOT, "%s_%05d_%07d", tierLabel.replace('.', 'p'), shard, position);
  }

  /** {@code <NNNNN>.<ext>}. */
  public static String shardName(int shard, DatasetFormat format) {
    return String.format(Locale.ROOT, "%05d.%s", shard, format.extension());
  }

  /** {@code dataset/<tier>/<NNNNN>.<ext>}. */
  public static String shardPath(String tierLabel, int shard, DatasetFormat format) {
    return tierDir(tierLabel) + "/" + shardName(shard, format);
  }

  /** {@code dataset/<tier>/<NNNNN>.<ext>.json}: the shard's manifest. */
  public static String manifestPath(String tierLabel, int shard, DatasetFormat format) {
    return shardPath(tierLabel, shard, format) + ".json";
  }

  /** {@code dataset/<tier>/index.json}. */
  public static String indexPath(String tierLabel) {
    return tierDir(tierLabel) + "/index.json";
  }

  /** {@code dataset/<tier>}. */
  public static String tierDir(String tierLabel) {
    return DATASET_DIR + "/" + tierLabel;
  }
}
