package dev.odelt.model.imports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.imports.ImportException.Problem;
import dev.odelt.proto.v1.ClassLabel;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference's label format on a sample of the same shape as {@code data/imagenet_labels.txt}
 * (quoted lists, trailing commas after some closing quotes, apostrophes, no final newline, a name
 * shared by two classes).
 */
class ImageNetLabelsTest {

  @TempDir Path dir;

  @Test
  void readsClassesWithTheirSynonyms() throws Exception {
    Path file = dir.resolve("labels.txt");
    try (InputStream in = getClass().getResourceAsStream("labels-sample.txt")) {
      Files.copy(in, file);
    }
    List<ClassLabel> labels = ImageNetLabels.read(file);
    assertEquals(8, labels.size());
    assertEquals(
        ClassLabel.newBuilder().setId(0).setLabel("tench").addSynonyms("Tinca tinca").build(),
        labels.get(0));
    ClassLabel dragonfly = labels.get(3);
    assertEquals(3, dragonfly.getId());
    assertEquals("dragonfly", dragonfly.getLabel());
    assertEquals(
        List.of("darning needle", "devil's darning needle", "sewing needle"),
        dragonfly.getSynonymsList());
    assertEquals("golden retriever", labels.get(4).getLabel());
    assertEquals("jack-o'-lantern", labels.get(5).getLabel());
    assertEquals("crane", labels.get(2).getLabel());
    assertEquals("crane", labels.get(6).getLabel());
    assertEquals("tench", labels.get(7).getLabel());
    for (int i = 0; i < labels.size(); i++) {
      assertEquals(i, labels.get(i).getId());
    }
  }

  @Test
  void acceptsCrlfAFinalNewlineAndAByteOrderMark() throws Exception {
    byte[] text = "\uFEFF\"a, b\"\r\n\"c\"\r\n".getBytes(StandardCharsets.UTF_8);
    List<ClassLabel> labels = ImageNetLabels.parse(text, "x.txt");
    assertEquals(2, labels.size());
    assertEquals(List.of("b"), labels.get(0).getSynonymsList());
    assertEquals("c", labels.get(1).getLabel());
  }

  private static void assertBad(String text, String... named) {
    ImportException e =
        assertThrows(
            ImportException.class,
            () -> ImageNetLabels.parse(text.getBytes(StandardCharsets.UTF_8), "labels.txt"));
    assertEquals(Problem.BAD_LABELS, e.problem(), e.getMessage());
    assertTrue(e.getMessage().contains("labels.txt"), e.getMessage());
    for (String n : named) {
      assertTrue(e.getMessage().contains(n), "'" + n + "' not in: " + e.getMessage());
    }
  }

  @Test
  void rejectsMalformedLinesNamingThem() throws Exception {
    assertBad("\"a\"\n\n\"c\"\n", "line 2 (class 1)", "empty");
    assertBad("\"a\"\ntench, Tinca tinca\n", "line 2", "double-quoted");
    assertBad("\"a\"\n\"b\n", "line 2");
    assertBad("\"a, , b\"\n", "line 1", "empty name");
    assertBad("\"a \"b\" c\"\n", "line 1", "quote inside");
    assertBad("\"a\tb\"\n", "line 1", "control character");
    assertBad("", "no classes");
    ImportException e =
        assertThrows(
            ImportException.class,
            () -> ImageNetLabels.parse(new byte[] {'"', (byte) 0xff, '"'}, "labels.txt"));
    assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    ImportException missing =
        assertThrows(ImportException.class, () -> ImageNetLabels.read(dir.resolve("none.txt")));
    assertEquals(Problem.MISSING, missing.problem());
  }
}
