package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.SourcedRequest;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class DeduplicateRequestsTest {

  private static SourcedRequest at(String id, String source, long line) {
    return SourcedRequest.newBuilder()
        .setRequest(GenerationRequest.newBuilder().setRequestId(id).setClassId(1))
        .setSource(source)
        .setLine(line)
        .setText("line " + line)
        .build();
  }

  @Test
  void firstByFileThenLineWins(TestPipeline pipeline) {
    PCollectionTuple out =
        pipeline
            .apply(
                Create.of(
                    at("dup", "/m/b.jsonl", 1),
                    at("dup", "/m/a.jsonl", 7),
                    at("dup", "/m/a.jsonl", 3),
                    at("solo", "/m/b.jsonl", 2)))
            .apply(DeduplicateRequests.create());
    PAssert.that(out.get(DeduplicateRequests.UNIQUE))
        .containsInAnyOrder(at("dup", "/m/a.jsonl", 3), at("solo", "/m/b.jsonl", 2));
    PAssert.that(
            out.get(DeduplicateRequests.DEAD_LETTERS)
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (DeadLetter d) ->
                                d.getSource() + ":" + d.getLine() + ":" + d.getReason())))
        .containsInAnyOrder(
            "/m/a.jsonl:7:DUPLICATE_REQUEST_ID", "/m/b.jsonl:1:DUPLICATE_REQUEST_ID");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void uniqueIdsGiveNoDeadLetters(TestPipeline pipeline) {
    PCollectionTuple out =
        pipeline
            .apply(Create.of(at("a", "/m/a.jsonl", 1), at("b", "/m/a.jsonl", 2)))
            .apply(DeduplicateRequests.create());
    PAssert.that(out.get(DeduplicateRequests.UNIQUE))
        .containsInAnyOrder(at("a", "/m/a.jsonl", 1), at("b", "/m/a.jsonl", 2));
    PAssert.that(out.get(DeduplicateRequests.DEAD_LETTERS)).empty();
    pipeline.run().waitUntilFinish();
  }
}
