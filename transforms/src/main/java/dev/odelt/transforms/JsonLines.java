package dev.odelt.transforms;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

/**
 * The one JSON style every output of the job uses: proto3 JSON with snake_case field names, map
 * keys sorted, every field printed (zero values included, so class 0 is never missing), one object
 * per line. Printing the same message twice gives identical text.
 *
 * <p>Plain UTF-8 JSON: text appears as written ({@code model's}, {@code <a & b>}, {@code zèbre}).
 * Only what JSON requires is escaped ({@code "}, {@code \\}, control characters), plus U+2028 and
 * U+2029 so that a line stays one line for JavaScript readers too. Protobuf's printer cannot be
 * told to stop escaping {@code < > & = '} (as backslash-u-003c and so on), so its output is
 * un-escaped here, escape by escape.
 */
public final class JsonLines {

  private static final JsonFormat.Printer LINE =
      JsonFormat.printer()
          .preservingProtoFieldNames()
          .alwaysPrintFieldsWithNoPresence()
          .sortingMapKeys()
          .omittingInsignificantWhitespace();

  private static final JsonFormat.Printer PRETTY =
      JsonFormat.printer()
          .preservingProtoFieldNames()
          .alwaysPrintFieldsWithNoPresence()
          .sortingMapKeys();

  private JsonLines() {}

  /** One message on one line, without the line break. */
  public static String line(MessageOrBuilder message) {
    try {
      return plain(LINE.print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("Cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  /** One message, indented for people. */
  public static String pretty(MessageOrBuilder message) {
    try {
      return plain(PRETTY.print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("Cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  /**
   * Replaces the HTML-safe escapes of Gson's default writer (backslash-u followed by 003c, 003e,
   * 0026, 003d or 0027) by the characters themselves. Walks escape by escape, so an escaped
   * backslash followed by "u0027" (data that reads backslash-u-0027) is left alone; in JSON a
   * backslash appears only inside strings and only to start an escape, so nothing else is touched.
   */
  static String plain(String json) {
    int i = json.indexOf('\\');
    if (i < 0) {
      return json;
    }
    StringBuilder sb = new StringBuilder(json.length());
    int copied = 0;
    while (i >= 0) {
      char next = json.charAt(i + 1);
      if (next == 'u') {
        char c = htmlEscaped(json, i + 2);
        if (c != 0) {
          sb.append(json, copied, i).append(c);
          copied = i + 6;
        }
        i = json.indexOf('\\', i + 6);
      } else {
        i = json.indexOf('\\', i + 2);
      }
    }
    return sb.append(json, copied, json.length()).toString();
  }

  /** The character of a Gson HTML-safe escape whose 4 hex digits start at {@code at}, or 0. */
  private static char htmlEscaped(String json, int at) {
    if (!json.startsWith("00", at)) {
      return 0;
    }
    switch (json.substring(at + 2, at + 4)) {
      case "3c":
        return '<';
      case "3e":
        return '>';
      case "26":
        return '&';
      case "3d":
        return '=';
      case "27":
        return '\'';
      default:
        return 0;
    }
  }
}
