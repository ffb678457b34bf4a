package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.SourcedRequest;
import dev.odelt.transforms.TestManifests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class ParseRequestsTest {

  @TempDir Path dir;

  private static PCollection<String> ids(PCollectionTuple out) {
    return out.get(ParseRequests.REQUESTS)
        .apply(
            "Ids",
            MapElements.into(TypeDescriptors.strings())
                .via((SourcedRequest r) -> r.getRequest().getRequestId()));
  }

  /** "file-name:line:REASON" of each dead letter. */
  static PCollection<String> reasons(PCollection<DeadLetter> deadLetters) {
    return deadLetters.apply(
        "Reasons",
        MapElements.into(TypeDescriptors.strings())
            .via(
                (DeadLetter d) ->
                    d.getSource().substring(d.getSource().lastIndexOf('/') + 1)
                        + ":"
                        + d.getLine()
                        + ":"
                        + d.getReason()));
  }

  @Test
  void cleanManifestsOfAllFormatsHaveNoDeadLetters(TestPipeline pipeline) throws IOException {
    String jsonl =
        TestManifests.write(
            dir,
            "a.jsonl",
            "{\"request_id\":\"r1\",\"class_label\":\"7\",\"num_images\":8,\"seed\":42,"
                + "\"tier\":{\"steps\":4,\"blocks\":6}}\n");
    String csv = TestManifests.write(dir, "b.csv", "class,count\n3,2\n");
    String txt = TestManifests.write(dir, "c.txt", "a handwritten seven\n");
    PCollectionTuple out =
        pipeline
            .apply(Create.of(jsonl, csv, txt))
            .apply(ParseRequests.with(ManifestParser.create()));
    PAssert.that(ids(out)).containsInAnyOrder("r1", "b-2", "c-1");
    PAssert.that(out.get(ParseRequests.DEAD_LETTERS)).empty();
    pipeline.run().waitUntilFinish();
  }

  @Test
  void everyParseDeadLetterCaseLeavesGoodLinesAlone(TestPipeline pipeline) throws IOException {
    String jsonl =
        TestManifests.write(
            dir,
            "bad.jsonl",
            String.join(
                "\n",
                "{\"request_id\":\"ok1\",\"class_id\":1}",
                "{\"class_id\":1",
                "{\"class_id\":\"one\"}",
                "{\"class_id\":1,\"color\":\"red\"}",
                "{\"num_images\":3}",
                "{\"class_id\":1,\"prompt\":\"one\"}",
                "{\"class_id\":1,\"num_images\":0}",
                "{\"class_id\":1,\"num_images\":99999999999}",
                "{\"class_id\":1,\"request_id\":\"../../etc\"}",
                "{\"class_id\":1,\"request_id\":\"a\\tb\"}",
                "{\"class_id\":1,\"tags\":{\"x\":\"/abs\"}}",
                "{\"class_id\":1,\"tier_name\":\"draft\",\"max_block_evals\":9}",
                "{\"request_id\":\"ok2\",\"prompt\":\"two\"}",
                ""));
    Path nonUtf8 = dir.resolve("latin1.jsonl");
    Files.write(
        nonUtf8,
        new byte[] {
          '{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xE9, '"', '}', '\n'
        });
    Path binary = dir.resolve("photo.jsonl");
    byte[] noise = new byte[12_800];
    new java.util.Random(1).nextBytes(noise);
    Files.write(binary, noise);
    String empty = TestManifests.write(dir, "empty.csv", "");
    String badCsv = TestManifests.write(dir, "rows.csv", "class,count\n1,\"2\n1,1,1\n2,1\n");
    PCollectionTuple out =
        pipeline
            .apply(Create.of(jsonl, nonUtf8.toString(), binary.toString(), empty, badCsv))
            .apply(ParseRequests.with(ManifestParser.create()));
    PAssert.that(ids(out)).containsInAnyOrder("ok1", "ok2", "rows-4");
    PAssert.that(reasons(out.get(ParseRequests.DEAD_LETTERS)))
        .containsInAnyOrder(
            "bad.jsonl:2:MALFORMED_JSON",
            "bad.jsonl:3:WRONG_TYPE",
            "bad.jsonl:4:UNKNOWN_FIELD",
            "bad.jsonl:5:NO_SUBJECT",
            "bad.jsonl:6:TWO_SUBJECTS",
            "bad.jsonl:7:NUM_IMAGES_OUT_OF_RANGE",
            "bad.jsonl:8:NUM_IMAGES_OUT_OF_RANGE",
            "bad.jsonl:9:UNSAFE_REQUEST_ID",
            "bad.jsonl:10:UNSAFE_REQUEST_ID",
            "bad.jsonl:11:UNSAFE_TAG",
            "bad.jsonl:12:TWO_TIERS",
            "latin1.jsonl:1:NOT_UTF8",
            "photo.jsonl:0:NOT_TEXT",
            "empty.csv:0:EMPTY_FILE",
            "rows.csv:2:MALFORMED_CSV",
            "rows.csv:3:MALFORMED_CSV");
    pipeline.run().waitUntilFinish();
  }
}
