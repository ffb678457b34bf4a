package dev.odelt.transforms.requests;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.RequestedTier;
import dev.odelt.proto.v1.SourcedRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Parses one manifest, line by line, into {@link SourcedRequest}s and {@link DeadLetter}s. Plain
 * Java (the {@link ParseRequests} transform wraps it). Blank lines, and lines starting with {@code
 * #} in prompt lists, are skipped. A file with no request at all is one {@code EMPTY_FILE} dead
 * letter. Each bad line is one dead letter; its neighbours are unaffected.
 *
 * <p>CSV: RFC 4180 quoting; a header naming {@code class} and {@code count} (required; {@code
 * class} not for an unconditional model, see {@link #withSubjectRequired}) and optionally {@code
 * steps}, {@code blocks}, {@code tier}, {@code seed}, {@code request_id}, in any order and case. A
 * header with a missing or unknown column is one dead letter on line 1 and the rest of that file is
 * not read.
 */
public final class ManifestParser implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Receives the results of parsing one manifest. */
  public interface Sink {
    void accept(SourcedRequest request);

    void reject(DeadLetter deadLetter);
  }

  private static final Set<String> CSV_COLUMNS =
      Set.of("class", "count", "steps", "blocks", "tier", "seed", "request_id");
  private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");

  private final long imagesPerPrompt;
  private final String promptTier;
  private final boolean subjectRequired;

  private ManifestParser(long imagesPerPrompt, String promptTier, boolean subjectRequired) {
    this.imagesPerPrompt = imagesPerPrompt;
    this.promptTier = promptTier;
    this.subjectRequired = subjectRequired;
  }

  /**
   * A parser whose prompt lists make one image per prompt with the model's default tier, and that
   * requires a subject in every request.
   */
  public static ManifestParser create() {
    return new ManifestParser(1, "", true);
  }

  /**
   * Whether every request must name a subject (the default); false for an unconditional model,
   * whose requests name none (a CSV header then needs no {@code class} column).
   */
  public ManifestParser withSubjectRequired(boolean required) {
    return new ManifestParser(imagesPerPrompt, promptTier, required);
  }

  /** For {@code .txt} manifests: images per prompt (≥ 1). */
  public ManifestParser withImagesPerPrompt(long count) {
    if (count < 1 || count > RequestLimits.MAX_IMAGES_PER_REQUEST) {
      throw new IllegalArgumentException(
          "imagesPerPrompt must be in [1, " + RequestLimits.MAX_IMAGES_PER_REQUEST + "]: " + count);
    }
    return new ManifestParser(count, promptTier, subjectRequired);
  }

  /** For {@code .txt} manifests: a preset name or tier label; empty means the model default. */
  public ManifestParser withPromptTier(String tier) {
    return new ManifestParser(imagesPerPrompt, tier == null ? "" : tier.trim(), subjectRequired);
  }

  /** Parses a whole manifest read from {@code in}; the caller closes the stream. */
  public void parse(String source, InputStream in, Sink sink) throws IOException {
    ManifestFormat format = ManifestFormat.of(source).orElse(null);
    if (format == null) {
      sink.reject(
          dead(
              source,
              0,
              "",
              RejectReason.UNSUPPORTED_FORMAT,
              "Unknown manifest format: the name must end in .jsonl, .csv or .txt."));
      return;
    }
    LineReader lines = new LineReader(in);
    int[] accepted = {0};
    Sink counting =
        new Sink() {
          @Override
          public void accept(SourcedRequest request) {
            accepted[0]++;
            sink.accept(request);
          }

          @Override
          public void reject(DeadLetter deadLetter) {
            accepted[0]++;
            sink.reject(deadLetter);
          }
        };
    CsvHeader header = null;
    byte[] raw;
    while ((raw = lines.next()) != null) {
      long line = lines.number();
      String text;
      try {
        text = decodeStrict(raw);
      } catch (CharacterCodingException e) {
        counting.reject(
            dead(
                source,
                line,
                new String(raw, StandardCharsets.UTF_8),
                RejectReason.NOT_UTF8,
                "The line is not valid UTF-8 text."));
        continue;
      }
      if (line == 1 && text.startsWith("\uFEFF")) {
        text = text.substring(1);
      }
      if (text.isBlank()) {
        continue;
      }
      switch (format) {
        case JSONL:
          parseJson(source, line, text, counting);
          break;
        case TXT:
          if (!text.strip().startsWith("#")) {
            parsePrompt(source, line, text, counting);
          }
          break;
        case CSV:
          if (header == null) {
            try {
              header = CsvHeader.parse(text, subjectRequired);
            } catch (RejectedRequestException e) {
              counting.reject(dead(source, line, text, e));
              return;
            }
          } else {
            parseCsvRow(source, line, text, header, counting);
          }
          break;
      }
    }
    if (accepted[0] == 0) {
      sink.reject(
          dead(
              source,
              0,
              "",
              RejectReason.EMPTY_FILE,
              format == ManifestFormat.CSV && header != null
                  ? "The CSV manifest has a header but no rows."
                  : "The manifest holds no requests (it is empty or blank)."));
    }
  }

  private void parseJson(String source, long line, String text, Sink sink) {
    try {
      JsonReader reader = new JsonReader(new StringReader(text));
      reader.setStrictness(Strictness.STRICT);
      JsonElement element = JsonParser.parseReader(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new JsonParseException("text after the JSON object");
      }
      if (!element.isJsonObject()) {
        throw new JsonParseException("a request must be a JSON object {...}");
      }
    } catch (JsonParseException | IOException | IllegalStateException e) {
      sink.reject(
          dead(
              source,
              line,
              text,
              RejectReason.MALFORMED_JSON,
              "The line is not a valid JSON object: " + firstLine(e.getMessage())));
      return;
    }
    GenerationRequest.Builder b = GenerationRequest.newBuilder();
    try {
      JsonFormat.parser().merge(text, b);
    } catch (InvalidProtocolBufferException e) {
      String message = firstLine(e.getMessage());
      boolean unknown = message.contains("Cannot find field");
      sink.reject(
          dead(
              source,
              line,
              text,
              unknown ? RejectReason.UNKNOWN_FIELD : RejectReason.WRONG_TYPE,
              (unknown ? "Unknown field: " : "A field has the wrong type or value: ") + message));
      return;
    }
    emit(source, line, text, b.build(), sink);
  }

  private void parsePrompt(String source, long line, String text, Sink sink) {
    GenerationRequest.Builder b =
        GenerationRequest.newBuilder().setPrompt(text.strip()).setNumImages(imagesPerPrompt);
    if (!promptTier.isEmpty()) {
      b.setTierName(promptTier);
    }
    emit(source, line, text, b.build(), sink);
  }

  private void parseCsvRow(String source, long line, String text, CsvHeader header, Sink sink) {
    List<String> cells;
    try {
      cells = splitCsv(text);
    } catch (RejectedRequestException e) {
      sink.reject(dead(source, line, text, e));
      return;
    }
    if (cells.size() != header.columns.size()) {
      sink.reject(
          dead(
              source,
              line,
              text,
              RejectReason.MALFORMED_CSV,
              "The row has "
                  + cells.size()
                  + " fields but the header has "
                  + header.columns.size()
                  + "."));
      return;
    }
    Map<String, String> row = new HashMap<>();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i).strip();
      if (!cell.isEmpty()) {
        row.put(header.columns.get(i), cell);
      }
    }
    GenerationRequest.Builder b = GenerationRequest.newBuilder();
    try {
      String subject = row.get("class");
      if (subject != null) {
        if (INTEGER.matcher(subject).matches()) {
          b.setClassId(integer("class", subject));
        } else {
          b.setClassLabel(subject);
        }
      }
      if (row.containsKey("count")) {
        b.setNumImages(integer("count", row.get("count")));
      } else {
        throw new RejectedRequestException(
            RejectReason.NUM_IMAGES_OUT_OF_RANGE, "The row has no count.");
      }
      if (row.containsKey("steps") || row.containsKey("blocks")) {
        RequestedTier.Builder tier = RequestedTier.newBuilder();
        if (row.containsKey("steps")) {
          tier.setSteps(Math.toIntExact(integer("steps", row.get("steps"))));
        }
        if (row.containsKey("blocks")) {
          tier.setBlocks(Math.toIntExact(integer("blocks", row.get("blocks"))));
        }
        b.setTier(tier);
      }
      if (row.containsKey("tier")) {
        b.setTierName(row.get("tier"));
      }
      if (row.containsKey("seed")) {
        b.setSeed(integer("seed", row.get("seed")));
      }
      if (row.containsKey("request_id")) {
        b.setRequestId(row.get("request_id"));
      }
    } catch (RejectedRequestException e) {
      sink.reject(dead(source, line, text, e));
      return;
    } catch (ArithmeticException e) {
      sink.reject(
          dead(source, line, text, RejectReason.WRONG_TYPE, "steps or blocks is out of range."));
      return;
    }
    emit(source, line, text, b.build(), sink);
  }

  private static long integer(String column, String value) throws RejectedRequestException {
    if (!INTEGER.matcher(value).matches()) {
      throw new RejectedRequestException(
          RejectReason.WRONG_TYPE,
          "Column '" + column + "' must be an integer, got '" + value + "'.");
    }
    try {
      return Long.parseLong(value.startsWith("+") ? value.substring(1) : value);
    } catch (NumberFormatException e) {
      throw new RejectedRequestException(
          RejectReason.WRONG_TYPE, "Column '" + column + "' is too large: '" + value + "'.");
    }
  }

  private void emit(
      String source, long line, String text, GenerationRequest request, Sink sink) {
    try {
      GenerationRequest checked = RequestChecks.check(request, source, line, subjectRequired);
      sink.accept(
          SourcedRequest.newBuilder()
              .setRequest(checked)
              .setSource(source)
              .setLine(line)
              .setText(text)
              .build());
    } catch (RejectedRequestException e) {
      DeadLetter.Builder d = dead(source, line, text, e).toBuilder();
      if (!request.getRequestId().isEmpty() && e.reason() != RejectReason.UNSAFE_REQUEST_ID) {
        d.setRequestId(request.getRequestId());
      }
      sink.reject(d.build());
    }
  }

  static DeadLetter dead(String source, long line, String text, RejectedRequestException e) {
    return dead(source, line, text, e.reason(), e.getMessage()).toBuilder()
        .addAllSuggestions(e.suggestions())
        .build();
  }

  static DeadLetter dead(
      String source, long line, String text, RejectReason reason, String message) {
    return DeadLetter.newBuilder()
        .setSource(source)
        .setLine(line)
        .setText(text)
        .setReason(reason)
        .setMessage(message)
        .setStage("parse")
        .build();
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  private static String decodeStrict(byte[] raw) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(raw))
        .toString();
  }

  /** Splits one CSV record (RFC 4180 quoting, no embedded line breaks). */
  static List<String> splitCsv(String text) throws RejectedRequestException {
    List<String> out = new ArrayList<>();
    StringBuilder cell = new StringBuilder();
    boolean quoted = false;
    boolean wasQuoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
            cell.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          cell.append(c);
        }
      } else if (c == ',') {
        out.add(cell.toString());
        cell.setLength(0);
        wasQuoted = false;
      } else if (c == '"') {
        if (wasQuoted || !cell.toString().isBlank()) {
          throw new RejectedRequestException(
              RejectReason.MALFORMED_CSV, "A quote appears inside an unquoted field.");
        }
        cell.setLength(0);
        quoted = true;
        wasQuoted = true;
      } else {
        if (wasQuoted && !Character.isWhitespace(c)) {
          throw new RejectedRequestException(
              RejectReason.MALFORMED_CSV, "Text follows the closing quote of a field.");
        }
        cell.append(c);
      }
    }
    if (quoted) {
      throw new RejectedRequestException(
          RejectReason.MALFORMED_CSV, "A quoted field is not closed.");
    }
    out.add(cell.toString());
    return out;
  }

  private static final class CsvHeader {
    final List<String> columns;

    private CsvHeader(List<String> columns) {
      this.columns = columns;
    }

    static CsvHeader parse(String text, boolean classRequired) throws RejectedRequestException {
      List<String> columns = new ArrayList<>();
      for (String cell : splitCsv(text)) {
        String name = cell.strip().toLowerCase(Locale.ROOT);
        if (!CSV_COLUMNS.contains(name)) {
          throw new RejectedRequestException(
              RejectReason.UNKNOWN_FIELD,
              "Unknown CSV column '"
                  + cell.strip()
                  + "'; the columns are class, count (required), steps, blocks, tier, seed,"
                  + " request_id. The file was not read.");
        }
        if (columns.contains(name)) {
          throw new RejectedRequestException(
              RejectReason.MALFORMED_CSV,
              "The CSV header names column '" + name + "' twice. The file was not read.");
        }
        columns.add(name);
      }
      if (classRequired && !columns.contains("class") || !columns.contains("count")) {
        throw new RejectedRequestException(
            RejectReason.MALFORMED_CSV,
            "The CSV header must name the columns class and count. The file was not read.");
      }
      return new CsvHeader(columns);
    }
  }

  /** Splits a byte stream at '\n' (dropping a trailing '\r'), counting lines from 1. */
  private static final class LineReader {
    private final InputStream in;
    private final byte[] buffer = new byte[1 << 16];
    private int pos;
    private int limit;
    private long number;
    private boolean eof;

    LineReader(InputStream in) {
      this.in = in;
    }

    long number() {
      return number;
    }

    byte[] next() throws IOException {
      if (eof) {
        return null;
      }
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      boolean any = false;
      while (true) {
        if (pos == limit) {
          limit = in.read(buffer);
          pos = 0;
          if (limit <= 0) {
            limit = 0;
            eof = true;
            if (!any) {
              return null;
            }
            break;
          }
        }
        any = true;
        int start = pos;
        while (pos < limit && buffer[pos] != '\n') {
          pos++;
        }
        line.write(buffer, start, pos - start);
        if (pos < limit) {
          pos++;
          break;
        }
      }
      number++;
      byte[] bytes = line.toByteArray();
      if (bytes.length > 0 && bytes[bytes.length - 1] == '\r') {
        return Arrays.copyOf(bytes, bytes.length - 1);
      }
      return bytes;
    }
  }
}
