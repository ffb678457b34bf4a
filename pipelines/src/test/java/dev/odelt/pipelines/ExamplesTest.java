package dev.odelt.pipelines;

import dev.odelt.model.Models;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.transforms.requests.DeduplicateRequests;
import dev.odelt.transforms.requests.ManifestParser;
import dev.odelt.transforms.requests.MatchManifests;
import dev.odelt.transforms.requests.ParseRequests;
import dev.odelt.transforms.requests.ResolveRequests;
import java.io.IOException;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The README's example manifests against the bundled model's manifest: every request resolves to
 * the intended tier, and only the two deliberately bad lines are rejected. {@link DocsTest} lists
 * the documented commands over these manifests that this test and the job's tests cover.
 */
@ExtendWith(TestPipelineExtension.class)
class ExamplesTest {

  @Test
  void examplesResolveAgainstTheBundledModel(TestPipeline pipeline) throws IOException {
    ModelManifest manifest = ModelPackages.readManifest(Models.DEFAULT_MODEL);
    PCollectionTuple parsed =
        pipeline
            .apply(Create.of(MatchManifests.match("examples/*")))
            .apply(ParseRequests.with(ManifestParser.create()));
    PCollectionTuple unique =
        parsed.get(ParseRequests.REQUESTS).apply(DeduplicateRequests.create());
    PCollectionTuple resolved =
        unique.get(DeduplicateRequests.UNIQUE).apply(ResolveRequests.against(manifest));
    PAssert.that(
            resolved
                .get(ResolveRequests.RESOLVED)
                .apply(
                    "Resolved",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (ResolvedRequest r) ->
                                r.getRequestId() + ":" + r.getClassId() + ":" + r.getNumImages())))
        .containsInAnyOrder(
            "sevens:7:8",
            "threes-draft:3:8",
            "zero-premium:0:4",
            "budget-nine:9:4",
            "ones:1:6",
            "classes-3:2:6",
            "classes-4:5:6",
            "prompts-2:4:1",
            "prompts-3:6:1",
            "prompts-4:8:1");
    PAssert.that(
            PCollectionList.of(parsed.get(ParseRequests.DEAD_LETTERS))
                .and(unique.get(DeduplicateRequests.DEAD_LETTERS))
                .and(resolved.get(ResolveRequests.DEAD_LETTERS))
                .apply(Flatten.pCollections())
                .apply(
                    "Rejected",
                    MapElements.into(TypeDescriptors.strings())
                        .via((DeadLetter d) -> d.getRequestId() + ":" + d.getReason())))
        .containsInAnyOrder("bad-class:CLASS_OUT_OF_RANGE", "bad-prompt:UNRESOLVED_PROMPT");
    pipeline.run().waitUntilFinish();
  }
}
