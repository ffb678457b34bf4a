package dev.odelt.transforms.requests;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.RejectReason;
import java.io.IOException;
import java.io.StringReader;
import java.util.HashMap;
import java.util.Map;

/**
 * One JSONL line to a {@link GenerationRequest}: strict JSON holding one object ({@code
 * MALFORMED_JSON}), no field named twice in any spelling, {@code class_id} and {@code classId}
 * being one field, and no tag named twice ({@code DUPLICATE_FIELD}), then proto3 JSON ({@code
 * UNKNOWN_FIELD}, {@code WRONG_TYPE}).
 */
final class JsonRequests {

  private JsonRequests() {}

  static GenerationRequest parse(String text) throws RejectedRequestException {
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.STRICT);
      if (reader.peek() != JsonToken.BEGIN_OBJECT) {
        throw new RejectedRequestException(
            RejectReason.MALFORMED_JSON,
            "The line is not a valid JSON object: a request must be a JSON object {...}");
      }
      checkValue(reader, GenerationRequest.getDescriptor(), false, "");
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new RejectedRequestException(
            RejectReason.MALFORMED_JSON,
            "The line is not a valid JSON object: text after the JSON object");
      }
    } catch (IOException | IllegalStateException e) {
      throw new RejectedRequestException(
          RejectReason.MALFORMED_JSON,
          "The line is not a valid JSON object: " + firstLine(e.getMessage()));
    }
    GenerationRequest.Builder b = GenerationRequest.newBuilder();
    try {
      JsonFormat.parser().merge(text, b);
    } catch (InvalidProtocolBufferException e) {
      String message = firstLine(e.getMessage());
      boolean unknown = message.contains("Cannot find field");
      throw new RejectedRequestException(
          unknown ? RejectReason.UNKNOWN_FIELD : RejectReason.WRONG_TYPE,
          (unknown ? "Unknown field: " : "A field has the wrong type or value: ") + message);
    }
    return b.build();
  }

  /**
   * Reads one JSON value, checking every object in it for names given twice. {@code message} is the
   * proto message the value is parsed as (null when unknown); {@code map} says the object is a
   * proto map, whose keys are data and are compared as written.
   */
  private static void checkValue(JsonReader reader, Descriptor message, boolean map, String path)
      throws IOException, RejectedRequestException {
    switch (reader.peek()) {
      case BEGIN_OBJECT:
        reader.beginObject();
        Map<String, String> seen = new HashMap<>();
        while (reader.hasNext()) {
          String name = reader.nextName();
          FieldDescriptor field = map || message == null ? null : field(message, name);
          String canonical = field == null ? name : field.getName();
          String earlier = seen.putIfAbsent(canonical, name);
          String where = path.isEmpty() ? canonical : path + "." + canonical;
          if (earlier != null) {
            throw new RejectedRequestException(
                RejectReason.DUPLICATE_FIELD,
                (map ? "The key '" : "The field '")
                    + where
                    + "' is given twice"
                    + (earlier.equals(name)
                        ? ""
                        : " (as '"
                            + earlier
                            + "' and as '"
                            + name
                            + "', two spellings of one field)")
                    + "; give it once.");
          }
          Descriptor child = null;
          boolean childMap = false;
          if (map) {
            FieldDescriptor value = message == null ? null : message.findFieldByName("value");
            child =
                value != null && value.getType() == FieldDescriptor.Type.MESSAGE
                    ? value.getMessageType()
                    : null;
          } else if (field != null && field.getType() == FieldDescriptor.Type.MESSAGE) {
            child = field.getMessageType();
            childMap = field.isMapField();
          }
          checkValue(reader, child, childMap, where);
        }
        reader.endObject();
        break;
      case BEGIN_ARRAY:
        reader.beginArray();
        while (reader.hasNext()) {
          checkValue(reader, message, false, path + "[]");
        }
        reader.endArray();
        break;
      default:
        reader.skipValue();
    }
  }

  /** The field a JSON name denotes, by its proto name or its lowerCamel JSON name. */
  private static FieldDescriptor field(Descriptor message, String name) {
    FieldDescriptor byName = message.findFieldByName(name);
    if (byName != null) {
      return byName;
    }
    for (FieldDescriptor f : message.getFields()) {
      if (f.getJsonName().equals(name)) {
        return f;
      }
    }
    return null;
  }

  static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
