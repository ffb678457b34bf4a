package dev.odelt.transforms.io;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.storage.ObjectStores;
import dev.odelt.transforms.CollectFn;
import dev.odelt.transforms.JsonLines;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableComparator;
import org.apache.beam.sdk.values.PCollection;

/**
 * Writes all dead letters to {@code errors/dead-letters.jsonl}, sorted by (source, line, reason),
 * one JSON object per line. The file is always written — empty when nothing was rejected — so a
 * rerun never leaves the previous run's rejects behind. Outputs the number written.
 */
public final class WriteDeadLetters extends PTransform<PCollection<DeadLetter>, PCollection<Long>> {

  private static final long serialVersionUID = 1L;

  /** Source, then line, then reason, then message. */
  public static final SerializableComparator<DeadLetter> ORDER =
      (a, b) ->
          Comparator.comparing(DeadLetter::getSource)
              .thenComparingLong(DeadLetter::getLine)
              .thenComparing(DeadLetter::getReasonValue)
              .thenComparing(DeadLetter::getMessage)
              .compare(a, b);

  private final String outputRoot;

  private WriteDeadLetters(String outputRoot) {
    this.outputRoot = outputRoot;
  }

  public static WriteDeadLetters to(String outputRoot) {
    return new WriteDeadLetters(outputRoot);
  }

  @Override
  public PCollection<Long> expand(PCollection<DeadLetter> deadLetters) {
    return deadLetters
        .apply("CollectDeadLetters", Combine.globally(CollectFn.sortedBy(ORDER)))
        .apply("WriteDeadLetters", ParDo.of(new WriteFn(outputRoot)));
  }

  static final class WriteFn extends DoFn<List<DeadLetter>, Long> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;

    WriteFn(String outputRoot) {
      this.outputRoot = outputRoot;
    }

    @ProcessElement
    public void process(@Element List<DeadLetter> all, OutputReceiver<Long> out)
        throws IOException {
      StringBuilder sb = new StringBuilder();
      for (DeadLetter d : all) {
        sb.append(JsonLines.line(d)).append('\n');
      }
      String location = OutputLayout.location(outputRoot, OutputLayout.DEAD_LETTERS_JSONL);
      ObjectStores.forLocation(location)
          .write(
              location,
              sb.toString().getBytes(StandardCharsets.UTF_8),
              "application/x-ndjson",
              Map.of());
      out.output((long) all.size());
    }
  }
}
