package dev.odelt.storage.gcs;

import com.google.cloud.storage.BlobId;
import dev.odelt.storage.Globs;

/**
 * A parsed {@code gs://bucket/object-name} location. The object name may be empty (the whole
 * bucket), a prefix ending in {@code /}, an object name, or a glob; the bucket never holds
 * wildcards.
 *
 * @param bucket the bucket name, never empty
 * @param name the object name or glob inside the bucket, possibly empty
 */
public record GcsLocation(String bucket, String name) {

  static final String PREFIX = "gs://";

  /** Checks that the bucket is a plain, non-empty name. */
  public GcsLocation {
    if (bucket.isEmpty() || bucket.contains("/") || Globs.hasWildcard(bucket)) {
      throw new IllegalArgumentException(
          "Not a usable Cloud Storage bucket name: '" + bucket + "' (wildcards are not allowed)");
    }
  }

  /**
   * Parses {@code gs://bucket[/name]}.
   *
   * @throws IllegalArgumentException when the text is not a {@code gs://} location with a bucket
   */
  public static GcsLocation parse(String location) {
    if (!location.startsWith(PREFIX)) {
      throw new IllegalArgumentException(
          "Not a Cloud Storage location (expected gs://bucket/name): " + location);
    }
    String rest = location.substring(PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      return new GcsLocation(rest, "");
    }
    return new GcsLocation(rest.substring(0, slash), rest.substring(slash + 1));
  }

  /** The object id; only meaningful when {@link #name} names one object. */
  public BlobId blobId() {
    return BlobId.of(bucket, name);
  }

  /**
   * The name as a prefix under which objects live: empty for the bucket root, otherwise the name
   * with exactly one trailing {@code /}.
   */
  public String directoryPrefix() {
    if (name.isEmpty() || name.endsWith("/")) {
      return name;
    }
    return name + "/";
  }

  /** The location of another object name in the same bucket. */
  public GcsLocation withName(String otherName) {
    return new GcsLocation(bucket, otherName);
  }

  @Override
  public String toString() {
    return PREFIX + bucket + "/" + name;
  }
}
