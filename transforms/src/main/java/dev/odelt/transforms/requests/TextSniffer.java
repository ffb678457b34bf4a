package dev.odelt.transforms.requests;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * Tells whether a manifest is UTF-8 text from its first {@value #HEAD_BYTES} bytes, so that a
 * binary or wrongly encoded file becomes one {@code NOT_TEXT} dead letter instead of one per
 * "line". A pure function of those bytes: every reader of a file (a split, a retry) reaches the
 * same verdict.
 *
 * <p>The rule, in order:
 *
 * <ol>
 *   <li>a UTF-32 or UTF-16 byte-order mark ({@code FF FE 00 00}, {@code 00 00 FE FF}, {@code FF
 *       FE}, {@code FE FF}): that encoding. (A UTF-8 mark, {@code EF BB BF}, is fine.)
 *   <li>a NUL byte: UTF-16 without a mark when NULs sit at the odd (LE) or even (BE) offsets only
 *       and make up at least 40 % of them, else binary.
 *   <li>at least {@value #MIN_INVALID} invalid UTF-8 sequences that outnumber the valid non-ASCII
 *       characters: binary when control characters (other than tab, line feed, form feed and
 *       carriage return) appear too, else text in a single-byte encoding such as Latin-1.
 * </ol>
 *
 * A file that passes may still hold a few bad lines (or bad bytes after its head); those are the
 * usual per-line {@code NOT_UTF8} dead letters.
 */
public final class TextSniffer {

  /** How many leading bytes of a file decide. */
  public static final int HEAD_BYTES = 8 * 1024;

  static final int MIN_INVALID = 8;

  private TextSniffer() {}

  /**
   * Why a file is not UTF-8 text, as a sentence for its dead letter; empty when it is text.
   *
   * @param head the first {@link #HEAD_BYTES} bytes of the file (fewer when the file is shorter)
   * @param wholeFile whether {@code head} is the whole file (then a sequence cut at its end counts
   *     as invalid; otherwise it is assumed to continue)
   */
  public static Optional<String> notText(byte[] head, boolean wholeFile) {
    int n = Math.min(head.length, HEAD_BYTES);
    if (startsWith(head, 0xFF, 0xFE, 0x00, 0x00)) {
      return Optional.of(encoding("is", "UTF-32 LE", "it starts with a UTF-32 LE byte-order mark"));
    }
    if (startsWith(head, 0x00, 0x00, 0xFE, 0xFF)) {
      return Optional.of(encoding("is", "UTF-32 BE", "it starts with a UTF-32 BE byte-order mark"));
    }
    if (startsWith(head, 0xFF, 0xFE)) {
      return Optional.of(encoding("is", "UTF-16 LE", "it starts with a UTF-16 LE byte-order mark"));
    }
    if (startsWith(head, 0xFE, 0xFF)) {
      return Optional.of(encoding("is", "UTF-16 BE", "it starts with a UTF-16 BE byte-order mark"));
    }
    int nulEven = 0;
    int nulOdd = 0;
    int controls = 0;
    for (int i = 0; i < n; i++) {
      int b = head[i] & 0xff;
      if (b == 0) {
        if (i % 2 == 0) {
          nulEven++;
        } else {
          nulOdd++;
        }
      } else if (b < 0x20 && b != '\t' && b != '\n' && b != '\f' && b != '\r') {
        controls++;
      }
    }
    int pairs = n / 2;
    if (nulOdd > 0 && nulOdd * 10 >= pairs * 4 && nulEven * 20 < nulOdd) {
      return Optional.of(
          encoding("looks like", "UTF-16 LE", "no byte-order mark, but every other byte is NUL"));
    }
    if (nulEven > 0 && nulEven * 10 >= pairs * 4 && nulOdd * 20 < nulEven) {
      return Optional.of(
          encoding("looks like", "UTF-16 BE", "no byte-order mark, but every other byte is NUL"));
    }
    if (nulEven + nulOdd > 0) {
      return Optional.of(binary("it contains NUL bytes", head, n));
    }
    int[] counts = utf8(head, n, wholeFile);
    int invalid = counts[0];
    int valid = counts[1];
    if (invalid >= MIN_INVALID && invalid > valid) {
      String why =
          invalid
              + " byte sequences of its first "
              + String.format(Locale.ROOT, "%,d", n)
              + " bytes are not UTF-8";
      if (controls > 0) {
        return Optional.of(binary(why + " and it holds control characters", head, n));
      }
      return Optional.of(
          "The file is not UTF-8 text: "
              + why
              + " (only "
              + valid
              + " are valid UTF-8 characters outside ASCII); it looks like text in a single-byte"
              + " encoding such as Latin-1 or Windows-1252. Save it as UTF-8; nothing was read"
              + " from this file.");
    }
    return Optional.empty();
  }

  private static String encoding(String verb, String name, String evidence) {
    return "The file "
        + verb
        + " "
        + name
        + " text ("
        + evidence
        + "), not UTF-8. Save it as UTF-8; nothing was read from this file.";
  }

  private static String binary(String why, byte[] head, int n) {
    StringBuilder first = new StringBuilder();
    for (int i = 0; i < Math.min(n, 8); i++) {
      first.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%02X", head[i] & 0xff));
    }
    return "The file is not text: it looks binary ("
        + why
        + "; it starts with "
        + first
        + "). A manifest is UTF-8 text; nothing was read from this file.";
  }

  private static boolean startsWith(byte[] head, int... prefix) {
    if (head.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if ((head[i] & 0xff) != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** {invalid sequences, valid non-ASCII characters} of the first {@code n} bytes. */
  private static int[] utf8(byte[] head, int n, boolean wholeFile) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(head, 0, n);
    CharBuffer out = CharBuffer.allocate(n + 1);
    int invalid = 0;
    while (true) {
      CoderResult result = decoder.decode(in, out, wholeFile);
      if (result.isError()) {
        invalid++;
        in.position(in.position() + result.length());
      } else {
        // Underflow: all decoded, or (when the head is cut) a sequence left for the next bytes.
        break;
      }
    }
    if (wholeFile) {
      CoderResult end = decoder.flush(out);
      if (end.isError()) {
        invalid++;
      }
    }
    out.flip();
    int valid = 0;
    for (int i = 0; i < out.length(); i++) {
      char c = out.charAt(i);
      if (c >= 0x80 && !Character.isLowSurrogate(c)) {
        valid++;
      }
    }
    return new int[] {invalid, valid};
  }
}
