package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What counts as "the file its record says": decode, size, and the recorded sha256. */
class WrittenFilesTest {

  static byte[] png() {
    byte[] pixels = new byte[6 * 4];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 37);
    }
    return PngImages.encode(6, 4, 1, pixels);
  }

  static Map<String, String> recorded(byte[] png) {
    return Map.of(
        WrittenFiles.SHA256, Hashes.sha256(png), WrittenFiles.WIDTH, "6", WrittenFiles.HEIGHT, "4");
  }

  @Test
  void aFileAsWrittenPasses() {
    byte[] png = png();
    assertEquals(Optional.empty(), WrittenFiles.pngProblem(png, recorded(png), 0, 0));
    assertEquals(Optional.empty(), WrittenFiles.pngProblem(png, Map.of(), 6, 4));
    assertEquals(Optional.empty(), WrittenFiles.pngProblem(png, Map.of(), 0, 0));
  }

  @Test
  void aTruncatedPngFails() {
    byte[] png = png();
    byte[] cut = Arrays.copyOf(png, png.length / 2);
    Optional<String> withHash = WrittenFiles.pngProblem(cut, recorded(png), 0, 0);
    assertTrue(withHash.isPresent());
    Optional<String> withoutHash = WrittenFiles.pngProblem(cut, Map.of(), 6, 4);
    assertTrue(withoutHash.orElseThrow().contains("does not decode"), withoutHash.get());
  }

  @Test
  void garbageFails() {
    byte[] garbage = "not an image at all".getBytes(StandardCharsets.UTF_8);
    Optional<String> problem = WrittenFiles.pngProblem(garbage, Map.of(), 0, 0);
    assertTrue(problem.orElseThrow().contains("does not decode as a PNG"), problem.get());
  }

  @Test
  void anotherImageOfTheRightSizeFailsOnItsHash() {
    byte[] png = png();
    byte[] other = PngImages.encode(6, 4, 1, new byte[6 * 4]);
    Optional<String> problem = WrittenFiles.pngProblem(other, recorded(png), 0, 0);
    assertTrue(problem.orElseThrow().startsWith("sha256 "), problem.get());
    assertTrue(WrittenFiles.problem(other, recorded(png)).isPresent());
  }

  @Test
  void aWrongSizeFails() {
    byte[] png = png();
    Optional<String> problem = WrittenFiles.pngProblem(png, Map.of(), 8, 8);
    assertEquals(Optional.of("is 6x4, expected 8x8"), problem);
  }
}
