package dev.odelt.transforms.batching;

import dev.odelt.proto.v1.ImageTask;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Groups image tasks into batches of at most {@code maxBatchSize} that share a model and a tier
 * (steps, blocks, solver, guidance, tolerance — all encoded in the tier label). Every batch is
 * non-empty and holds a single tier.
 *
 * <p>Keys are sharded ({@link GroupIntoBatches#withShardedKey()}) so that one hot tier is batched
 * by all workers, and the batches are then redistributed at random ({@code SpreadBatches}): a
 * runner that partitions by key would otherwise run all batches of the few (tier, shard) keys on
 * the workers those keys hash to, leaving others idle. Each shard of a tier leaves one partial
 * batch at the end of its input; those remainders are regrouped per tier without sharding ({@code
 * RepackRemainders}), so a tier of {@code n} images takes the minimum of {@code ceil(n /
 * maxBatchSize)} batches whatever the parallelism (in a bounded input's global window). Batches do
 * not change images: an image depends only on its task.
 */
public final class BatchByTier
    extends PTransform<
        PCollection<ImageTask>, PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>>> {

  private static final long serialVersionUID = 1L;

  private static final TupleTag<KV<ShardedKey<String>, Iterable<ImageTask>>> FULL =
      new TupleTag<KV<ShardedKey<String>, Iterable<ImageTask>>>() {};
  private static final TupleTag<KV<String, ImageTask>> REMAINDER =
      new TupleTag<KV<String, ImageTask>>() {};

  /** The shard id of repacked remainder batches (one key per tier). */
  private static final byte[] REPACKED_SHARD = new byte[0];

  private final int maxBatchSize;

  private BatchByTier(int maxBatchSize) {
    this.maxBatchSize = maxBatchSize;
  }

  public static BatchByTier ofSize(int maxBatchSize) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
    }
    return new BatchByTier(maxBatchSize);
  }

  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** The batch key of a task: {@code <model name>@<model version>/<tier label>}. */
  public static String keyOf(ImageTask task) {
    return task.getRequest().getModelName()
        + "@"
        + task.getRequest().getModelVersion()
        + "/"
        + task.getRequest().getTierLabel();
  }

  @Override
  public PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> expand(
      PCollection<ImageTask> tasks) {
    Coder<ImageTask> taskCoder = tasks.getCoder();
    PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> sharded =
        tasks
            .apply(
                "KeyByModelAndTier",
                WithKeys.of(BatchByTier::keyOf).withKeyType(TypeDescriptors.strings()))
            .apply(
                "GroupIntoBatches",
                GroupIntoBatches.<String, ImageTask>ofSize(maxBatchSize).withShardedKey());
    Coder<KV<ShardedKey<String>, Iterable<ImageTask>>> batchCoder = sharded.getCoder();
    PCollectionTuple split =
        sharded.apply(
            "SplitOffRemainders",
            ParDo.of(new SplitOffRemaindersFn(maxBatchSize))
                .withOutputTags(FULL, TupleTagList.of(REMAINDER)));
    PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>> repacked =
        split
            .get(REMAINDER)
            .setCoder(KvCoder.of(StringUtf8Coder.of(), taskCoder))
            .apply("RepackRemainders", GroupIntoBatches.<String, ImageTask>ofSize(maxBatchSize))
            .apply("KeyRepacked", ParDo.of(new KeyRepackedFn()))
            .setCoder(batchCoder);
    return PCollectionList.of(split.get(FULL).setCoder(batchCoder))
        .and(repacked)
        .apply("AllBatches", Flatten.pCollections())
        .apply("SpreadBatches", Reshuffle.viaRandomKey());
  }

  /** Full batches pass on; the tasks of a partial batch go to {@link #REMAINDER}, keyed by tier. */
  static final class SplitOffRemaindersFn
      extends DoFn<
          KV<ShardedKey<String>, Iterable<ImageTask>>,
          KV<ShardedKey<String>, Iterable<ImageTask>>> {
    private static final long serialVersionUID = 1L;
    private final int maxBatchSize;

    SplitOffRemaindersFn(int maxBatchSize) {
      this.maxBatchSize = maxBatchSize;
    }

    @ProcessElement
    public void process(
        @Element KV<ShardedKey<String>, Iterable<ImageTask>> batch, MultiOutputReceiver out) {
      int size = 0;
      for (ImageTask ignored : batch.getValue()) {
        size++;
      }
      if (size >= maxBatchSize) {
        out.get(FULL).output(batch);
        return;
      }
      String key = batch.getKey().getKey();
      for (ImageTask t : batch.getValue()) {
        out.get(REMAINDER).output(KV.of(key, t));
      }
    }
  }

  /** Gives a repacked batch the output's key type, with an empty shard id. */
  static final class KeyRepackedFn
      extends DoFn<KV<String, Iterable<ImageTask>>, KV<ShardedKey<String>, Iterable<ImageTask>>> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<ImageTask>> batch,
        OutputReceiver<KV<ShardedKey<String>, Iterable<ImageTask>>> out) {
      out.output(KV.of(ShardedKey.of(batch.getKey(), REPACKED_SHARD), batch.getValue()));
    }
  }
}
