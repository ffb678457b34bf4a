package dev.odelt.transforms.io;

import dev.odelt.proto.v1.DeadLetter;
import java.util.Comparator;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SerializableComparator;
import org.apache.beam.sdk.values.PCollection;

/**
 * Writes dead letters as JSON lines into {@code errors/dead-letters-<shard>.jsonl} ({@link
 * OutputLayout#deadLettersPath}), a fixed number of shards assigned by a hash of (source, line) and
 * sorted by (source, line, reason, message) within a shard ({@link WriteShardedLines}): no worker
 * gathers all rejects, and a rerun or a restarted stage rewrites the same files. Every shard is
 * written, empty when nothing fell into it, so a rerun never leaves the previous run's rejects
 * behind. Outputs the locations written.
 */
public final class WriteDeadLetters
    extends PTransform<PCollection<DeadLetter>, PCollection<String>> {

  private static final long serialVersionUID = 1L;

  /** Shards by default. */
  public static final int DEFAULT_SHARDS = 16;

  /** Source, then line, then reason, then message. */
  public static final SerializableComparator<DeadLetter> ORDER =
      (a, b) ->
          Comparator.comparing(DeadLetter::getSource)
              .thenComparingLong(DeadLetter::getLine)
              .thenComparing(DeadLetter::getReasonValue)
              .thenComparing(DeadLetter::getMessage)
              .compare(a, b);

  private final String outputRoot;
  private final int shards;

  private WriteDeadLetters(String outputRoot, int shards) {
    this.outputRoot = outputRoot;
    this.shards = shards;
  }

  public static WriteDeadLetters to(String outputRoot) {
    return new WriteDeadLetters(outputRoot, DEFAULT_SHARDS);
  }

  /** Writes {@code count} shards. */
  public WriteDeadLetters withShards(int count) {
    if (count < 1 || count > WriteShardedLines.MAX_SHARDS) {
      throw new IllegalArgumentException(
          "shards must be in [1, " + WriteShardedLines.MAX_SHARDS + "], got " + count);
    }
    return new WriteDeadLetters(outputRoot, count);
  }

  @Override
  public PCollection<String> expand(PCollection<DeadLetter> deadLetters) {
    return deadLetters.apply(
        "WriteShards",
        WriteShardedLines.to(
            outputRoot,
            OutputLayout.DEAD_LETTERS_PREFIX,
            shards,
            (DeadLetter d) -> d.getSource() + ":" + d.getLine(),
            ORDER));
  }
}
