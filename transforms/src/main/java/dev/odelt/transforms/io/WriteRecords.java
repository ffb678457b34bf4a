package dev.odelt.transforms.io;

import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.storage.ObjectStore;
import dev.odelt.transforms.JsonLines;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Writes image records as JSONL, one line per image, into {@code records/records-<shard>.jsonl}. A
 * request's records all land in shard {@code floorMod(request_id.hashCode(), shards)}, sorted by
 * (request id, index), so the files are a pure function of the records. Shards with no record are
 * not written. Outputs the locations written.
 */
public final class WriteRecords extends PTransform<PCollection<ImageRecord>, PCollection<String>> {

  private static final long serialVersionUID = 1L;

  private final String outputRoot;
  private final int shards;

  private WriteRecords(String outputRoot, int shards) {
    this.outputRoot = outputRoot;
    this.shards = shards;
  }

  public static WriteRecords to(String outputRoot) {
    return new WriteRecords(outputRoot, 16);
  }

  public WriteRecords withShards(int count) {
    if (count < 1 || count > 100_000) {
      throw new IllegalArgumentException("shards must be in [1, 100000], got " + count);
    }
    return new WriteRecords(outputRoot, count);
  }

  /** The shard of a request id. */
  public static int shardOf(String requestId, int shards) {
    return Math.floorMod(requestId.hashCode(), shards);
  }

  @Override
  public PCollection<String> expand(PCollection<ImageRecord> records) {
    int n = shards;
    return records
        .apply(
            "KeyByShard",
            WithKeys.of((ImageRecord r) -> shardOf(r.getRequestId(), n))
                .withKeyType(TypeDescriptors.integers()))
        .apply("GroupByShard", GroupByKey.create())
        .apply("WriteShard", ParDo.of(new WriteShardFn(outputRoot)));
  }

  static final class WriteShardFn extends DoFn<KV<Integer, Iterable<ImageRecord>>, String> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private transient ObjectStore store;

    WriteShardFn(String outputRoot) {
      this.outputRoot = outputRoot;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Iterable<ImageRecord>> shard, OutputReceiver<String> out)
        throws IOException {
      List<ImageRecord> records = new ArrayList<>();
      shard.getValue().forEach(records::add);
      records.sort(
          Comparator.comparing(ImageRecord::getRequestId).thenComparingLong(ImageRecord::getIndex));
      StringBuilder sb = new StringBuilder();
      for (ImageRecord r : records) {
        sb.append(JsonLines.line(r)).append('\n');
      }
      String location = OutputLayout.location(outputRoot, OutputLayout.recordsPath(shard.getKey()));
      store.write(
          location,
          sb.toString().getBytes(StandardCharsets.UTF_8),
          "application/x-ndjson",
          Map.of());
      out.output(location);
    }
  }
}
