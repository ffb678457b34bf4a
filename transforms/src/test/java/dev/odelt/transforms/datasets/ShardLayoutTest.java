package dev.odelt.transforms.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.ImageRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShardLayoutTest {

  @Test
  void shardCountsCoverEveryImage() {
    assertEquals(1, ShardLayout.shardCount(0, 10_000));
    assertEquals(1, ShardLayout.shardCount(1, 10_000));
    assertEquals(1, ShardLayout.shardCount(10_000, 10_000));
    assertEquals(2, ShardLayout.shardCount(10_001, 10_000));
    assertEquals(1_000_000, ShardLayout.shardCount(1_000_000, 1));
    assertThrows(IllegalArgumentException.class, () -> ShardLayout.checkShardImages(0));
    assertThrows(IllegalArgumentException.class, () -> ShardLayout.checkShardImages(1_000_001));
  }

  @Test
  void imagesSpreadEvenlyAndAlwaysToTheSameShard() {
    int shards = 10;
    int[] counts = new int[shards];
    for (int r = 0; r < 1000; r++) {
      for (int i = 0; i < 10; i++) {
        int s = ShardLayout.shardOf("req." + r, i, shards);
        assertEquals(s, ShardLayout.shardOf("req." + r, i, shards));
        counts[s]++;
      }
    }
    for (int c : counts) {
      assertTrue(c > 850 && c < 1150, "about 1000 per shard: " + java.util.Arrays.toString(counts));
    }
    // Pinned (computed with Python's hashlib: SHA-256 of int32 length, UTF-8 id, int64 index, the
    // first 8 bytes as a signed big-endian long, mod shards): a change of the hash would make
    // --resume regenerate every shard of an existing dataset, so it must be deliberate.
    assertEquals(
        List.of(549, 2, 1),
        List.of(
            ShardLayout.shardOf("a", 0, 1000),
            ShardLayout.shardOf("sevens", 1, 7),
            ShardLayout.shardOf("req.17", 3, 10)));
  }

  @Test
  void keysHaveNoDotAndNamesArePadded() {
    assertEquals("s4-b6-g1p5_00003_0000012", ShardLayout.key("s4-b6-g1.5", 3, 12));
    assertFalse(ShardLayout.key("s8-b4-dopri5-tol0.001", 0, 0).contains("."));
    assertEquals("dataset/s1-b2/00007.tar", ShardLayout.shardPath("s1-b2", 7, DatasetFormat.WEBDATASET));
    assertEquals(
        "dataset/s1-b2/00007.parquet.json",
        ShardLayout.manifestPath("s1-b2", 7, DatasetFormat.PARQUET));
    assertEquals("dataset/s1-b2/index.json", ShardLayout.indexPath("s1-b2"));
  }

  @Test
  void formatsParseAndAnUnknownOneNamesTheFour() {
    assertEquals(DatasetFormat.WEBDATASET, DatasetFormat.parse(" WebDataset "));
    assertFalse(DatasetFormat.PNG.sharded());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DatasetFormat.parse("zip"));
    assertTrue(e.getMessage().contains("png, webdataset, parquet, tfrecord"), e.getMessage());
  }

  @Test
  void everyWriterWritesTheSameBytesForTheSameSamples() throws IOException {
    DatasetFeatures features = DatasetFeatures.of(dev.odelt.proto.v1.ModelManifest.newBuilder()
        .setArchitecture(dev.odelt.proto.v1.Architecture.newBuilder().setNumClasses(3))
        .build());
    for (DatasetFormat format : List.of(DatasetFormat.WEBDATASET, DatasetFormat.PARQUET, DatasetFormat.TFRECORD)) {
      assertArrayEquals(shard(format, features), shard(format, features), format.label());
    }
  }

  private static byte[] shard(DatasetFormat format, DatasetFeatures features) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ShardWriter writer = format.open(out, features);
    for (int i = 0; i < 300; i++) {
      ImageRecord record =
          ImageRecord.newBuilder()
              .setRequestId("r")
              .setIndex(i)
              .setClassId(i % 3)
              .setClassLabel(Integer.toString(i % 3))
              .setTierLabel("s1-b2")
              .setDeviceSeconds(Math.random())
              .build();
      writer.write(new Sample(ShardLayout.key("s1-b2", 0, i), new byte[] {1, 2, (byte) i}, record));
    }
    writer.finish();
    return out.toByteArray();
  }

  @Test
  void tfRecordChecksumIsTensorFlowsMaskedCrc32c() {
    // masked_crc32c("") per TensorFlow's crc32c.Mask: crc32c("") = 0.
    assertEquals(0xa282ead8, TfRecordShardWriter.maskedCrc32c(new byte[0], 0, 0));
    // CRC-32C("123456789") = 0xE3069283 (RFC 3720's check value), masked.
    int crc = 0xE3069283;
    int masked = ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    assertEquals(
        masked,
        TfRecordShardWriter.maskedCrc32c(
            "123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, 9));
  }
}
