package dev.odelt.model.io;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Strict JSON for files from outside (safetensors headers, model and VAE manifests, diffusers
 * configs): RFC 8259 only (no comments, single quotes, unquoted names, NaN or trailing values),
 * valid UTF-8, no name twice in an object, nesting at most {@link InputLimits#MAX_JSON_DEPTH}, at
 * most {@link InputLimits#MAX_JSON_VALUES} values. Numbers keep their text, so {@link #integer} can
 * refuse {@code 2.9}, {@code 1e3} or a value beyond its range instead of rounding or wrapping it.
 */
public final class StrictJson {

  private static final Pattern INTEGER = Pattern.compile("-?(0|[1-9][0-9]{0,18})");

  private StrictJson() {}

  /**
   * Parses {@code bytes} of {@code file}.
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the file and the problem
   */
  public static JsonElement parse(byte[] bytes, String file) throws InvalidModelPackageException {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new InvalidModelPackageException(Problem.MALFORMED, file, "JSON is not UTF-8", e);
    }
    try (JsonReader reader = new JsonReader(new StringReader(text))) {
      reader.setStrictness(Strictness.STRICT);
      JsonElement root = value(reader, file, 0, new int[1]);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED, file, "JSON has more after its value");
      }
      return root;
    } catch (IOException | IllegalStateException | NumberFormatException e) {
      if (e instanceof InvalidModelPackageException i) {
        throw i;
      }
      throw new InvalidModelPackageException(
          Problem.MALFORMED, file, "not strict JSON: " + why(e), e);
    }
  }

  private static JsonElement value(JsonReader reader, String file, int depth, int[] count)
      throws IOException {
    if (++count[0] > InputLimits.MAX_JSON_VALUES) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          "JSON holds more than " + InputLimits.MAX_JSON_VALUES + " values (the limit)");
    }
    if (depth > InputLimits.MAX_JSON_DEPTH) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          "JSON nests deeper than " + InputLimits.MAX_JSON_DEPTH + " (the limit)");
    }
    switch (reader.peek()) {
      case BEGIN_OBJECT -> {
        JsonObject object = new JsonObject();
        reader.beginObject();
        while (reader.hasNext()) {
          String name = reader.nextName();
          if (object.has(name)) {
            throw new InvalidModelPackageException(
                Problem.MALFORMED, file, "JSON names '" + shorten(name) + "' twice in one object");
          }
          object.add(name, value(reader, file, depth + 1, count));
        }
        reader.endObject();
        return object;
      }
      case BEGIN_ARRAY -> {
        JsonArray array = new JsonArray();
        reader.beginArray();
        while (reader.hasNext()) {
          array.add(value(reader, file, depth + 1, count));
        }
        reader.endArray();
        return array;
      }
      case STRING -> {
        return new JsonPrimitive(reader.nextString());
      }
      case NUMBER -> {
        return new JsonPrimitive(new Literal(reader.nextString()));
      }
      case BOOLEAN -> {
        return new JsonPrimitive(reader.nextBoolean());
      }
      case NULL -> {
        reader.nextNull();
        return JsonNull.INSTANCE;
      }
      default ->
          throw new InvalidModelPackageException(
              Problem.MALFORMED, file, "JSON has an unexpected " + reader.peek());
    }
  }

  /**
   * The integer value of {@code element} (field {@code field} of {@code file}): a JSON number
   * written as an integer (no fraction, no exponent) within {@code [min, max]}.
   *
   * @throws InvalidModelPackageException {@link Problem#MALFORMED} naming the field and the limit
   */
  public static long integer(JsonElement element, String file, String field, long min, long max)
      throws InvalidModelPackageException {
    if (element == null
        || !element.isJsonPrimitive()
        || !element.getAsJsonPrimitive().isNumber()
        || !INTEGER.matcher(element.getAsString()).matches()) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          field
              + " must be an integer, got "
              + (element == null ? "nothing" : shorten(String.valueOf(element))));
    }
    BigInteger value = new BigInteger(element.getAsString());
    if (value.compareTo(BigInteger.valueOf(min)) < 0
        || value.compareTo(BigInteger.valueOf(max)) > 0) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          file,
          field + " is " + shorten(value.toString()) + ", the limit is " + min + " to " + max);
    }
    return value.longValue();
  }

  /** A JSON number as written; converted only when asked. */
  private static final class Literal extends Number {
    private static final long serialVersionUID = 1L;
    private final String text;

    Literal(String text) {
      this.text = text;
    }

    @Override
    public int intValue() {
      return (int) longValue();
    }

    @Override
    public long longValue() {
      try {
        return Long.parseLong(text);
      } catch (NumberFormatException e) {
        return (long) doubleValue();
      }
    }

    @Override
    public float floatValue() {
      return (float) doubleValue();
    }

    @Override
    public double doubleValue() {
      return Double.parseDouble(text);
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** Gson's message without its advice to parse leniently or its link. */
  private static String why(Exception e) {
    String m = String.valueOf(e.getMessage());
    m = m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "");
    int see = m.indexOf("\nSee ");
    return (see < 0 ? m : m.substring(0, see)).strip();
  }

  private static String shorten(String s) {
    return s.length() > 60 ? s.substring(0, 60) + "…" : s;
  }
}
