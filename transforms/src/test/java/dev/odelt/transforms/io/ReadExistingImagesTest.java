package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resumed images are verified: those written whole are kept (resumed), a truncated one, a file of
 * garbage, one replaced by another image and one that vanished go back to generation marked {@code
 * repair}; nothing throws.
 */
@ExtendWith(TestPipelineExtension.class)
class ReadExistingImagesTest {

  @TempDir Path out;

  static final ImageProvenance MADE =
      new ImageProvenance("m", "1", "ab".repeat(32), "", "fp32", "cpu", "0.1.0");

  @Test
  void damagedImagesAreRoutedToRepair(TestPipeline pipeline) throws IOException {
    List<RenderedImage> images = new ArrayList<>();
    for (long i = 0; i < 6; i++) {
      images.add(WriteImagesTest.image("r", i, false));
    }
    String root = out.toString();
    for (RenderedImage image : images) {
      byte[] png = image.getPng().toByteArray();
      RetryingStore.forLocation(root)
          .write(
              OutputLayout.location(root, image.getTask().getImagePath()),
              png,
              "image/png",
              WriteImages.metadataOf(image, "", MADE, Hashes.sha256(png)));
    }
    Path dir = out.resolve("images/s2-b2/r");
    byte[] whole = Files.readAllBytes(dir.resolve("1.png"));
    truncateKeepingMetadata(dir.resolve("1.png"), Arrays.copyOf(whole, whole.length - 20));
    truncateKeepingMetadata(
        dir.resolve("2.png"), "garbage, not a PNG".getBytes(StandardCharsets.UTF_8));
    truncateKeepingMetadata(
        dir.resolve("3.png"), WriteImagesTest.image("other", 9, false).getPng().toByteArray());
    Files.delete(dir.resolve("4.png"));

    List<ImageTask> tasks = new ArrayList<>();
    images.forEach(i -> tasks.add(i.getTask()));
    PCollectionTuple read = pipeline.apply(Create.of(tasks)).apply(ReadExistingImages.from(root));
    PCollection<String> kept =
        read.get(ReadExistingImages.IMAGES)
            .apply(
                "Kept",
                MapElements.into(TypeDescriptors.strings())
                    .via(i -> i.getTask().getImagePath() + (i.getResumed() ? "" : " not resumed")));
    PCollection<String> damaged =
        read.get(ReadExistingImages.DAMAGED)
            .apply(
                "Damaged",
                MapElements.into(TypeDescriptors.strings())
                    .via(t -> t.getImagePath() + (t.getRepair() ? "" : " not marked")));
    PAssert.that(kept).containsInAnyOrder("images/s2-b2/r/0.png", "images/s2-b2/r/5.png");
    PAssert.that(damaged)
        .containsInAnyOrder(
            "images/s2-b2/r/1.png",
            "images/s2-b2/r/2.png",
            "images/s2-b2/r/3.png",
            "images/s2-b2/r/4.png");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void recordsOfRepairedImagesSayRepairedAndCarryTheProvenance() {
    RenderedImage image = WriteImagesTest.image("r", 0, false);
    RenderedImage repaired =
        image.toBuilder().setTask(image.getTask().toBuilder().setRepair(true)).build();
    ImageRecord record = MADE.addTo(WriteImages.recordOf(repaired, "x").toBuilder()).build();
    assertEquals(true, record.getRepaired());
    assertEquals("ab".repeat(32), record.getModelDigest());
    assertEquals("fp32", record.getPrecision());
  }

  /** Overwrites a file's bytes in place, as a disk fault or a partial copy would: xattrs stay. */
  private static void truncateKeepingMetadata(Path file, byte[] bytes) throws IOException {
    Files.write(file, bytes);
  }
}
