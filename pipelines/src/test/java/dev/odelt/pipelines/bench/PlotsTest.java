package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotsTest {

  @Test
  void writesADecodablePngOfTheRequestedSize(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("sub/plot.png");
    Plots.write(
        new Plots.Chart("t", "steps", "seconds", true, true, true),
        List.of(
            Plots.Series.of("L=2", List.of(new double[] {1, 0.01}, new double[] {128, 1.2})),
            new Plots.Series(
                "L=6",
                List.of(new double[] {1, 0.03}, new double[] {128, 3.5}),
                List.of("a", "b"))),
        file,
        640,
        400);
    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(640, image.getWidth());
    assertEquals(400, image.getHeight());
    int white = 0xffffffff;
    boolean drawn = false;
    for (int x = 0; x < 640 && !drawn; x++) {
      for (int y = 0; y < 400 && !drawn; y++) {
        drawn = image.getRGB(x, y) != white;
      }
    }
    assertTrue(drawn, "something is drawn");
  }

  @Test
  void logAxisRejectsNonPositiveValues(@TempDir Path dir) {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            Plots.write(
                new Plots.Chart("t", "x", "y", true, false, false),
                List.of(Plots.Series.of("s", List.of(new double[] {0, 1}))),
                dir.resolve("p.png"),
                300,
                200));
  }
}
