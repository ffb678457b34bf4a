package dev.odelt.transforms.io;

import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.PreviewImage;
import dev.odelt.storage.ObjectStore;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Top;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Writes {@code previews/<tier>.png}: a contact sheet of the first {@code count} images of each
 * tier in (request id, index) order, on a square-ish grid, titled with the tier label, each tile
 * captioned with its request id, image index and class. Small images are enlarged by a whole factor
 * with nearest-neighbour sampling (so pixel art stays sharp) until they are at least {@value
 * #MIN_TILE} pixels on their longer side; images over {@value #MAX_TILE} pixels become thumbnails
 * of that size (box-filtered). Deterministic: the same images give the same bytes on one
 * installation (captions use the JDK's logical {@code SansSerif} font, which a headless JVM maps to
 * an installed font: on Debian, {@code fonts-dejavu-core}). Outputs the locations written.
 *
 * <p>It takes candidates ({@link PreviewImage}): for the PNG tree the images' records alone ({@link
 * #fromRecords}), so only the small records are shuffled to pick each tier's first images and the
 * sheet reads those few PNGs back from the output, where {@link WriteImages} wrote them before
 * emitting their records; for dataset shards each shard's first images with their PNGs (a few per
 * shard, not every image).
 */
public final class WritePreviews extends PTransform<PCollection<PreviewImage>, PCollection<String>> {

  private static final long serialVersionUID = 1L;

  /** Smaller images are enlarged (by a whole factor) to at least this size. */
  static final int MIN_TILE = 96;

  /** Larger images are shrunk to fit this size. */
  static final int MAX_TILE = 128;

