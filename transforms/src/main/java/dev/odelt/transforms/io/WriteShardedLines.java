package dev.odelt.transforms.io;

import com.google.protobuf.Message;
import dev.odelt.storage.ObjectStore;
import dev.odelt.transforms.JsonLines;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableComparator;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * Writes messages as JSON lines into a fixed number of shards, {@code <prefix>-<shard, 5
 * digits>.jsonl}, each shard one whole object sorted by {@code order}. A message's shard is {@code
 * floorMod(key.hashCode(), shards)} of its key ({@link String#hashCode} is the same in every JVM),
 * so the files are a pure function of the messages: a rerun or a restarted stage rewrites the same
 * shards with the same bytes and can never duplicate a line. Every shard is written, empty when no
 * message falls into it, so a rerun leaves nothing of an earlier run behind. No worker holds more
 * than one shard's messages; the only side input is the set of shards that had messages
 * (O(shards)). Outputs the locations written.
 */
public final class WriteShardedLines<T extends Message>
    extends PTransform<PCollection<T>, PCollection<String>> {

  private static final long serialVersionUID = 1L;

  /** Most shards a writer accepts. */
  public static final int MAX_SHARDS = 100_000;

  private final String outputRoot;
  private final String prefix;
  private final int shards;
  private final SerializableFunction<T, String> key;
  private final SerializableComparator<T> order;

  private WriteShardedLines(
      String outputRoot,
      String prefix,
      int shards,
      SerializableFunction<T, String> key,
      SerializableComparator<T> order) {
    this.outputRoot = outputRoot;
    this.prefix = prefix;
    this.shards = shards;
    this.key = key;
    this.order = order;
  }

  /**
   * Writes under {@code outputRoot} as {@code <prefix>-NNNNN.jsonl} ({@code prefix} relative, e.g.
   * {@code errors/dead-letters}), sharded by {@code key} and sorted by {@code order} within a
   * shard.
   */
  public static <T extends Message> WriteShardedLines<T> to(
      String outputRoot,
      String prefix,
      int shards,
      SerializableFunction<T, String> key,
      SerializableComparator<T> order) {
    if (shards < 1 || shards > MAX_SHARDS) {
      throw new IllegalArgumentException(
          "shards must be in [1, " + MAX_SHARDS + "], got " + shards);
    }
    OutputLayout.location(outputRoot, shardPath(prefix, 0));
    return new WriteShardedLines<>(outputRoot, prefix, shards, key, order);
  }

  /** The shard of a key. */
  public static int shardOf(String key, int shards) {
    return Math.floorMod(key.hashCode(), shards);
  }

  /** {@code <prefix>-<shard, 5 digits>.jsonl}. */
  public static String shardPath(String prefix, int shard) {
    return String.format("%s-%05d.jsonl", prefix, shard);
  }

  @Override
  public PCollection<String> expand(PCollection<T> messages) {
    int n = shards;
    SerializableFunction<T, String> keyOf = key;
    PCollection<KV<Integer, T>> keyed =
        messages
            .apply(
                "KeyByShard",
                ParDo.of(
                    new DoFn<T, KV<Integer, T>>() {
                      private static final long serialVersionUID = 1L;

                      @ProcessElement
                      public void process(@Element T m, OutputReceiver<KV<Integer, T>> out) {
                        out.output(KV.of(shardOf(keyOf.apply(m), n), m));
                      }
                    }))
            .setCoder(KvCoder.of(VarIntCoder.of(), messages.getCoder()));
    PCollection<String> written =
        keyed
            .apply("GroupByShard", GroupByKey.create())
            .apply("WriteShard", ParDo.of(new WriteShardFn<>(outputRoot, prefix, order)));
    PCollectionView<List<String>> writtenView = written.apply("ShardsWritten", View.asList());
    List<Integer> all = IntStream.range(0, n).boxed().collect(Collectors.toList());
    PCollection<String> empty =
        messages
            .getPipeline()
            .apply("AllShards", Create.of(all).withCoder(VarIntCoder.of()))
            .apply(
                "WriteEmptyShards",
                ParDo.of(new WriteEmptyFn(outputRoot, prefix, writtenView))
                    .withSideInputs(writtenView));
    return PCollectionList.of(written).and(empty).apply("Written", Flatten.pCollections());
  }

  static final class WriteShardFn<T extends Message>
      extends DoFn<KV<Integer, Iterable<T>>, String> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final String prefix;
    private final SerializableComparator<T> order;
    private transient ObjectStore store;

    WriteShardFn(String outputRoot, String prefix, SerializableComparator<T> order) {
      this.outputRoot = outputRoot;
      this.prefix = prefix;
      this.order = order;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(@Element KV<Integer, Iterable<T>> shard, OutputReceiver<String> out)
        throws IOException {
      List<T> messages = new ArrayList<>();
      shard.getValue().forEach(messages::add);
      messages.sort(order);
      StringBuilder sb = new StringBuilder();
      for (T m : messages) {
        sb.append(JsonLines.line(m)).append('\n');
      }
      String location = OutputLayout.location(outputRoot, shardPath(prefix, shard.getKey()));
      store.write(
          location,
          sb.toString().getBytes(StandardCharsets.UTF_8),
          "application/x-ndjson",
          Map.of());
      out.output(location);
    }
  }

  static final class WriteEmptyFn extends DoFn<Integer, String> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private final String prefix;
    private final PCollectionView<List<String>> written;
    private transient ObjectStore store;

    WriteEmptyFn(String outputRoot, String prefix, PCollectionView<List<String>> written) {
      this.outputRoot = outputRoot;
      this.prefix = prefix;
      this.written = written;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(ProcessContext c) throws IOException {
      Set<String> done = new HashSet<>(c.sideInput(written));
      String location = OutputLayout.location(outputRoot, shardPath(prefix, c.element()));
      if (!done.contains(location)) {
        store.write(location, new byte[0], "application/x-ndjson", Map.of());
        c.output(location);
      }
    }
  }
}
