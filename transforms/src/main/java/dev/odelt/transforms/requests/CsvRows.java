package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.RequestedTier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * CSV records of a class manifest, split by Apache Commons CSV ({@link CSVFormat#RFC4180}, spaces
 * around fields ignored), and the header and rows they hold. {@link ManifestParser} cuts the file
 * into records (a line break inside a quoted field continues the record) and hands each one here.
 */
final class CsvRows {

  private static final CSVFormat FORMAT =
      CSVFormat.RFC4180.builder().setIgnoreSurroundingSpaces(true).get();
  private static final Set<String> COLUMNS =
      Set.of("class", "count", "steps", "blocks", "tier", "seed", "request_id");
  private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");

  private CsvRows() {}

  /** How many {@code "} a line holds: odd means a quoted field is still open at its end. */
  static int quotes(String line) {
    int n = 0;
    for (int i = 0; i < line.length(); i++) {
      if (line.charAt(i) == '"') {
        n++;
      }
    }
    return n;
  }

  /**
   * The records Commons CSV reads from {@code text}: one for a well-formed record; more when a
   * stray quote made the record's lines look like one quoted field.
   */
  static List<List<String>> records(String text) throws RejectedRequestException {
    try (CSVParser parser = CSVParser.parse(text, FORMAT)) {
      List<List<String>> out = new ArrayList<>();
      for (CSVRecord record : parser.getRecords()) {
        out.add(record.toList());
      }
      return out;
    } catch (IOException | UncheckedIOException e) {
      String message = String.valueOf(e.getMessage());
      throw new RejectedRequestException(
          RejectReason.MALFORMED_CSV,
          message.contains("between encapsulated token and delimiter")
              ? "Text follows the closing quote of a field (RFC 4180: a quoted field ends at a"
                  + " comma or the end of the row; write a quote inside it as \"\")."
              : "The row is not valid CSV (RFC 4180): " + JsonRequests.firstLine(message));
    }
  }

  /**
   * The columns a header names, in order; {@code class} may be absent when {@code classRequired}
   * is false (an unconditional model).
   */
  static List<String> header(List<String> cells, boolean classRequired)
      throws RejectedRequestException {
    List<String> columns = new ArrayList<>();
    for (String cell : cells) {
      String name = cell.strip().toLowerCase(Locale.ROOT);
      if (!COLUMNS.contains(name)) {
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
          classRequired
              ? "The CSV header must name the columns class and count. The file was not read."
              : "The CSV header must name the column count. The file was not read.");
    }
    return columns;
  }

  /** The request one row under {@code columns} asks for. */
  static GenerationRequest request(List<String> columns, List<String> cells)
      throws RejectedRequestException {
    if (cells.size() != columns.size()) {
      throw new RejectedRequestException(
          RejectReason.MALFORMED_CSV,
          "The row has " + cells.size() + " fields but the header has " + columns.size() + ".");
    }
    Map<String, String> row = new HashMap<>();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i).strip();
      if (!cell.isEmpty()) {
        row.put(columns.get(i), cell);
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
      if (!row.containsKey("count")) {
        throw new RejectedRequestException(
            RejectReason.NUM_IMAGES_OUT_OF_RANGE, "The row has no count.");
      }
      b.setNumImages(integer("count", row.get("count")));
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
    } catch (ArithmeticException e) {
      throw new RejectedRequestException(
          RejectReason.WRONG_TYPE, "steps or blocks is out of range.");
    }
    return b.build();
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
}
