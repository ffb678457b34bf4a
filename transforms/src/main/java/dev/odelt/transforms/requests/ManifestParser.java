package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.SourcedRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Parses one manifest, line by line, into {@link SourcedRequest}s and {@link DeadLetter}s. Plain
 * Java (the {@link ParseRequests} transform wraps it). Blank lines, and lines starting with {@code
 * #} in prompt lists, are skipped. A file with no request at all is one {@code EMPTY_FILE} dead
 * letter; a file that is not UTF-8 text ({@link TextSniffer}) is one {@code NOT_TEXT} dead letter
 * and nothing else. Each bad line is one dead letter; its neighbours are unaffected.
 *
 * <p>Limits ({@link RequestLimits}): a line is read with a bounded buffer; one over {@value
 * RequestLimits#MAX_LINE_BYTES} bytes is a {@code LINE_TOO_LONG} dead letter that keeps its first
 * {@value RequestLimits#KEPT_TEXT_BYTES} bytes. JSON lines naming a field twice (in either
 * spelling) are {@code DUPLICATE_FIELD}.
 *
 * <p>CSV: RFC 4180 through Apache Commons CSV, including quoted fields that span lines (a line
 * ending inside a quoted field continues the record; its dead letters carry the record's first line
 * number and its whole text, lines joined by {@code \n}); a record is at most {@value
 * RequestLimits#MAX_LINE_BYTES} bytes. A quote left open at the end of the file or of that limit is
 * a {@code MALFORMED_CSV} dead letter for the line that opened it, and reading resumes on the next
 * line. A header naming {@code class} and {@code count} (required; {@code class} not for an
 * unconditional model, see {@link #withSubjectRequired}) and optionally {@code steps},
 * {@code blocks}, {@code tier}, {@code seed}, {@code request_id}, in any order and case. A header
 * with a missing or unknown column is one dead letter on its line and the rest of that file is not
 * read.
 */
public final class ManifestParser implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Receives the results of parsing one manifest. */
  public interface Sink {
    void accept(SourcedRequest request);

    void reject(DeadLetter deadLetter);
  }

  private final long imagesPerPrompt;
  private final String promptTier;
  private final boolean subjectRequired;

  private ManifestParser(long imagesPerPrompt, String promptTier, boolean subjectRequired) {
    this.imagesPerPrompt = imagesPerPrompt;
    this.promptTier = promptTier;
    this.subjectRequired = subjectRequired;
  }

  /** A parser whose prompt lists make one image per prompt with the model's default tier. */
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
    byte[] head = in.readNBytes(TextSniffer.HEAD_BYTES);
    Optional<String> notText = TextSniffer.notText(head, head.length < TextSniffer.HEAD_BYTES);
    if (notText.isPresent()) {
      sink.reject(dead(source, 0, "", RejectReason.NOT_TEXT, notText.get()));
      return;
    }
    LineReader lines =
        new LineReader(
            new SequenceInputStream(new ByteArrayInputStream(head), in),
            RequestLimits.MAX_LINE_BYTES);
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
    boolean header = false;
    if (format == ManifestFormat.CSV) {
      header = parseCsv(source, lines, counting);
    } else {
      Text line;
      while ((line = Text.of(lines.next())) != null) {
        if (line.rejected()) {
          counting.reject(line.dead(source));
        } else if (line.text().isBlank()) {
          continue;
        } else if (format == ManifestFormat.JSONL) {
          parseJson(source, line.number(), line.text(), counting);
        } else if (!line.text().strip().startsWith("#")) {
          parsePrompt(source, line.number(), line.text(), counting);
        }
      }
    }
    if (accepted[0] == 0) {
      sink.reject(
          dead(
              source,
              0,
              "",
              RejectReason.EMPTY_FILE,
              header
                  ? "The CSV manifest has a header but no rows."
                  : "The manifest holds no requests (it is empty or blank)."));
    }
  }

  private void parseJson(String source, long line, String text, Sink sink) {
    GenerationRequest request;
    try {
      request = JsonRequests.parse(text);
    } catch (RejectedRequestException e) {
      sink.reject(dead(source, line, text, e));
      return;
    }
    emit(source, line, text, request, sink);
  }

  private void parsePrompt(String source, long line, String text, Sink sink) {
    GenerationRequest.Builder b =
        GenerationRequest.newBuilder().setPrompt(text.strip()).setNumImages(imagesPerPrompt);
    if (!promptTier.isEmpty()) {
      b.setTierName(promptTier);
    }
    emit(source, line, text, b.build(), sink);
  }

  /**
   * Parses the CSV records of a file: the first is the header. Returns whether a header was read. A
   * first record that is not a good header is one dead letter and ends the file.
   */
  private boolean parseCsv(String source, LineReader lines, Sink sink) throws IOException {
    CsvRecords records = new CsvRecords(source, lines, sink);
    List<String> header = null;
    CsvRecord record;
    while ((record = records.next()) != null) {
      List<String> cells = records.cells(record);
      if (cells == null) {
        if (header == null) {
          return false;
        }
        continue;
      }
      try {
        if (header == null) {
          header = CsvRows.header(cells, subjectRequired);
          continue;
        }
        emit(source, record.line(), record.text(), CsvRows.request(header, cells), sink);
      } catch (RejectedRequestException e) {
        sink.reject(dead(source, record.line(), record.text(), e));
        if (header == null) {
          return false;
        }
      }
    }
    return header != null;
  }

  /**
   * One CSV record: its first line's number, its text (lines joined by {@code \n}), its lines, and,
   * when it could not be completed, why ({@code reason} non-null).
   */
  private record CsvRecord(
      long line, String text, List<Text> lines, RejectReason reason, String message) {}

  /**
   * Cuts lines into CSV records: a line ending inside a quoted field (an odd count of quotes so
   * far) continues the record, up to {@value RequestLimits#MAX_LINE_BYTES} bytes. A quote still
   * open at the end of the file or of that limit rejects the line that opened it; the lines after
   * it are read again as rows of their own.
   */
  private static final class CsvRecords {
    private final String source;
    private final LineReader lines;
    private final Sink sink;
    // Lines read ahead for a record that did not close, to be read again.
    private final Deque<Text> again = new ArrayDeque<>();

    CsvRecords(String source, LineReader lines, Sink sink) {
      this.source = source;
      this.lines = lines;
      this.sink = sink;
    }

    private Text line() throws IOException {
      return again.isEmpty() ? Text.of(lines.next()) : again.pollFirst();
    }

    /** Puts back the lines of {@code record} after its first, to be read again. */
    private void rereadAfterFirst(CsvRecord record) {
      for (int i = record.lines().size() - 1; i >= 1; i--) {
        again.addFirst(record.lines().get(i));
      }
    }

    /** The next record, blank lines skipped; null at the end of the file. */
    CsvRecord next() throws IOException {
      Text first;
      do {
        first = line();
        if (first == null) {
          return null;
        }
      } while (!first.rejected() && first.text().isBlank());
      if (first.rejected()) {
        return new CsvRecord(
            first.number(), first.text(), List.of(first), first.reason(), first.message());
      }
      List<Text> taken = new ArrayList<>(List.of(first));
      StringBuilder text = new StringBuilder(first.text());
      long bytes = first.bytes();
      boolean open = CsvRows.quotes(first.text()) % 2 == 1;
      while (open) {
        Text next = line();
        if (next != null && next.rejected()) {
          // A bad line inside a quoted field spoils the record it belongs to.
          taken.add(next);
          return new CsvRecord(
              first.number(),
              next.reason() == RejectReason.LINE_TOO_LONG
                  ? keptText(text.toString())
                  : text + "\n" + next.text(),
              taken,
              next.reason(),
              "Line " + next.number() + " of this CSV record: " + next.message());
        }
        if (next == null || bytes + 1 + next.bytes() > RequestLimits.MAX_LINE_BYTES) {
          if (next != null) {
            again.addFirst(next);
          }
          CsvRecord unclosed =
              new CsvRecord(
                  first.number(),
                  first.text(),
                  taken,
                  RejectReason.MALFORMED_CSV,
                  "A quoted field that starts on this line is not closed "
                      + (next == null
                          ? "before the end of the file"
                          : String.format(
                              Locale.ROOT,
                              "within %,d bytes (the limit of a CSV record)",
                              RequestLimits.MAX_LINE_BYTES))
                      + "; the lines after it are read as rows of their own.");
          rereadAfterFirst(unclosed);
          return unclosed;
        }
        taken.add(next);
        text.append('\n').append(next.text());
        bytes += 1 + next.bytes();
        open = CsvRows.quotes(next.text()) % 2 == 0;
      }
      return new CsvRecord(first.number(), text.toString(), taken, null, "");
    }

    /** The fields of a record (Commons CSV), or null when it is rejected (sent to the sink). */
    List<String> cells(CsvRecord record) {
      if (record.reason() != null) {
        sink.reject(dead(source, record.line(), record.text(), record.reason(), record.message()));
        return null;
      }
      List<List<String>> parsed;
      try {
        parsed = CsvRows.records(record.text());
      } catch (RejectedRequestException e) {
        sink.reject(dead(source, record.line(), record.text(), e));
        return null;
      }
      if (parsed.size() != 1) {
        // A stray quote joined lines that are rows of their own: reject the first, reread the rest.
        rereadAfterFirst(record);
        sink.reject(
            dead(
                source,
                record.line(),
                record.lines().get(0).text(),
                RejectReason.MALFORMED_CSV,
                "The line has an unbalanced quote: RFC 4180 allows quotes only around a whole"
                    + " field, doubled inside it."));
        return null;
      }
      return parsed.get(0);
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
      String kept = e.reason() == RejectReason.PROMPT_TOO_LONG ? keptText(text) : text;
      DeadLetter.Builder d = dead(source, line, kept, e).toBuilder();
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

  /**
   * The first {@value RequestLimits#KEPT_TEXT_BYTES} bytes of an oversized text, cut at a character
   * boundary: what its dead letter keeps.
   */
  static String keptText(String text) {
    return keptText(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String keptText(byte[] utf8) {
    int n = Math.min(utf8.length, RequestLimits.KEPT_TEXT_BYTES);
    if (n < utf8.length) {
      // Back up over continuation bytes to the start of the character that the cut splits.
      int start = n;
      while (start > 0 && (utf8[start] & 0xC0) == 0x80) {
        start--;
      }
      n = start;
    }
    return new String(utf8, 0, n, StandardCharsets.UTF_8);
  }

  /** A line decoded as UTF-8, or why it could not be ({@code reason} non-null). */
  private record Text(long number, long bytes, String text, RejectReason reason, String message) {

    /** Decodes a line read by {@link LineReader}; null for null (the end of the file). */
    static Text of(Line line) {
      if (line == null) {
        return null;
      }
      if (line.length() > line.bytes().length) {
        return new Text(
            line.number(),
            line.length(),
            keptText(line.bytes()),
            RejectReason.LINE_TOO_LONG,
            String.format(
                Locale.ROOT,
                "The line is %,d bytes long; the limit is %,d bytes. Only its first %,d bytes are"
                    + " kept here.",
                line.length(),
                RequestLimits.MAX_LINE_BYTES,
                RequestLimits.KEPT_TEXT_BYTES));
      }
      String text;
      try {
        text =
            StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(line.bytes()))
                .toString();
      } catch (CharacterCodingException e) {
        return new Text(
            line.number(),
            line.length(),
            new String(line.bytes(), StandardCharsets.UTF_8),
            RejectReason.NOT_UTF8,
            "The line is not valid UTF-8 text.");
      }
      if (line.number() == 1 && text.startsWith("\uFEFF")) {
        text = text.substring(1);
      }
      return new Text(line.number(), line.length(), text, null, "");
    }

    boolean rejected() {
      return reason != null;
    }

    DeadLetter dead(String source) {
      return ManifestParser.dead(source, number, text, reason, message);
    }
  }

  /**
   * A line without its line break: its number from 1, its length in bytes, and its bytes, of which
   * only the first {@code max} are kept when it is longer (then {@code bytes.length < length}).
   */
  private record Line(long number, byte[] bytes, long length) {}

  /**
   * Splits a byte stream at '\n' (dropping a trailing '\r'), counting lines from 1. Holds at most
   * {@code max + 1} bytes of a line however long it is: the rest is counted, not kept.
   */
  private static final class LineReader {
    private final InputStream in;
    private final int max;
    private final byte[] buffer = new byte[1 << 16];
    private int pos;
    private int limit;
    private long number;
    private boolean eof;
    private byte[] line = new byte[256];

    LineReader(InputStream in, int max) {
      this.in = in;
      this.max = max;
    }

    /** The next line, or null at the end of the stream. */
    Line next() throws IOException {
      int kept = 0;
      long length = 0;
      boolean any = false;
      boolean endsInCr = false;
      while (true) {
        if (pos == limit) {
          if (eof) {
            break;
          }
          limit = in.read(buffer);
          pos = 0;
          if (limit <= 0) {
            limit = 0;
            eof = true;
            break;
          }
        }
        any = true;
        int start = pos;
        while (pos < limit && buffer[pos] != '\n') {
          pos++;
        }
        int n = pos - start;
        if (n > 0) {
          int keep = (int) Math.min(n, max + 1L - kept);
          if (keep > 0) {
            if (kept + keep > line.length) {
              line = Arrays.copyOf(line, Math.min(max + 1, Math.max(kept + keep, 2 * line.length)));
            }
            System.arraycopy(buffer, start, line, kept, keep);
            kept += keep;
          }
          length += n;
          endsInCr = buffer[pos - 1] == '\r';
        }
        if (pos < limit) {
          pos++;
          break;
        }
      }
      if (!any) {
        return null;
      }
      number++;
      if (endsInCr) {
        length--;
      }
      return new Line(
          number, Arrays.copyOf(line, (int) Math.min(kept, Math.min(length, max))), length);
    }
  }
}
