package dev.odelt.transforms.datasets;

import dev.odelt.proto.v1.ImageRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.OutputFile;
import org.apache.parquet.io.PositionOutputStream;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * A Parquet shard for Hugging Face {@code datasets}: one row per image with columns {@code key},
 * {@code image} (the {@code datasets} Image struct {@code {bytes, path}}), {@code label} (class id;
 * null for an unconditional model), {@code label_name}, {@code prompt} (null when the request named
 * none), {@code request_id}, {@code index}, {@code seed} and {@code tier}; the file's key-value
 * metadata {@code huggingface} holds the features ({@link DatasetFeatures#huggingFaceMetadata}).
 *
 * <p>Written with parquet-java through its Hadoop-free {@link OutputFile}, uncompressed (PNG bytes
 * do not compress further), in row groups of at most {@value #ROWS_PER_GROUP} rows so a reader can
 * stream a shard.
 */
final class ParquetShardWriter implements ShardWriter {

  static final int ROWS_PER_GROUP = 256;

  static final MessageType SCHEMA =
      MessageTypeParser.parseMessageType(
          "message sample {\n"
              + "  required binary key (STRING);\n"
              + "  optional group image {\n"
              + "    optional binary bytes;\n"
              + "    optional binary path (STRING);\n"
              + "  }\n"
              + "  optional int64 label;\n"
              + "  optional binary label_name (STRING);\n"
              + "  optional binary prompt (STRING);\n"
              + "  required binary request_id (STRING);\n"
              + "  required int64 index;\n"
              + "  required int64 seed;\n"
              + "  required binary tier (STRING);\n"
              + "}");

  private final ParquetWriter<Group> writer;
  private final SimpleGroupFactory rows = new SimpleGroupFactory(SCHEMA);

  ParquetShardWriter(OutputStream out, DatasetFeatures features) throws IOException {
    this.writer =
        ExampleParquetWriter.builder(new StreamOutputFile(out))
            .withConf(new PlainParquetConfiguration())
            .withType(SCHEMA)
            .withCompressionCodec(CompressionCodecName.UNCOMPRESSED)
            .withRowGroupRowCountLimit(ROWS_PER_GROUP)
            .withExtraMetaData(Map.of("huggingface", features.huggingFaceMetadata()))
            .build();
  }

  @Override
  public void write(Sample sample) throws IOException {
    ImageRecord r = sample.record();
    Group row = rows.newGroup().append("key", sample.key());
    row.addGroup("image")
        .append("bytes", Binary.fromConstantByteArray(sample.png()))
        .append("path", sample.key() + ".png");
    if (r.hasClassId()) {
      row.append("label", (long) r.getClassId());
      row.append("label_name", r.getClassLabel());
    }
    if (!r.getPrompt().isEmpty()) {
      row.append("prompt", r.getPrompt());
    }
    row.append("request_id", r.getRequestId())
        .append("index", r.getIndex())
        .append("seed", r.getSeed())
        .append("tier", r.getTierLabel());
    writer.write(row);
  }

  @Override
  public void finish() throws IOException {
    writer.close();
  }

  /** The upload's stream as a Parquet {@link OutputFile}; closing it only flushes. */
  private static final class StreamOutputFile implements OutputFile {
    private final OutputStream out;

    StreamOutputFile(OutputStream out) {
      this.out = out;
    }

    @Override
    public PositionOutputStream create(long blockSizeHint) {
      return new PositionOutputStream() {
        private long position;

        @Override
        public long getPos() {
          return position;
        }

        @Override
        public void write(int b) throws IOException {
          out.write(b);
          position++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
          out.write(b, off, len);
          position += len;
        }

        @Override
        public void flush() throws IOException {
          out.flush();
        }

        @Override
        public void close() throws IOException {
          out.flush();
        }
      };
    }

    @Override
    public PositionOutputStream createOrOverwrite(long blockSizeHint) {
      return create(blockSizeHint);
    }

    @Override
    public boolean supportsBlockSize() {
      return false;
    }

    @Override
    public long defaultBlockSize() {
      return 0;
    }
  }
}
