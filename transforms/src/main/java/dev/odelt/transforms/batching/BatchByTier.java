package dev.odelt.transforms.batching;

import dev.odelt.proto.v1.ImageTask;
import org.apache.beam.sdk.transforms.GroupIntoBatches;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Groups image tasks into batches of at most {@code maxBatchSize} that share a model and a tier
 * (steps, blocks, solver, guidance, tolerance — all encoded in the tier label). Keys are sharded
 * ({@link GroupIntoBatches#withShardedKey()}), so one hot tier spreads over all workers. Every
 * batch is non-empty and holds a single tier.
 */
public final class BatchByTier
    extends PTransform<
        PCollection<ImageTask>, PCollection<KV<ShardedKey<String>, Iterable<ImageTask>>>> {

  private static final long serialVersionUID = 1L;

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
    return tasks
        .apply(
            "KeyByModelAndTier",
            WithKeys.of(BatchByTier::keyOf).withKeyType(TypeDescriptors.strings()))
        .apply(
            "GroupIntoBatches",
            GroupIntoBatches.<String, ImageTask>ofSize(maxBatchSize).withShardedKey());
  }
}
