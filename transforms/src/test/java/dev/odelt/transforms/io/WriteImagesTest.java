package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.proto.v1.ResolvedRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class WriteImagesTest {

  @TempDir Path out;

  static RenderedImage image(String id, long index, boolean resumed) {
    byte[] pixels = new byte[4 * 4];
    for (int i = 0; i < pixels.length; i++) {
      pixels[i] = (byte) (i * 13 + index * 3 + id.length());
    }
    return RenderedImage.newBuilder()
        .setTask(
            ImageTask.newBuilder()
                .setRequest(
                    ResolvedRequest.newBuilder()
                        .setRequestId(id)
                        .setClassId(0)
                        .setClassLabel("0")
                        .setTierLabel("s2-b2")
                        .setModelName("m")
                        .setModelVersion("1")
                        .putTags("team", "a"))
                .setIndex(index)
                .setSeed(100 + index)
                .setImagePath(OutputLayout.imagePath("s2-b2", id, index)))
        .setPng(ByteString.copyFrom(PngImages.encode(4, 4, 1, pixels)))
        .setWidth(4)
        .setHeight(4)
        .setDeviceSeconds(0.5)
        .setBlockEvaluations(8)
        .setResumed(resumed)
        .build();
  }

  @Test
  void writesPngsAndSortedRecordShards(TestPipeline pipeline) throws IOException {
    List<RenderedImage> images = new ArrayList<>();
    for (String id : new String[] {"b", "a", "c"}) {
      for (long i = 2; i >= 0; i--) {
        images.add(image(id, i, false));
      }
    }
    String root = out.toString();
    PCollection<ImageRecord> records =
        pipeline.apply(Create.of(images)).apply(WriteImages.to(root));
    PCollection<String> shards = records.apply(WriteRecords.to(root).withShards(2));
    PAssert.that(
            records.apply(
                MapElements.into(TypeDescriptors.strings())
                    .via((ImageRecord r) -> r.getImagePath() + "=" + r.getSha256())))
        .containsInAnyOrder(
            images.stream()
                .map(
                    i -> i.getTask().getImagePath() + "=" + Hashes.sha256(i.getPng().toByteArray()))
                .collect(Collectors.toList()));
    PAssert.that(shards)
        .satisfies(
            locations -> {
              int count = 0;
              for (String location : locations) {
                assertTrue(location.startsWith(root + "/records/records-0000"));
                count++;
              }
              assertTrue(count >= 1 && count <= 2);
              return null;
            });
    pipeline.run().waitUntilFinish();

    for (RenderedImage image : images) {
      assertArrayEquals(
          image.getPng().toByteArray(),
          Files.readAllBytes(out.resolve(image.getTask().getImagePath())));
    }
    List<ImageRecord> lines = new ArrayList<>();
    try (Stream<Path> files = Files.list(out.resolve("records"))) {
      for (Path file : files.sorted().collect(Collectors.toList())) {
        List<ImageRecord> shard = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          ImageRecord.Builder b = ImageRecord.newBuilder();
          JsonFormat.parser().merge(line, b);
          shard.add(b.build());
          assertTrue(line.contains("\"class_id\":0"), "zero values are printed: " + line);
        }
        for (int i = 1; i < shard.size(); i++) {
          ImageRecord p = shard.get(i - 1);
          ImageRecord q = shard.get(i);
          assertTrue(
              p.getRequestId().compareTo(q.getRequestId()) < 0
                  || p.getRequestId().equals(q.getRequestId()) && p.getIndex() < q.getIndex());
        }
        lines.addAll(shard);
      }
    }
    assertEquals(9, lines.size());
    assertEquals(
        "a",
        lines.stream().filter(r -> r.getIndex() == 1).findFirst().get().getTagsMap().get("team"));
  }

  @Test
  void resumedImagesAreNotRewrittenButKeepTheirRecord(TestPipeline pipeline) {
    PCollection<ImageRecord> records =
        pipeline.apply(Create.of(image("r", 0, true))).apply(WriteImages.to(out.toString()));
    PAssert.that(
            records.apply(
                MapElements.into(TypeDescriptors.strings())
                    .via((ImageRecord r) -> r.getImagePath() + ":" + r.getResumed())))
        .containsInAnyOrder("images/s2-b2/r/0.png:true");
    pipeline.run().waitUntilFinish();
    assertTrue(!Files.exists(out.resolve("images")));
  }

  @Test
  void deadLettersAreOneSortedFileEvenWhenEmpty(TestPipeline pipeline) throws IOException {
    Path other = out.resolve("other");
    pipeline
        .apply(
            "Some",
            Create.of(
                DeadLetter.newBuilder()
                    .setSource("b")
                    .setLine(1)
                    .setReason(RejectReason.NO_SUBJECT)
                    .build(),
                DeadLetter.newBuilder()
                    .setSource("a")
                    .setLine(9)
                    .setReason(RejectReason.WRONG_TYPE)
                    .build(),
                DeadLetter.newBuilder()
                    .setSource("a")
                    .setLine(2)
                    .setReason(RejectReason.EMPTY_FILE)
                    .build()))
        .apply("WriteSome", WriteDeadLetters.to(out.toString()).withShards(1));
    pipeline
        .apply(
            "None",
            Create.empty(org.apache.beam.sdk.extensions.protobuf.ProtoCoder.of(DeadLetter.class)))
        .apply("WriteNone", WriteDeadLetters.to(other.toString()).withShards(3));
    pipeline.run().waitUntilFinish();
    List<String> lines = Files.readAllLines(out.resolve(OutputLayout.deadLettersPath(0)));
    assertEquals(3, lines.size());
    assertTrue(lines.get(0).contains("\"line\":\"2\""), lines.get(0));
    assertTrue(lines.get(1).contains("\"line\":\"9\""));
    assertTrue(lines.get(2).contains("\"source\":\"b\""));
    for (int shard = 0; shard < 3; shard++) {
      assertEquals(0, Files.size(other.resolve(OutputLayout.deadLettersPath(shard))));
    }
  }

  @Test
  void previewsShowTheFirstImagesOfEachTier(TestPipeline pipeline) throws IOException {
    List<RenderedImage> images = new ArrayList<>();
    for (long i = 0; i < 6; i++) {
      images.add(image("z", i, false));
    }
    images.add(image("a", 5, false));
    pipeline
        .apply(Create.of(images))
        .apply(WriteImages.to(out.toString()))
        .apply(WritePreviews.fromRecords())
        .apply(WritePreviews.to(out.toString()).withCount(4));
    pipeline.run().waitUntilFinish();
    var sheet = PngImages.read(Files.readAllBytes(out.resolve("previews/s2-b2.png")));
    var first = PngImages.read(image("a", 5, false).getPng().toByteArray());
    var second = PngImages.read(image("z", 0, false).getPng().toByteArray());
    // 4x4 images are drawn 24 times larger (96-pixel tiles), 2 by 2, first (a, 5) top left.
    WritePreviews.Layout layout =
        WritePreviews.layout(
            List.of(
                new WritePreviews.Tile(first, "a #5", "class 0"),
                new WritePreviews.Tile(second, "z #0", "class 0"),
                new WritePreviews.Tile(second, "z #1", "class 0"),
                new WritePreviews.Tile(second, "z #2", "class 0")));
    assertEquals(24, layout.scale(0));
    assertEquals(layout.sheetWidth(), sheet.getWidth());
    assertEquals(layout.sheetHeight(), sheet.getHeight());
    int[] a = layout.origin(0);
    int[] z = layout.origin(1);
    assertEquals(
        first.getRaster().getSample(1, 1, 0),
        sheet.getRaster().getSample(a[0] + 24 + 5, a[1] + 24 + 5, 0));
    assertEquals(
        second.getRaster().getSample(1, 1, 0),
        sheet.getRaster().getSample(z[0] + 24 + 5, z[1] + 24 + 5, 0));
    assertArrayEquals(
        PngImages.write(
            WritePreviews.contactSheet(
                "s2-b2",
                List.of(
                    new WritePreviews.Tile(first, "a #5", "class 0"),
                    new WritePreviews.Tile(
                        PngImages.read(image("z", 0, false).getPng().toByteArray()),
                        "z #0",
                        "class 0"),
                    new WritePreviews.Tile(
                        PngImages.read(image("z", 1, false).getPng().toByteArray()),
                        "z #1",
                        "class 0"),
                    new WritePreviews.Tile(
                        PngImages.read(image("z", 2, false).getPng().toByteArray()),
                        "z #2",
                        "class 0")))),
        Files.readAllBytes(out.resolve("previews/s2-b2.png")),
        "the sheet is the contact sheet of the first four images with their captions");
  }
}
