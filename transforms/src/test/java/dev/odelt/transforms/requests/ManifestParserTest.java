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

  // --- Files that are not text: one dead letter for the file, nothing else from it. ---

  private static DeadLetter onlyFileLetter(String source, byte[] bytes) throws IOException {
    Collected c = parse(ManifestParser.create(), source, bytes);
    assertEquals(List.of(), c.good);
    assertEquals(1, c.bad.size(), () -> "one dead letter, got " + c.bad);
    DeadLetter d = c.bad.get(0);
    assertEquals(RejectReason.NOT_TEXT, d.getReason());
    assertEquals(0, d.getLine());
    assertEquals(source, d.getSource());
    return d;
  }

  @Test
  void aBinaryFileIsOneDeadLetter() throws IOException {
    byte[] noise = new byte[12_800];
    new java.util.Random(7).nextBytes(noise);
    DeadLetter d = onlyFileLetter("/m/photo.jsonl", noise);
    assertTrue(d.getMessage().contains("binary"), d.getMessage());
    // A PNG renamed to .csv: the message shows the first bytes.
    byte[] png = concat(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, noise);
    assertTrue(onlyFileLetter("/m/x.csv", png).getMessage().contains("89 50 4E 47"));
  }

  @Test
  void utf16AndUtf32FilesAreOneDeadLetterNamingTheEncoding() throws IOException {
    String text = "{\"class_id\":1}\n{\"class_id\":2}\n";
    assertTrue(
        onlyFileLetter(
                "/m/a.jsonl", withBom(new byte[] {(byte) 0xFF, (byte) 0xFE}, text, "UTF-16LE"))
            .getMessage()
            .contains("UTF-16 LE"));
    assertTrue(
        onlyFileLetter(
                "/m/a.jsonl", withBom(new byte[] {(byte) 0xFE, (byte) 0xFF}, text, "UTF-16BE"))
            .getMessage()
            .contains("UTF-16 BE"));
    assertTrue(
        onlyFileLetter("/m/a.txt", text.getBytes(StandardCharsets.UTF_16LE))
            .getMessage()
            .contains("UTF-16 LE"));
    assertTrue(
        onlyFileLetter("/m/a.txt", text.getBytes(StandardCharsets.UTF_16BE))
            .getMessage()
            .contains("UTF-16 BE"));
    assertTrue(
        onlyFileLetter(
                "/m/a.csv", withBom(new byte[] {(byte) 0xFF, (byte) 0xFE, 0, 0}, text, "UTF-32LE"))
            .getMessage()
            .contains("UTF-32 LE"));
    assertTrue(
        onlyFileLetter(
                "/m/a.csv", withBom(new byte[] {0, 0, (byte) 0xFE, (byte) 0xFF}, text, "UTF-32BE"))
            .getMessage()
            .contains("UTF-32 BE"));
  }

  @Test
  void mostlyInvalidUtf8IsOneDeadLetterButAStrayByteIsOneLine() throws IOException {
    StringBuilder latin1 = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      latin1.append("une girafe née à Noël, très âgée\n");
    }
    DeadLetter d =
        onlyFileLetter("/m/fr.txt", latin1.toString().getBytes(StandardCharsets.ISO_8859_1));
    assertTrue(d.getMessage().contains("not UTF-8"), d.getMessage());
    // One bad byte among valid UTF-8 text stays a per-line NOT_UTF8 (see above).
    Collected c =
        parse(
            ManifestParser.create(),
            "/m/fr.txt",
            concat(
                "café\nthé\n".getBytes(StandardCharsets.UTF_8),
                "crème\n".getBytes(StandardCharsets.ISO_8859_1)));
    assertEquals(2, c.good.size());
    assertEquals(
        List.of(RejectReason.NOT_UTF8), c.bad.stream().map(DeadLetter::getReason).toList());
  }

  private static byte[] withBom(byte[] bom, String text, String charset) {
    return concat(bom, text.getBytes(java.nio.charset.Charset.forName(charset)));
  }

  // --- Limits: line length, prompt length, tags. ---

  @Test
  void aLineOverTheLimitKeepsOnlyAPrefixAndItsNeighboursSurvive() throws IOException {
    String huge = "a giraffe ".repeat(30_000);
    Collected c = parse("/m/p.txt", "seven\n" + huge + "\nthree\n");
    assertEquals(2, c.good.size());
    assertEquals(3, c.good.get(1).getLine());
    assertEquals(1, c.bad.size());
    DeadLetter d = c.bad.get(0);
    assertEquals(RejectReason.LINE_TOO_LONG, d.getReason());
    assertEquals(2, d.getLine());
    assertEquals(huge.substring(0, RequestLimits.KEPT_TEXT_BYTES), d.getText());
    assertTrue(d.getMessage().contains("300,000"), d.getMessage());
    assertTrue(d.getMessage().contains("65,536"), d.getMessage());
    // JSON lines and CSV rows have the same limit.
    String longJson = "{\"class_id\":1,\"tags\":{\"k\":\"" + "v".repeat(70_000) + "\"}}";
    assertEquals(RejectReason.LINE_TOO_LONG, parse("/m/x.jsonl", longJson).bad.get(0).getReason());
    String open = "{\"class_id\":1,\"k\":\"";
    String atLimit = open + "x".repeat(RequestLimits.MAX_LINE_BYTES - open.length() - 2) + "\"}";
    assertEquals(RequestLimits.MAX_LINE_BYTES, atLimit.length());
    assertEquals(RejectReason.UNKNOWN_FIELD, parse("/m/x.jsonl", atLimit).bad.get(0).getReason());
    assertEquals(
        RejectReason.LINE_TOO_LONG, parse("/m/x.jsonl", atLimit + " ").bad.get(0).getReason());
    Collected csv = parse("/m/c.csv", "class,count\n" + "7".repeat(70_000) + ",1\n7,1\n");
    assertEquals(RejectReason.LINE_TOO_LONG, csv.bad.get(0).getReason());
    assertEquals(2, csv.bad.get(0).getLine());
    assertEquals(1, csv.good.size());
  }

  @Test
  void aLineOfGigabytesIsReadWithABoundedBuffer() throws IOException {
    long length = (1L << 31) + 10;
    byte[] tail = "\n{\"class_id\":1}\n".getBytes(StandardCharsets.UTF_8);
    java.io.InputStream endless =
        new java.io.InputStream() {
          long pos;

          @Override
          public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            if (pos >= length + tail.length) {
              return -1;
            }
            int n = 0;
            while (n < len && pos < length + tail.length) {
              if (pos < length) {
                int run = (int) Math.min(len - n, length - pos);
                java.util.Arrays.fill(b, off + n, off + n + run, (byte) 'a');
                n += run;
                pos += run;
              } else {
                b[off + n++] = tail[(int) (pos++ - length)];
              }
            }
            return n;
          }
        };
    Collected c = new Collected();
    ManifestParser.create().parse("/m/big.txt", endless, c);
    assertEquals(1, c.bad.size());
    assertEquals(RejectReason.LINE_TOO_LONG, c.bad.get(0).getReason());
    assertTrue(c.bad.get(0).getMessage().contains("2,147,483,658"), c.bad.get(0).getMessage());
    assertEquals(1, c.good.size());
    assertEquals(2, c.good.get(0).getLine());
  }

  @Test
  void promptsOverTheLimitAreRejectedWithAPrefix() throws IOException {
    String limit = "s".repeat(RequestLimits.MAX_PROMPT_LENGTH);
    assertEquals(List.of(), parse("/m/p.txt", limit + "\n").bad);
    Collected c = parse("/m/p.txt", limit + "s\n");
    assertEquals(List.of(), c.good);
    assertEquals(RejectReason.PROMPT_TOO_LONG, c.bad.get(0).getReason());
    assertEquals(limit.substring(0, RequestLimits.KEPT_TEXT_BYTES), c.bad.get(0).getText());
    assertTrue(c.bad.get(0).getMessage().contains("2,001"), c.bad.get(0).getMessage());
    String json = "{\"request_id\":\"r1\",\"prompt\":\"" + "é".repeat(5_000) + "\"}";
    Collected j = parse("/m/x.jsonl", json + "\n");
    assertEquals(RejectReason.PROMPT_TOO_LONG, j.bad.get(0).getReason());
    assertEquals("r1", j.bad.get(0).getRequestId());
    // 1,024 bytes are 29 ASCII characters and 497.5 two-byte ones: the half is dropped.
    assertEquals(json.substring(0, 29 + 497), j.bad.get(0).getText());
    Collected label = parse("/m/x.jsonl", "{\"class_label\":\"" + "x".repeat(3_000) + "\"}");
    assertEquals(RejectReason.PROMPT_TOO_LONG, label.bad.get(0).getReason());
    assertTrue(label.bad.get(0).getMessage().contains("class_label is 3,000 characters"));
  }

  @Test
  void tagsOverTheirLimitsAreRejected() throws IOException {
    StringBuilder many = new StringBuilder("{\"class_id\":1,\"tags\":{");
    for (int i = 0; i <= RequestLimits.MAX_TAGS; i++) {
      many.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":\"v\"");
    }
    many.append("}}");
    assertEquals(RejectReason.TAGS_TOO_LARGE, onlyReason("/m/x.jsonl", many.toString()));
    assertEquals(
        RejectReason.TAGS_TOO_LARGE,
        onlyReason("/m/x.jsonl", "{\"class_id\":1,\"tags\":{\"k\":\"" + "v".repeat(257) + "\"}}"));
    assertEquals(
        RejectReason.TAGS_TOO_LARGE,
        onlyReason("/m/x.jsonl", "{\"class_id\":1,\"tags\":{\"" + "k".repeat(129) + "\":\"v\"}}"));
  }

  // --- Duplicate JSON keys. ---

  @Test
  void aFieldNamedTwiceIsRejectedNamingIt() throws IOException {
    String f = "/m/x.jsonl";
    Collected c = parse(f, "{\"request_id\":\"x\",\"class_id\":3,\"class_id\":4}\n");
    assertEquals(List.of(), c.good);
    assertEquals(RejectReason.DUPLICATE_FIELD, c.bad.get(0).getReason());
    assertTrue(c.bad.get(0).getMessage().contains("'class_id'"), c.bad.get(0).getMessage());
    Collected spelled = parse(f, "{\"class_id\":3,\"classId\":4}\n");
    assertEquals(RejectReason.DUPLICATE_FIELD, spelled.bad.get(0).getReason());
    assertTrue(spelled.bad.get(0).getMessage().contains("'classId'"));
    assertEquals(
        RejectReason.DUPLICATE_FIELD,
        onlyReason(f, "{\"class_id\":1,\"tier\":{\"steps\":2,\"steps\":3}}"));
    assertEquals(
        RejectReason.DUPLICATE_FIELD,
        onlyReason(f, "{\"class_id\":1,\"numImages\":2,\"tier\":{},\"num_images\":3}"));
    assertEquals(
        RejectReason.DUPLICATE_FIELD,
        onlyReason(f, "{\"class_id\":1,\"tags\":{\"a\":\"1\",\"a\":\"2\"}}"));
    assertEquals(
        RejectReason.DUPLICATE_FIELD, onlyReason(f, "{\"class_id\":1,\"colour\":1,\"colour\":2}"));
    // Tag names are data, not fields: two spellings are two tags.
    Collected tags = parse(f, "{\"class_id\":1,\"tags\":{\"a_b\":\"1\",\"aB\":\"2\"}}\n");
    assertEquals(List.of(), tags.bad);
    assertEquals(2, tags.good.get(0).getRequest().getTagsCount());
  }

  // --- CSV through Commons CSV. ---

  @Test
  void csvQuotedFieldsMaySpanLines() throws IOException {
    Collected c =
        parse(
            "/m/c.csv",
            "class,count,request_id\r\n"
                + "\"a handwritten\r\nseven\",2,r1\r\n"
                + "\"say \"\"three\"\"\",1,r2\n"
                + "\"multi\n\nline\",many,r3\n"
                + "4,1,\"r4\"\n");
    assertEquals(
        List.of("a handwritten\nseven", "say \"three\""),
        c.good.subList(0, 2).stream().map(r -> r.getRequest().getClassLabel()).toList());
    assertEquals(2, c.good.get(0).getLine());
    assertEquals("\"a handwritten\nseven\",2,r1", c.good.get(0).getText());
    assertEquals(4, c.good.get(1).getLine());
    assertEquals(1, c.bad.size());
    assertEquals(RejectReason.WRONG_TYPE, c.bad.get(0).getReason());
    assertEquals(5, c.bad.get(0).getLine());
    assertEquals("\"multi\n\nline\",many,r3", c.bad.get(0).getText());
    assertEquals(8, c.good.get(2).getLine());
    assertEquals("r4", c.good.get(2).getRequest().getRequestId());
  }

  @Test
  void csvUnclosedQuoteRejectsItsLineAndTheRestIsRead() throws IOException {
    Collected c = parse("/m/c.csv", "class,count\n7,1\n\"8,1\n9,1\n3,\"2\"\n");
    assertEquals(List.of(3L), c.bad.stream().map(DeadLetter::getLine).toList());
    assertEquals(RejectReason.MALFORMED_CSV, c.bad.get(0).getReason());
    assertEquals("\"8,1", c.bad.get(0).getText());
    assertEquals(List.of(2L, 4L, 5L), c.good.stream().map(SourcedRequest::getLine).toList());
    assertEquals(2, c.good.get(2).getRequest().getNumImages());
    // Stray quotes inside unquoted fields: each such line is rejected, its neighbours are read.
    Collected stray = parse("/m/c.csv", "class,count\nse\"ven,1\n3,1\nei\"ght,2\n");
    assertEquals(List.of(2L, 4L), stray.bad.stream().map(DeadLetter::getLine).toList());
    assertEquals(
        List.of(RejectReason.MALFORMED_CSV, RejectReason.MALFORMED_CSV),
        stray.bad.stream().map(DeadLetter::getReason).toList());
    assertEquals("se\"ven,1", stray.bad.get(0).getText());
    assertEquals(List.of(3L), stray.good.stream().map(SourcedRequest::getLine).toList());
    // A header that cannot be read ends the file.
    Collected header = parse("/m/c.csv", "\"class,count\n7,1\n");
    assertEquals(List.of(), header.good);
    assertEquals(1, header.bad.size());
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
