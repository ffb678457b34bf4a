package dev.odelt.model.imports;

import dev.odelt.model.imports.ImportException.Problem;
import dev.odelt.proto.v1.ClassLabel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the reference's ImageNet class-name file ({@code data/imagenet_labels.txt}): line n is
 * class n, a double-quoted, comma-separated list of names, the first the common name and the rest
 * synonyms (Latin binomials included), e.g. {@code "tench, Tinca tinca"}. A comma after the closing
 * quote is allowed (some lines of the original have one), as are a final newline and CRLF line
 * ends. Names may repeat across classes ("crane" is 134 and 517): ambiguity is the resolver's
 * business, not the file's.
 *
 * <p>Anything else is an {@link ImportException} ({@link Problem#BAD_LABELS}) naming the file and
 * line: an empty line, a line without its quotes, a quote inside the names, an empty name, text
 * that is not UTF-8, or a file over {@value #MAX_BYTES} bytes.
 */
public final class ImageNetLabels {

  /** Largest file accepted (the original is 56 KB). */
  public static final int MAX_BYTES = 16 << 20;

  private ImageNetLabels() {}

  /**
   * Parses a label file into classes 0 … n−1.
   *
   * @throws ImportException when the file is missing or malformed
   * @throws IOException when reading fails
   */
  public static List<ClassLabel> read(Path file) throws ImportException, IOException {
    if (!Files.isRegularFile(file)) {
      throw new ImportException(Problem.MISSING, file.toString(), "no such labels file");
    }
    if (Files.size(file) > MAX_BYTES) {
      throw new ImportException(
          Problem.BAD_LABELS, file.toString(), "larger than " + MAX_BYTES + " bytes");
    }
    return parse(Files.readAllBytes(file), file.toString());
  }

  /** Parses the bytes of a label file; {@code source} names it in errors. */
  public static List<ClassLabel> parse(byte[] bytes, String source) throws ImportException {
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
      throw new ImportException(Problem.BAD_LABELS, source, "not UTF-8 text", e);
    }
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    String[] lines = text.split("\n", -1);
    int count = lines.length;
    if (count > 0 && lines[count - 1].isEmpty()) {
      count--; // the newline that ends the last line
    }
    if (count == 0) {
      throw new ImportException(Problem.BAD_LABELS, source, "no classes");
    }
    List<ClassLabel> classes = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      classes.add(parseLine(lines[i], i, source));
    }
    return classes;
  }

  private static ClassLabel parseLine(String raw, int id, String source) throws ImportException {
    String where = "line " + (id + 1) + " (class " + id + "): ";
    String line = raw.strip();
    if (line.endsWith(",")) {
      line = line.substring(0, line.length() - 1).strip();
    }
    if (line.isEmpty()) {
      throw new ImportException(Problem.BAD_LABELS, source, where + "is empty");
    }
    if (line.length() < 2 || line.charAt(0) != '"' || line.charAt(line.length() - 1) != '"') {
      throw new ImportException(
          Problem.BAD_LABELS,
          source,
          where
              + "expected a double-quoted, comma-separated list of names such as"
              + " \"tench, Tinca tinca\", got: "
              + abbreviate(raw));
    }
    String inner = line.substring(1, line.length() - 1);
    if (inner.indexOf('"') >= 0) {
      throw new ImportException(
          Problem.BAD_LABELS, source, where + "a quote inside the names: " + abbreviate(raw));
    }
    Set<String> names = new LinkedHashSet<>();
    for (String part : inner.split(",", -1)) {
      String name = part.strip();
      if (name.isEmpty()) {
        throw new ImportException(
            Problem.BAD_LABELS, source, where + "an empty name in " + abbreviate(raw));
      }
      if (name.chars().anyMatch(Character::isISOControl)) {
        throw new ImportException(
            Problem.BAD_LABELS, source, where + "a control character in " + abbreviate(raw));
      }
      names.add(name);
    }
    List<String> list = new ArrayList<>(names);
    return ClassLabel.newBuilder()
        .setId(id)
        .setLabel(list.get(0))
        .addAllSynonyms(list.subList(1, list.size()))
        .build();
  }

  private static String abbreviate(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }
}