  private static final int PAD = 8;
  private static final int TITLE_HEIGHT = 34;
  private static final int CAPTION_HEIGHT = 40;
  private static final int MIN_SHEET_WIDTH = 240;
  private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 18);
  private static final Font CAPTION_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);

  private final String outputRoot;
  private final int count;

  private WritePreviews(String outputRoot, int count) {
    this.outputRoot = outputRoot;
    this.count = count;
  }

  public static WritePreviews to(String outputRoot) {
    return new WritePreviews(outputRoot, 64);
  }

  public WritePreviews withCount(int images) {
    if (images < 1 || images > 1024) {
      throw new IllegalArgumentException("preview count must be in [1, 1024], got " + images);
    }
    return new WritePreviews(outputRoot, images);
  }

  /** The candidates of the PNG tree: every record, its image read back from the output. */
  public static MapElements<ImageRecord, PreviewImage> fromRecords() {
    return MapElements.into(TypeDescriptor.of(PreviewImage.class))
        .via((ImageRecord r) -> PreviewImage.newBuilder().setRecord(r).build());
  }

  @Override
  public PCollection<String> expand(PCollection<PreviewImage> candidates) {
    return candidates
        .apply(
            "KeyByTier",
            WithKeys.of((PreviewImage p) -> p.getRecord().getTierLabel())
                .withKeyType(TypeDescriptors.strings()))
        .apply("FirstImages", Top.perKey(count, new LaterFirst()))
        .apply("WriteSheet", ParDo.of(new WriteSheetFn(outputRoot)));
  }

  /** Orders images so that the one with the smallest (request id, index) is the "largest". */
  static final class LaterFirst implements Comparator<PreviewImage>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(PreviewImage first, PreviewImage second) {
      ImageRecord a = first.getRecord();
      ImageRecord b = second.getRecord();
      int byId = a.getRequestId().compareTo(b.getRequestId());
      if (byId != 0) {
        return -byId;
      }
      return -Long.compare(a.getIndex(), b.getIndex());
    }
  }

  /**
   * One image of a contact sheet with its two caption lines.
   *
   * @param name the first line, e.g. {@code r1 #0} (request id and image index)
   * @param subject the second line, e.g. {@code class 7}
   */
  public record Tile(BufferedImage image, String name, String subject) {

    /** The tile of an image record: {@code <request id> #<index>} over its class. */
    public static Tile of(BufferedImage image, ImageRecord record) {
      String label = record.getClassLabel();
      String subject =
          label.isEmpty() || label.equals(Integer.toString(record.getClassId()))
              ? "class " + record.getClassId()
              : "class " + record.getClassId() + " · " + label;
      return new Tile(image, record.getRequestId() + " #" + record.getIndex(), subject);
    }
  }

  /** Where each tile of a sheet goes and how large it is drawn. */
  static final class Layout {
    private final int[] widths;
    private final int[] heights;
    private final int[] scales;
    private final int columns;
    private final int rows;
    private final int cellWidth;
    private final int cellHeight;
    private final int sheetWidth;

    private Layout(List<Tile> tiles) {
      int n = tiles.size();
      widths = new int[n];
      heights = new int[n];
      scales = new int[n];
      int cw = MIN_TILE;
      int ch = 1;
      for (int i = 0; i < n; i++) {
        int w = tiles.get(i).image().getWidth();
        int h = tiles.get(i).image().getHeight();
        int longer = Math.max(w, h);
        if (longer < MIN_TILE) {
          scales[i] = (MIN_TILE + longer - 1) / longer;
          widths[i] = w * scales[i];
          heights[i] = h * scales[i];
        } else if (longer > MAX_TILE) {
          scales[i] = 1;
          widths[i] = Math.max(1, (int) Math.round((double) w * MAX_TILE / longer));
          heights[i] = Math.max(1, (int) Math.round((double) h * MAX_TILE / longer));
        } else {
          scales[i] = 1;
          widths[i] = w;
          heights[i] = h;
        }
        cw = Math.max(cw, widths[i]);
        ch = Math.max(ch, heights[i]);
      }
      columns = Math.max(1, (int) Math.ceil(Math.sqrt(n)));
      rows = (n + columns - 1) / columns;
      cellWidth = cw;
      cellHeight = ch;
      sheetWidth = Math.max(MIN_SHEET_WIDTH, PAD + columns * (cellWidth + PAD));
    }

    int columns() {
      return columns;
    }

    /** The whole factor tile {@code i} is enlarged by (1 when it is not enlarged). */
    int scale(int i) {
      return scales[i];
    }

    int width(int i) {
      return widths[i];
    }

    int height(int i) {
      return heights[i];
    }

    /** The top-left corner of tile {@code i}'s cell. */
    int[] cell(int i) {
      return new int[] {
        PAD + (i % columns) * (cellWidth + PAD),
        TITLE_HEIGHT + (i / columns) * (cellHeight + CAPTION_HEIGHT + PAD)
      };
    }

    /** The top-left corner of tile {@code i}'s image: centred in the image part of its cell. */
    int[] origin(int i) {
      int[] cell = cell(i);
      return new int[] {
        cell[0] + (cellWidth - widths[i]) / 2, cell[1] + (cellHeight - heights[i]) / 2
      };
    }

    int titleHeight() {
      return TITLE_HEIGHT;
    }

    int captionHeight() {
      return CAPTION_HEIGHT;
    }

    int sheetWidth() {
      return sheetWidth;
    }

    int sheetHeight() {
      return TITLE_HEIGHT + rows * (cellHeight + CAPTION_HEIGHT + PAD);
    }
  }

  static Layout layout(List<Tile> tiles) {
    if (tiles.isEmpty()) {
      throw new IllegalArgumentException("A contact sheet needs at least one image");
    }
    return new Layout(tiles);
  }

  /**
   * Lays images out on a grid (first image top left, row by row) under a title naming the tier,
   * each with its caption. Grey when every image is grey, else RGB.
   */
  public static BufferedImage contactSheet(String tierLabel, List<Tile> tiles) {
    Layout layout = layout(tiles);
    boolean grey =
        tiles.stream().allMatch(t -> t.image().getType() == BufferedImage.TYPE_BYTE_GRAY);
    BufferedImage sheet =
        new BufferedImage(
            layout.sheetWidth(),
            layout.sheetHeight(),
            grey ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = sheet.createGraphics();
    try {
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_OFF);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
      g.setColor(Color.BLACK);
      int n = tiles.size();
      String title = tierLabel + " · " + n + (n == 1 ? " image" : " images");
      text(g, TITLE_FONT, title, false, PAD, 0, sheet.getWidth() - 2 * PAD, TITLE_HEIGHT - 4);
      for (int i = 0; i < n; i++) {
        int[] o = layout.origin(i);
        draw(tiles.get(i).image(), sheet, o[0], o[1], layout.width(i), layout.height(i));
        int[] cell = layout.cell(i);
        int y = cell[1] + layout.cellHeight;
        g.setColor(Color.BLACK);
        text(
            g,
            CAPTION_FONT,
            tiles.get(i).name(),
            true,
            cell[0],
            y,
            layout.cellWidth,
            CAPTION_HEIGHT / 2);
        g.setColor(Color.DARK_GRAY);
        text(
            g,
            CAPTION_FONT,
            tiles.get(i).subject(),
            false,
            cell[0],
            y + CAPTION_HEIGHT / 2,
            layout.cellWidth,
            CAPTION_HEIGHT / 2);
      }
    } finally {
      g.dispose();
    }
    return sheet;
  }

  /**
   * One line of text in a box, clipped to it and, when too wide, shortened with "…": in the middle
   * (request ids differ mostly at their ends) or at the end.
   */
  private static void text(
      Graphics2D g, Font font, String text, boolean middle, int x, int y, int w, int h) {
    g.setFont(font);
    FontMetrics metrics = g.getFontMetrics();
    String shown = text;
    for (int keep = text.length() - 1; keep >= 0 && metrics.stringWidth(shown) > w; keep--) {
      int head = middle ? (keep + 1) / 2 : keep;
      shown = text.substring(0, head) + "…" + text.substring(text.length() - (keep - head));
    }
    Shape clip = g.getClip();
    g.clipRect(x, y, w, h);
    g.drawString(shown, x, y + (h + metrics.getAscent() - metrics.getDescent()) / 2);
    g.setClip(clip);
  }

  /**
   * Draws {@code image} at {@code (x, y)} as {@code w × h}: nearest-neighbour when enlarging, the
   * mean of each source block when shrinking. Samples are copied as they are (no colour-space
   * conversion, which would shift grey levels).
   */
  private static void draw(BufferedImage image, BufferedImage sheet, int x, int y, int w, int h) {
    if (image.getType() != BufferedImage.TYPE_BYTE_GRAY
        && image.getType() != BufferedImage.TYPE_3BYTE_BGR) {
      // Palette, 16-bit or alpha images (not what the job writes): to plain 8-bit RGB first.
      BufferedImage rgb =
          new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
      Graphics2D g = rgb.createGraphics();
      g.drawImage(image, 0, 0, null);
      g.dispose();
      image = rgb;
    }
    Raster src = image.getRaster();
    WritableRaster dst = sheet.getRaster();
    int srcBands = src.getNumBands();
    int dstBands = dst.getNumBands();
    int sw = image.getWidth();
    int sh = image.getHeight();
    int[] sum = new int[3];
    int[] px = new int[dstBands];
    for (int dy = 0; dy < h; dy++) {
      int y0 = (int) ((long) dy * sh / h);
      int y1 = Math.max(y0 + 1, (int) ((long) (dy + 1) * sh / h));
      for (int dx = 0; dx < w; dx++) {
        int x0 = (int) ((long) dx * sw / w);
        int x1 = Math.max(x0 + 1, (int) ((long) (dx + 1) * sw / w));
        if (w >= sw) {
          x1 = x0 + 1;
        }
        if (h >= sh) {
          y1 = y0 + 1;
        }
        sum[0] = 0;
        sum[1] = 0;
        sum[2] = 0;
        for (int sy = y0; sy < y1; sy++) {
          for (int sx = x0; sx < x1; sx++) {
            for (int b = 0; b < 3; b++) {
              sum[b] += src.getSample(sx, sy, srcBands == 1 ? 0 : b);
            }
          }
        }
        int area = (x1 - x0) * (y1 - y0);
        for (int b = 0; b < dstBands; b++) {
          px[b] = (sum[b] + area / 2) / area;
        }
        dst.setPixel(x + dx, y + dy, px);
      }
    }
  }

  static final class WriteSheetFn extends DoFn<KV<String, List<PreviewImage>>, String> {
    private static final long serialVersionUID = 1L;
    private final String outputRoot;
    private transient ObjectStore store;

    WriteSheetFn(String outputRoot) {
      this.outputRoot = outputRoot;
    }

    @Setup
    public void setup() {
      store = RetryingStore.forLocation(outputRoot);
    }

    @ProcessElement
    public void process(@Element KV<String, List<PreviewImage>> tier, OutputReceiver<String> out)
        throws IOException {
      List<Tile> tiles = new ArrayList<>();
      for (PreviewImage candidate : tier.getValue()) {
        ImageRecord record = candidate.getRecord();
        byte[] png =
            candidate.getPng().isEmpty()
                ? store.readAllBytes(OutputLayout.location(outputRoot, record.getImagePath()))
                : candidate.getPng().toByteArray();
        tiles.add(Tile.of(PngImages.read(png), record));
      }
      String location = OutputLayout.location(outputRoot, OutputLayout.previewPath(tier.getKey()));
      store.write(
          location, PngImages.write(contactSheet(tier.getKey(), tiles)), "image/png", Map.of());
      out.output(location);
    }
  }
}
