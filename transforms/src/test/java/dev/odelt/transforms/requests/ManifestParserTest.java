package dev.odelt.transforms.requests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.SourcedRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManifestParserTest {

  private static final class Collected implements ManifestParser.Sink {
    final List<SourcedRequest> good = new ArrayList<>();
    final List<DeadLetter> bad = new ArrayList<>();

    @Override
    public void accept(SourcedRequest request) {
      good.add(request);
    }

    @Override
    public void reject(DeadLetter deadLetter) {
      bad.add(deadLetter);
    }
  }

  private static Collected parse(ManifestParser parser, String source, byte[] bytes)
      throws IOException {
    Collected c = new Collected();
    parser.parse(source, new ByteArrayInputStream(bytes), c);
    return c;
  }

  private static Collected parse(String source, String text) throws IOException {
    return parse(ManifestParser.create(), source, text.getBytes(StandardCharsets.UTF_8));
  }

  private static RejectReason onlyReason(String source, String line) throws IOException {
    Collected c = parse(source, line + "\n");
    assertEquals(List.of(), c.good, "expected a dead letter for: " + line);
    assertEquals(1, c.bad.size());
    assertEquals(1, c.bad.get(0).getLine());
    assertEquals(line, c.bad.get(0).getText());
    assertFalse(c.bad.get(0).getMessage().isEmpty());
    return c.bad.get(0).getReason();
  }

  @Test
  void parsesTheIssueExampleWithSnakeAndCamelCase() throws IOException {
    Collected c =
        parse(
            "/m/a.jsonl",
            "{\"request_id\":\"r1\",\"class_label\":\"7\",\"num_images\":8,\"seed\":42,"
                + "\"tier\":{\"steps\":4,\"blocks\":6}}\n"
                + "\n"
                + "{\"requestId\":\"r2\",\"classId\":3,\"tierName\":\"draft\","
                + "\"tags\":{\"team\":\"vision\"}}\n");
    assertEquals(List.of(), c.bad);
    assertEquals(2, c.good.size());
    GenerationRequest r1 = c.good.get(0).getRequest();
    assertEquals("r1", r1.getRequestId());
    assertEquals("7", r1.getClassLabel());
    assertEquals(8, r1.getNumImages());
    assertEquals(42, r1.getSeed());
    assertEquals(4, r1.getTier().getSteps());
    assertEquals(6, r1.getTier().getBlocks());
    assertEquals(1, c.good.get(0).getLine());
    GenerationRequest r2 = c.good.get(1).getRequest();
    assertEquals(3, c.good.get(1).getLine());
    assertEquals(3, r2.getClassId());
    assertEquals(1, r2.getNumImages());
    assertEquals(Seeds.fromRequestId("r2"), r2.getSeed());
    assertEquals("vision", r2.getTagsMap().get("team"));
  }

  @Test
  void derivesIdsFromFileNameAndLine() throws IOException {
    Collected c = parse("/m/day 1.jsonl", "\n{\"class_id\":1}\n");
    assertEquals("day_1-2", c.good.get(0).getRequest().getRequestId());
    assertEquals(Seeds.fromRequestId("day_1-2"), c.good.get(0).getRequest().getSeed());
  }

  @Test
  void everyJsonDeadLetterCase() throws IOException {
    String f = "/m/x.jsonl";
    assertEquals(RejectReason.MALFORMED_JSON, onlyReason(f, "{\"class_id\":1"));
    assertEquals(RejectReason.MALFORMED_JSON, onlyReason(f, "[1,2]"));
    assertEquals(RejectReason.MALFORMED_JSON, onlyReason(f, "{class_id:1}"));
    assertEquals(RejectReason.MALFORMED_JSON, onlyReason(f, "{\"class_id\":1} trailing"));
    assertEquals(RejectReason.WRONG_TYPE, onlyReason(f, "{\"class_id\":\"seven\"}"));
    assertEquals(
        RejectReason.WRONG_TYPE, onlyReason(f, "{\"class_id\":1,\"num_images\":\"many\"}"));
    assertEquals(
        RejectReason.WRONG_TYPE, onlyReason(f, "{\"class_id\":1,\"tier\":{\"solver\":\"FAST\"}}"));
    assertEquals(RejectReason.UNKNOWN_FIELD, onlyReason(f, "{\"class_id\":1,\"colour\":\"red\"}"));
    assertEquals(RejectReason.NO_SUBJECT, onlyReason(f, "{\"num_images\":2}"));
    assertEquals(RejectReason.NO_SUBJECT, onlyReason(f, "{\"prompt\":\"  \"}"));
    assertEquals(
        RejectReason.TWO_SUBJECTS, onlyReason(f, "{\"class_id\":1,\"prompt\":\"a seven\"}"));
    assertEquals(
        RejectReason.TWO_TIERS,
        onlyReason(f, "{\"class_id\":1,\"tier_name\":\"draft\",\"tier\":{\"steps\":2}}"));
    assertEquals(
        RejectReason.NUM_IMAGES_OUT_OF_RANGE, onlyReason(f, "{\"class_id\":1,\"num_images\":0}"));
    assertEquals(
        RejectReason.NUM_IMAGES_OUT_OF_RANGE, onlyReason(f, "{\"class_id\":1,\"num_images\":-5}"));
    assertEquals(
        RejectReason.NUM_IMAGES_OUT_OF_RANGE,
        onlyReason(f, "{\"class_id\":1,\"num_images\":10000000000}"));
    assertEquals(
        RejectReason.UNSAFE_REQUEST_ID, onlyReason(f, "{\"class_id\":1,\"request_id\":\"../x\"}"));
    assertEquals(
        RejectReason.UNSAFE_REQUEST_ID, onlyReason(f, "{\"class_id\":1,\"request_id\":\"a/b\"}"));
    assertEquals(
        RejectReason.UNSAFE_REQUEST_ID, onlyReason(f, "{\"class_id\":1,\"request_id\":\".hid\"}"));
    assertEquals(
        RejectReason.UNSAFE_REQUEST_ID,
        onlyReason(f, "{\"class_id\":1,\"request_id\":\"a\\u0007b\"}"));
    assertEquals(
        RejectReason.UNSAFE_TAG,
        onlyReason(f, "{\"class_id\":1,\"tags\":{\"path\":\"../../etc\"}}"));
    assertEquals(
        RejectReason.UNSAFE_TAG, onlyReason(f, "{\"class_id\":1,\"tags\":{\"k\":\"a\\nb\"}}"));
    assertEquals(
        RejectReason.UNSAFE_TAG, onlyReason(f, "{\"class_id\":1,\"tags\":{\"a b\":\"v\"}}"));
  }

  @Test
  void nonUtf8LineIsRejectedAndNeighboursSurvive() throws IOException {
    byte[] bytes =
        concat(
            "{\"class_id\":1}\n".getBytes(StandardCharsets.UTF_8),
            new byte[] {
              '{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xC3, '"', '}', '\n'
            },
            "{\"class_id\":2}\r\n".getBytes(StandardCharsets.UTF_8));
    Collected c = parse(ManifestParser.create(), "/m/x.jsonl", bytes);
    assertEquals(2, c.good.size());
    assertEquals(1, c.bad.size());
    assertEquals(RejectReason.NOT_UTF8, c.bad.get(0).getReason());
    assertEquals(2, c.bad.get(0).getLine());
    assertEquals(3, c.good.get(1).getLine());
  }

  @Test
  void emptyAndBlankFilesAreOneDeadLetter() throws IOException {
    for (String text : new String[] {"", "\n\n  \n"}) {
      Collected c = parse("/m/e.jsonl", text);
      assertEquals(List.of(), c.good);
      assertEquals(1, c.bad.size());
      assertEquals(RejectReason.EMPTY_FILE, c.bad.get(0).getReason());
      assertEquals(0, c.bad.get(0).getLine());
    }
    assertEquals(
        RejectReason.EMPTY_FILE, parse("/m/e.csv", "class,count\n").bad.get(0).getReason());
    assertEquals(
        RejectReason.EMPTY_FILE, parse("/m/e.txt", "# only a comment\n").bad.get(0).getReason());
  }

  @Test
  void unknownExtensionIsRejected() throws IOException {
    Collected c = parse("/m/e.yaml", "class_id: 1\n");
    assertEquals(RejectReason.UNSUPPORTED_FORMAT, c.bad.get(0).getReason());
  }

  @Test
  void csvRowsAndTheirDeadLetters() throws IOException {
    Collected c =
        parse(
            "/m/c.csv",
            "Class,count,steps,blocks,seed,request_id,tier\n"
                + "7,3,4,6,11,c1,\n"
                + "seven,2,,,,,draft\n"
                + "\"eight\",1,,,,\"c-3\",\n"
                + "7,x,,,,,\n"
                + "7,1,4\n"
                + "\"7,1,,,,,\n"
                + "7,1,,,99999999999999999999,,\n"
                + ",1,,,,,\n"
                + "3,0,,,,,\n"
                + "3,1,,,,\"c,3\",\n");
    assertEquals(3, c.good.size());
    GenerationRequest first = c.good.get(0).getRequest();
    assertEquals(7, first.getClassId());
    assertEquals(3, first.getNumImages());
    assertEquals(4, first.getTier().getSteps());
    assertEquals(6, first.getTier().getBlocks());
    assertEquals(11, first.getSeed());
    assertEquals("c1", first.getRequestId());
    assertEquals("seven", c.good.get(1).getRequest().getClassLabel());
    assertEquals("draft", c.good.get(1).getRequest().getTierName());
    assertEquals("c-3", c.good.get(2).getRequest().getRequestId());
    assertEquals(5, c.bad.get(0).getLine());
    assertEquals("7,x,,,,,", c.bad.get(0).getText());
    assertEquals(
        List.of(
            RejectReason.WRONG_TYPE,
            RejectReason.MALFORMED_CSV,
            RejectReason.MALFORMED_CSV,
            RejectReason.WRONG_TYPE,
            RejectReason.NO_SUBJECT,
            RejectReason.NUM_IMAGES_OUT_OF_RANGE,
            RejectReason.UNSAFE_REQUEST_ID),
        c.bad.stream().map(DeadLetter::getReason).toList());
  }

  @Test
  void csvHeaderProblemsRejectTheFile() throws IOException {
    Collected unknown = parse("/m/c.csv", "class,count,colour\n1,1,red\n");
    assertEquals(List.of(), unknown.good);
    assertEquals(1, unknown.bad.size());
    assertEquals(RejectReason.UNKNOWN_FIELD, unknown.bad.get(0).getReason());
    Collected missing = parse("/m/c.csv", "class,steps\n1,1\n");
    assertEquals(RejectReason.MALFORMED_CSV, missing.bad.get(0).getReason());
  }

  @Test
  void promptListsUseCountAndTierOptions() throws IOException {
    Collected c =
        parse(
            ManifestParser.create().withImagesPerPrompt(5).withPromptTier("premium"),
            "/m/p.txt",
            "# digits\na handwritten seven\n\n  three  \n".getBytes(StandardCharsets.UTF_8));
    assertEquals(List.of(), c.bad);
    assertEquals(2, c.good.size());
    assertEquals("a handwritten seven", c.good.get(0).getRequest().getPrompt());
    assertEquals("three", c.good.get(1).getRequest().getPrompt());
    assertEquals(5, c.good.get(1).getRequest().getNumImages());
    assertEquals("premium", c.good.get(1).getRequest().getTierName());
    assertEquals("p-4", c.good.get(1).getRequest().getRequestId());
    assertTrue(c.good.get(0).getRequest().hasSeed());
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int o = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }

  @Test
  void anUnconditionalModelsRequestsNeedNoSubject() throws IOException {
    ManifestParser parser = ManifestParser.create().withSubjectRequired(false);
    Collected json =
        parse(
            parser,
            "/m/faces.jsonl",
            ("{\"request_id\":\"u\",\"num_images\":2}\n"
                    + "{\"prompt\":\"  \"}\n"
                    + "{\"class_id\":1,\"prompt\":\"a seven\"}\n")
                .getBytes(StandardCharsets.UTF_8));
    assertEquals(1, json.good.size());
    assertFalse(json.good.get(0).getRequest().hasClassId());
    assertEquals(2, json.good.get(0).getRequest().getNumImages());
    assertEquals(
        List.of(RejectReason.NO_SUBJECT, RejectReason.TWO_SUBJECTS),
        json.bad.stream().map(DeadLetter::getReason).toList());
    Collected csv =
        parse(parser, "/m/faces.csv", "count,tier\n3,draft\n".getBytes(StandardCharsets.UTF_8));
    assertEquals(List.of(), csv.bad);
    assertEquals(3, csv.good.get(0).getRequest().getNumImages());
    Collected needsClass = parse("/m/digits.csv", "count,tier\n3,draft\n");
    assertEquals(RejectReason.MALFORMED_CSV, needsClass.bad.get(0).getReason());
  }
}
