package dev.odelt.transforms.datasets;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import dev.odelt.proto.v1.BytesList;
import dev.odelt.proto.v1.Example;
import dev.odelt.proto.v1.Feature;
import dev.odelt.proto.v1.Features;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.Int64List;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * A TFRecord shard: one {@code tf.train.Example} per image in TFRecord framing (as Beam's
 * TFRecordIO and TensorFlow write it: {@code uint64 length}, {@code uint32 masked_crc32c(length)},
 * {@code data}, {@code uint32 masked_crc32c(data)}, little-endian). Features use the TFDS/ImageNet
 * names {@code image/encoded} (PNG), {@code image/format} ({@code png}), {@code image/class/label}
 * (int64; absent for an unconditional model), {@code image/class/text}, {@code image/height},
 * {@code image/width}, {@code image/channels}, plus {@code key}, {@code request_id}, {@code index},
 * {@code seed} and {@code tier}. Map entries are serialised in key order (deterministic bytes).
 */
final class TfRecordShardWriter implements ShardWriter {

  private static final int MASK_DELTA = 0xa282ead8;

  private final OutputStream out;
  private final ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);

  TfRecordShardWriter(OutputStream out) {
    this.out = out;
  }

  /** The Example of a sample. */
  static Example example(Sample sample) {
    ImageRecord r = sample.record();
    Features.Builder f = Features.newBuilder();
    f.putFeature("image/encoded", bytes(ByteString.copyFrom(sample.png())));
    f.putFeature("image/format", bytes(ByteString.copyFromUtf8("png")));
    if (r.hasClassId()) {
      f.putFeature("image/class/label", int64(r.getClassId()));
    }
    f.putFeature("image/class/text", bytes(ByteString.copyFromUtf8(sample.text())));
    f.putFeature("image/height", int64(r.getHeight()));
    f.putFeature("image/width", int64(r.getWidth()));
    f.putFeature("image/channels", int64(r.getChannels()));
    f.putFeature("key", bytes(ByteString.copyFromUtf8(sample.key())));
    f.putFeature("request_id", bytes(ByteString.copyFromUtf8(r.getRequestId())));
    f.putFeature("index", int64(r.getIndex()));
    f.putFeature("seed", int64(r.getSeed()));
    f.putFeature("tier", bytes(ByteString.copyFromUtf8(r.getTierLabel())));
    return Example.newBuilder().setFeatures(f).build();
  }

  @Override
  public void write(Sample sample) throws IOException {
    byte[] data = deterministicBytes(example(sample));
    header.clear();
    header.putLong(data.length);
    header.putInt(maskedCrc32c(header.array(), 0, 8));
    out.write(header.array(), 0, 12);
    out.write(data);
    footer.clear();
    footer.putInt(maskedCrc32c(data, 0, data.length));
    out.write(footer.array(), 0, 4);
  }

  @Override
  public void finish() throws IOException {
    out.flush();
  }

  /** TFRecord's checksum: CRC-32C, rotated right by 15 bits, plus a constant. */
  static int maskedCrc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + MASK_DELTA;
  }

  /** Serialises with map entries in key order, so equal Examples give equal bytes. */
  private static byte[] deterministicBytes(Example example) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(example.getSerializedSize());
    CodedOutputStream coded = CodedOutputStream.newInstance(buffer);
    coded.useDeterministicSerialization();
    example.writeTo(coded);
    coded.flush();
    return buffer.toByteArray();
  }

  private static Feature bytes(ByteString value) {
    return Feature.newBuilder().setBytesList(BytesList.newBuilder().addValue(value)).build();
  }

  private static Feature int64(long value) {
    return Feature.newBuilder().setInt64List(Int64List.newBuilder().addValue(value)).build();
  }
}
