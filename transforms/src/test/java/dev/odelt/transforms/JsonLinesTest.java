package dev.odelt.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.RejectReason;
import java.io.StringReader;
import org.junit.jupiter.api.Test;

class JsonLinesTest {

  private static DeadLetter letter(String message, String text) {
    return DeadLetter.newBuilder()
        .setSource("/m/é.jsonl")
        .setLine(3)
        .setText(text)
        .setReason(RejectReason.UNRESOLVED_PROMPT)
        .setMessage(message)
        .setStage("resolve")
        .build();
  }

  private static DeadLetter parseBack(String json) throws InvalidProtocolBufferException {
    JsonReader strict = new JsonReader(new StringReader(json));
    strict.setStrictness(Strictness.STRICT);
    JsonParser.parseReader(strict);
    DeadLetter.Builder b = DeadLetter.newBuilder();
    JsonFormat.parser().merge(json, b);
    return b.build();
  }

  @Test
  void apostrophesAndNonAsciiAppearLiterally() throws InvalidProtocolBufferException {
    DeadLetter d =
        letter(
            "The prompt 'a zèbre' is not one of the model's classes <a & b = c>.",
            "{\"prompt\":\"a zèbre\"}");
    for (String json : new String[] {JsonLines.line(d), JsonLines.pretty(d)}) {
      assertTrue(json.contains("'a zèbre' is not one of the model's classes <a & b = c>."), json);
      assertTrue(json.contains("/m/é.jsonl"), json);
      assertFalse(json.contains("\\u00"), json);
      assertEquals(d, parseBack(json));
    }
  }

  @Test
  void escapesThatJsonNeedsStayAndBackslashesSurvive() throws InvalidProtocolBufferException {
    // A literal backslash-u sequence in the data must not be mistaken for an escape.
    DeadLetter d = letter("quote \" tab \t newline \n nul \0 sep \u2028", "a\\u0027b \\\\u003c '");
    String json = JsonLines.line(d);
    assertFalse(json.contains("\n"), "one line: " + json);
    assertTrue(json.contains("\\\"") && json.contains("\\t") && json.contains("\\n"), json);
    assertTrue(json.contains("\\u0000") && json.contains("\\u2028"), json);
    assertTrue(json.contains("a\\\\u0027b \\\\\\\\u003c '"), json);
    assertEquals(d, parseBack(json));
    assertEquals(d, parseBack(JsonLines.pretty(d)));
  }
}
