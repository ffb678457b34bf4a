package dev.odelt.transforms.io;

import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Top;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Writes {@code previews/<tier>.png}: a contact sheet of the first {@code count} images of each
 * tier in (request id, index) order, on a square-ish grid with a 2-pixel black gap. Deterministic:
 * the same images give the same sheet. Outputs the locations written.
 *
 * <p>It takes the images' records, not their bytes: only the small records are shuffled to pick
 * each tier's first images, and the sheet reads those few PNGs back from the output, where {@link
 * WriteImages} wrote them before emitting their records.
 */
public final class WritePreviews
    extends PTransform<PCollection<ImageRecord>, PCollection<String>> {

  private static final long serialVersionUID = 1L;
  private static final int GAP = 2;

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

  @Override
  public PCollection<String> expand(PCollection<ImageRecord> records) {
    return records
        .apply(
            "KeyByTier",
            WithKeys.of(ImageRecord::getTierLabel).withKeyType(TypeDescriptors.strings()))
        .apply("FirstImages", Top.perKey(count, new LaterFirst()))
        .apply("WriteSheet", ParDo.of(new WriteSheetFn(outputRoot)));
  }

  /** Orders images so that the one with the smallest (request id, index) is the "largest". */
  static final class LaterFirst implements Comparator<ImageRecord>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(ImageRecord a, ImageRecord b) {
      int byId = a.getRequestId().compareTo(b.getRequestId());
      if (byId != 0) {
        return -byId;
      }
      return -Long.compare(a.getIndex(), b.getIndex());
    }
  }

  /** Lays images out on a grid (first image top left, row by row). */
  public static BufferedImage contactSheet(List<BufferedImage> tiles) {
    int n = tiles.size();
    int cols = (int) Math.ceil(Math.sqrt(n));
    int rows = (n + cols - 1) / cols;
    int w = 0;
    int h = 0;
    boolean grey = true;
    for (BufferedImage t : tiles) {
      w = Math.max(w, t.getWidth());
      h = Math.max(h, t.getHeight());
      grey &= t.getRaster().getNumBands() == 1;
    }
    BufferedImage sheet =
        new BufferedImage(
            cols * w + (cols - 1) * GAP,
            rows * h + (rows - 1) * GAP,
            grey ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
    for (int i = 0; i < n; i++) {
      BufferedImage tile = tiles.get(i);
      int x = (i % cols) * (w + GAP);
      int y = (i / cols) * (h + GAP);
      if (tile.getRaster().getNumBands() == sheet.getRaster().getNumBands()) {
        sheet.getRaster().setRect(x, y, tile.getRaster());
      } else {
        sheet.createGraphics().drawImage(tile, x, y, null);
      }
    }
    return sheet;
  }

  static final class WriteSheetFn extends DoFn<KV<String, List<ImageRecord>>, String> {
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
    public void process(@Element KV<String, List<ImageRecord>> tier, OutputReceiver<String> out)
        throws IOException {
      List<BufferedImage> tiles = new ArrayList<>();
      for (ImageRecord record : tier.getValue()) {
        tiles.add(
            PngImages.read(
                store.readAllBytes(OutputLayout.location(outputRoot, record.getImagePath()))));
      }
      String location = OutputLayout.location(outputRoot, OutputLayout.previewPath(tier.getKey()));
      store.write(location, PngImages.write(contactSheet(tiles)), "image/png", Map.of());
      out.output(location);
    }
  }
}
