package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.SourcedRequest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Keeps one request per request id across all manifests. The first wins: the one with the smallest
 * (source location, line) in lexicographic then numeric order, whatever order the runner delivers
 * them in. Every later one becomes a {@code DUPLICATE_REQUEST_ID} dead letter naming where the kept
 * one is.
 */
public final class DeduplicateRequests
    extends PTransform<PCollection<SourcedRequest>, PCollectionTuple> {

  private static final long serialVersionUID = 1L;

  public static final TupleTag<SourcedRequest> UNIQUE = new TupleTag<SourcedRequest>() {};
  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<DeadLetter>() {};

  private DeduplicateRequests() {}

  public static DeduplicateRequests create() {
    return new DeduplicateRequests();
  }

  @Override
  public PCollectionTuple expand(PCollection<SourcedRequest> requests) {
    return requests
        .apply(
            "KeyByRequestId",
            WithKeys.of((SourcedRequest r) -> r.getRequest().getRequestId())
                .withKeyType(TypeDescriptors.strings()))
        .apply("GroupByRequestId", GroupByKey.create())
        .apply(
            "KeepFirst",
            ParDo.of(new KeepFirstFn()).withOutputTags(UNIQUE, TupleTagList.of(DEAD_LETTERS)));
  }

  static final class KeepFirstFn
      extends DoFn<KV<String, Iterable<SourcedRequest>>, SourcedRequest> {
    private static final long serialVersionUID = 1L;

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<SourcedRequest>> group, MultiOutputReceiver out) {
      List<SourcedRequest> all = new ArrayList<>();
      group.getValue().forEach(all::add);
      all.sort(
          Comparator.comparing(SourcedRequest::getSource)
              .thenComparingLong(SourcedRequest::getLine));
      SourcedRequest first = all.get(0);
      out.get(UNIQUE).output(first);
      for (SourcedRequest later : all.subList(1, all.size())) {
        out.get(DEAD_LETTERS)
            .output(
                DeadLetter.newBuilder()
                    .setSource(later.getSource())
                    .setLine(later.getLine())
                    .setText(later.getText())
                    .setRequestId(group.getKey())
                    .setReason(RejectReason.DUPLICATE_REQUEST_ID)
                    .setMessage(
                        "request_id '"
                            + group.getKey()
                            + "' was already used at "
                            + first.getSource()
                            + ":"
                            + first.getLine()
                            + "; the first one is kept.")
                    .setStage("deduplicate")
                    .build());
      }
    }
  }
}
