package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.transforms.io.WritePreviews.Tile;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class WritePreviewsTest {

  private static BufferedImage grey(int size, int salt) {
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        image.getRaster().setSample(x, y, 0, (x * 9 + y * 5 + salt) & 0xff);
      }
    }
    return image;
  }

  private static BufferedImage rgb(int size, int rgb) {
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        image.setRGB(x, y, rgb);
      }
    }
    return image;
  }

  /** Pixels darker than mid-grey in a rectangle: drawn text on the white strips. */
  private static int dark(BufferedImage sheet, int x0, int y0, int w, int h) {
    int n = 0;
    for (int y = y0; y < y0 + h; y++) {
      for (int x = x0; x < x0 + w; x++) {
        int v = sheet.getRGB(x, y);
        if (((v >> 16 & 0xff) + (v >> 8 & 0xff) + (v & 0xff)) / 3 < 128) {
          n++;
        }
      }
    }
    return n;
  }

  @Test
  void smallImagesAreScaledUpByAnIntegerFactorAndLabelled() {
    List<Tile> tiles =
        List.of(
            new Tile(grey(28, 0), "r1 #0", "class 7"),
            new Tile(grey(28, 40), "r1 #1", "class 7"),
            new Tile(grey(28, 80), "r2 #0", "class 3"));
    BufferedImage sheet = WritePreviews.contactSheet("s4-b6", tiles);
    WritePreviews.Layout layout = WritePreviews.layout(tiles);
    assertEquals(2, layout.columns());
    assertEquals(4, layout.scale(0));
    assertEquals(112, layout.width(0));
    assertEquals(BufferedImage.TYPE_BYTE_GRAY, sheet.getType());
    BufferedImage source = tiles.get(1).image();
    int[] o = layout.origin(1);
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        int expected = source.getRaster().getSample(x, y, 0);
        for (int d = 0; d < 4; d++) {
          assertEquals(
              expected, sheet.getRaster().getSample(o[0] + 4 * x + d, o[1] + 4 * y + d, 0));
        }
      }
    }
    // Text on the caption strip under each tile, and on the title strip; none in the gaps.
    for (int i = 0; i < 3; i++) {
      int[] t = layout.origin(i);
      assertTrue(dark(sheet, t[0], t[1] + 112, 112, layout.captionHeight()) > 30, "caption " + i);
    }
    assertTrue(dark(sheet, 0, 0, sheet.getWidth(), layout.titleHeight()) > 30, "title");
    // Legible at 100 %: the caption's digits (and '#') stand at least 9 px tall, not the 7-8 px of
    // an 11 px font; the sheet is shown unscaled in report.html.
    int[] c = layout.origin(0);
    int top = -1;
    int bottom = -1;
    for (int y = c[1] + 112; y < c[1] + 112 + layout.captionHeight() / 2; y++) {
      if (dark(sheet, c[0], y, 112, 1) > 0) {
        top = top < 0 ? y : top;
        bottom = y;
      }
    }
    assertTrue(top >= 0 && bottom - top + 1 >= 9, "caption text height " + (bottom - top + 1));
    int gapX = layout.origin(0)[0] + 112;
    assertEquals(
        0,
        dark(
            sheet,
            gapX,
            layout.titleHeight(),
            layout.origin(1)[0] - gapX,
            sheet.getHeight() - layout.titleHeight()));
  }

  @Test
  void largeImagesBecomeThumbnailsAndColourStays() {
    List<Tile> tiles = List.of(new Tile(rgb(256, 0xC02010), "latent-1 #0", "class 281 (tabby)"));
    BufferedImage sheet = WritePreviews.contactSheet("s8-b28-g4", tiles);
    WritePreviews.Layout layout = WritePreviews.layout(tiles);
    assertEquals(128, layout.width(0));
    assertEquals(128, layout.height(0));
    int[] o = layout.origin(0);
    assertEquals(0xC02010, sheet.getRGB(o[0] + 64, o[1] + 64) & 0xffffff);
    assertEquals(0xC02010, sheet.getRGB(o[0] + 127, o[1] + 127) & 0xffffff);
    assertTrue(sheet.getRaster().getNumBands() == 3);
  }

  @Test
  void longCaptionsAreCutToTheirCellAndSheetsAreDeterministic() {
    String longId = "a-very-long-request-id-".repeat(5) + " #12";
    List<Tile> tiles =
        List.of(new Tile(grey(32, 1), longId, "class 1"), new Tile(grey(32, 2), longId, "x"));
    BufferedImage sheet = WritePreviews.contactSheet("draft", tiles);
    WritePreviews.Layout layout = WritePreviews.layout(tiles);
    int gapX = layout.origin(0)[0] + layout.width(0);
    assertEquals(
        0,
        dark(
            sheet,
            gapX,
            layout.titleHeight(),
            layout.origin(1)[0] - gapX,
            sheet.getHeight() - layout.titleHeight()));
    assertArrayEquals(
        PngImages.write(sheet), PngImages.write(WritePreviews.contactSheet("draft", tiles)));
  }
}
