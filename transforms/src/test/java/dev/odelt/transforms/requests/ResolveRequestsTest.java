package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.RequestedTier;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.SourcedRequest;
import dev.odelt.transforms.TestManifests;
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
class ResolveRequestsTest {

  private static SourcedRequest req(String id, GenerationRequest.Builder b) {
    return SourcedRequest.newBuilder()
        .setRequest(b.setRequestId(id).setNumImages(1).setSeed(1))
        .setSource("/m/r.jsonl")
        .setLine(1)
        .setText(id)
        .build();
  }

  @Test
  void goodAndBadRequests(TestPipeline pipeline) {
    PCollectionTuple out =
        pipeline
            .apply(
                Create.of(
                    req("seven", GenerationRequest.newBuilder().setPrompt("a handwritten seven")),
                    req(
                        "three",
                        GenerationRequest.newBuilder().setClassLabel("three").setTierName("draft")),
                    req("cat", GenerationRequest.newBuilder().setPrompt("a cat")),
                    req("range", GenerationRequest.newBuilder().setClassId(12)),
                    req("label", GenerationRequest.newBuilder().setClassLabel("eleven")),
                    req("tier", GenerationRequest.newBuilder().setClassId(1).setTierName("gold")),
                    req(
                        "blocks",
                        GenerationRequest.newBuilder()
                            .setClassId(1)
                            .setTier(RequestedTier.newBuilder().setSteps(4).setBlocks(5))),
                    req(
                        "steps",
                        GenerationRequest.newBuilder()
                            .setClassId(1)
                            .setTier(RequestedTier.newBuilder().setSteps(5000))),
                    req(
                        "guidance",
                        GenerationRequest.newBuilder()
                            .setClassId(1)
                            .setTier(RequestedTier.newBuilder().setGuidance(-1)))))
            .apply(ResolveRequests.against(TestManifests.digits()));
    PAssert.that(
            out.get(ResolveRequests.RESOLVED)
                .apply(
                    "Resolved",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (ResolvedRequest r) ->
                                r.getRequestId() + ":" + r.getClassId() + ":" + r.getTierLabel())))
        .containsInAnyOrder("seven:7:s4-b4", "three:3:s2-b2");
    PAssert.that(
            out.get(ResolveRequests.DEAD_LETTERS)
                .apply(
                    "Rejected",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (DeadLetter d) ->
                                d.getRequestId() + ":" + d.getReason() + ":" + d.getStage())))
        .containsInAnyOrder(
            "cat:UNRESOLVED_PROMPT:resolve",
            "range:CLASS_OUT_OF_RANGE:resolve",
            "label:UNKNOWN_CLASS_LABEL:resolve",
            "tier:UNKNOWN_TIER:resolve",
            "blocks:BLOCKS_NOT_ALLOWED:resolve",
            "steps:STEPS_OUT_OF_RANGE:resolve",
            "guidance:GUIDANCE_OUT_OF_RANGE:resolve");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void allGoodGivesNoDeadLetters(TestPipeline pipeline) {
    PCollectionTuple out =
        pipeline
            .apply(Create.of(req("a", GenerationRequest.newBuilder().setClassId(0))))
            .apply(ResolveRequests.against(TestManifests.digits()));
    PAssert.that(out.get(ResolveRequests.DEAD_LETTERS)).empty();
    PAssert.thatSingleton(
            out.get(ResolveRequests.RESOLVED)
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via((ResolvedRequest r) -> r.getClassLabel())))
        .isEqualTo("0");
    pipeline.run().waitUntilFinish();
  }
}
