package dev.odelt.transforms.datasets;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.ImageRecord;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The image record as stored inside a shard: the record without what varies from run to run (its
 * device seconds, decode seconds, device, and whether it was resumed, recovered or repaired), so
 * that a shard's bytes are a pure function of its samples. The job's own records
 * (records/*.jsonl) keep them.
 */
final class SampleRecords {

  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer()
          .preservingProtoFieldNames()
          .omittingInsignificantWhitespace()
          .sortingMapKeys();

  private SampleRecords() {}

  /** The record without its run-specific fields. */
  static ImageRecord stable(ImageRecord record) {
    return record.toBuilder()
        .clearDeviceSeconds()
        .clearDecodeSeconds()
        .clearDevice()
        .clearResumed()
        .clearRecovered()
        .clearRepaired()
        .build();
  }

  /** {@link #stable} as one line of JSON, UTF-8. */
  static byte[] json(ImageRecord record) {
    try {
      return PRINTER.print(stable(record)).getBytes(StandardCharsets.UTF_8);
    } catch (InvalidProtocolBufferException e) {
      throw new UncheckedIOException("Cannot print an image record as JSON", e);
    }
  }
}
