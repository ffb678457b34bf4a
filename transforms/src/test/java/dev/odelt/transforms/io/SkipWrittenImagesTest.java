package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.ImageTask;
import dev.odelt.proto.v1.RenderedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.IterableCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.extensions.protobuf.ProtoCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.util.ShardedKey;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class SkipWrittenImagesTest {

  @TempDir Path out;

  @Test
  void skipsOnlyWholeImagesWrittenSinceTheRunStarted(TestPipeline pipeline) throws IOException {
    Instant started = Instant.now().minusSeconds(60);
    List<ImageTask> tasks = new ArrayList<>();
    for (long i = 0; i < 4; i++) {
      tasks.add(WriteImagesTest.image("r", i, false).getTask());
    }
    // 0: written by this run; 1: written by an earlier run; 2: missing; 3: not a PNG.
    byte[] png = WriteImagesTest.image("r", 0, false).getPng().toByteArray();
    Path written = out.resolve(tasks.get(0).getImagePath());
    Files.createDirectories(written.getParent());
    Files.write(written, png);
    Path old = out.resolve(tasks.get(1).getImagePath());
    Files.write(old, WriteImagesTest.image("r", 1, false).getPng().toByteArray());
    Files.setLastModifiedTime(old, FileTime.from(started.minusSeconds(3600)));
    Files.write(out.resolve(tasks.get(3).getImagePath()), new byte[] {1, 2, 3});

    PCollectionTuple result =
        pipeline
            .apply(
                Create.of(
                        KV.of(ShardedKey.of("s2-b2", new byte[] {7}), (Iterable<ImageTask>) tasks))
                    .withCoder(
                        KvCoder.of(
                            ShardedKey.Coder.of(StringUtf8Coder.of()),
                            IterableCoder.of(ProtoCoder.of(ImageTask.class)))))
            .apply(SkipWrittenImages.since(out.toString(), started));
    PAssert.that(result.get(SkipWrittenImages.WRITTEN))
        .satisfies(
            images -> {
              List<RenderedImage> all = new ArrayList<>();
              images.forEach(all::add);
              assertEquals(1, all.size());
              assertEquals(0, all.get(0).getTask().getIndex());
              assertTrue(all.get(0).getResumed());
              assertArrayEquals(png, all.get(0).getPng().toByteArray());
              assertEquals(4, all.get(0).getWidth());
              return null;
            });
    PAssert.that(
            result
                .get(SkipWrittenImages.BATCHES)
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            kv -> {
                              StringBuilder sb = new StringBuilder(kv.getKey().getKey());
                              kv.getValue().forEach(t -> sb.append(' ').append(t.getIndex()));
                              return sb.toString();
                            })))
        .containsInAnyOrder("s2-b2 1 2 3");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aBatchWrittenWholeIsDropped(TestPipeline pipeline) throws IOException {
    Instant started = Instant.now().minusSeconds(60);
    RenderedImage image = WriteImagesTest.image("q", 0, false);
    Path path = out.resolve(image.getTask().getImagePath());
    Files.createDirectories(path.getParent());
    Files.write(path, image.getPng().toByteArray());
    PCollectionTuple result =
        pipeline
            .apply(
                Create.of(
                        KV.of(
                            ShardedKey.of("s2-b2", new byte[] {1}),
                            (Iterable<ImageTask>) List.of(image.getTask())))
                    .withCoder(
                        KvCoder.of(
                            ShardedKey.Coder.of(StringUtf8Coder.of()),
                            IterableCoder.of(ProtoCoder.of(ImageTask.class)))))
            .apply(SkipWrittenImages.since(out.toString(), started));
    PAssert.that(result.get(SkipWrittenImages.BATCHES)).empty();
    PAssert.that(
            result
                .get(SkipWrittenImages.WRITTEN)
                .apply(MapElements.into(TypeDescriptors.longs()).via(r -> r.getTask().getIndex())))
        .containsInAnyOrder(0L);
    pipeline.run().waitUntilFinish();
  }
}
