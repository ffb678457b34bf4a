package dev.odelt.transforms.datasets;

import dev.odelt.proto.v1.ImageRecord;

/**
 * One image of a shard: its key, PNG bytes and record (which already names the shard and key).
 *
 * @param key the sample key: no dot, unique in the dataset ({@link ShardLayout#key})
 * @param png the encoded image
 * @param record the image record; {@code hasClassId()} is false for an unconditional model
 */
public record Sample(String key, byte[] png, ImageRecord record) {

  public Sample {
    if (key == null || key.isEmpty() || key.indexOf('.') >= 0 || key.indexOf('/') >= 0) {
      throw new IllegalArgumentException("A sample key must be non-empty without '.' or '/': " + key);
    }
  }

  /** The caption: the prompt the request used, else the class label (empty when neither). */
  public String text() {
    return record.getPrompt().isEmpty() ? record.getClassLabel() : record.getPrompt();
  }
}
