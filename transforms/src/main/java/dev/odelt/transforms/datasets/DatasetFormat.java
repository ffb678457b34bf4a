package dev.odelt.transforms.datasets;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The job's output formats ({@code --format}): the PNG tree ({@code images/<tier>/<request>/<i>.png},
 * one object per image) or dataset shards ({@code dataset/<tier>/<NNNNN>.<ext>}).
 */
public enum DatasetFormat {
  PNG("png", "image/png"),
  WEBDATASET("tar", "application/x-tar"),
  PARQUET("parquet", "application/vnd.apache.parquet"),
  TFRECORD("tfrecord", "application/octet-stream");

  private final String extension;
  private final String contentType;

  DatasetFormat(String extension, String contentType) {
    this.extension = extension;
    this.contentType = contentType;
  }

  /**
   * Parses {@code png}, {@code webdataset}, {@code parquet} or {@code tfrecord} (any case).
   *
   * @throws IllegalArgumentException naming the four
   */
  public static DatasetFormat parse(String text) {
    String value = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    for (DatasetFormat f : values()) {
      if (f.label().equals(value)) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "unknown format '"
            + text
            + "': use one of "
            + Arrays.stream(values()).map(DatasetFormat::label).collect(Collectors.joining(", ")));
  }

  /** The name users write: {@code png}, {@code webdataset}, {@code parquet}, {@code tfrecord}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** True for the shard formats. */
  public boolean sharded() {
    return this != PNG;
  }

  /** The shard file extension ({@code tar}, {@code parquet}, {@code tfrecord}). */
  public String extension() {
    return extension;
  }

  public String contentType() {
    return contentType;
  }

  /** A writer of one shard of this format onto {@code out}. */
  public ShardWriter open(OutputStream out, DatasetFeatures features) throws IOException {
    return switch (this) {
      case WEBDATASET -> new WebDatasetWriter(out, features);
      case PARQUET -> new ParquetShardWriter(out, features);
      case TFRECORD -> new TfRecordShardWriter(out);
      case PNG -> throw new IllegalStateException("The PNG tree has no shards");
    };
  }
}
