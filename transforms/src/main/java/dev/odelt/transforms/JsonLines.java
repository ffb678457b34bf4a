package dev.odelt.transforms;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;

/**
 * The one JSON style every output of the job uses: proto3 JSON with snake_case field names, map
 * keys sorted, every field printed (zero values included, so class 0 is never missing), one object
 * per line. Printing the same message twice gives identical text.
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
      return LINE.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("Cannot print " + message.getClass().getSimpleName(), e);
    }
  }

  /** One message, indented for people. */
  public static String pretty(MessageOrBuilder message) {
    try {
      return PRETTY.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("Cannot print " + message.getClass().getSimpleName(), e);
    }
  }
}
