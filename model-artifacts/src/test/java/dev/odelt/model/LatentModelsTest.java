package dev.odelt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.LatentDecoder;
import dev.odelt.model.sample.SampleBatch;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.sample.SampleStats;
import dev.odelt.model.sample.Sampler;
import dev.odelt.model.testing.TestModels;
import dev.odelt.model.testing.TestVaes;
import dev.odelt.proto.v1.ModelManifest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Latent models: the decoder a manifest names is verified, loaded and run after the ODE. */
class LatentModelsTest {

  /** 8×8×4 latents, patch 2, width 32, 4 blocks (L ∈ {2, 4}), 10 classes. */
  static final ModelConfig LATENT = new ModelConfig(8, 4, 2, 32, 2, 2f, 4, 2, 2, 10, 7);

  @TempDir Path dir;

  private static List<SampleItem> items(int n) {
    return java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> new SampleItem(i % 10, 1000L + i))
        .toList();
  }

  @Test
  void decodesToRgbAtTheDecodersScaleIndependentlyOfHowDecodingIsSliced() throws IOException {
    String location = TestModels.writeRandomLatentPackage(dir, LATENT, 3, TestVaes.SMALL);
    try (LoadedModel model = Models.load(location, "cpu")) {
      Sampler sampler = model.sampler();
      assertTrue(sampler.decoder().isPresent());
      Tier tier = Tier.of(2, 4);
      SampleBatch whole = sampler.withDecodeBatch(5).sample(items(5), tier);
      SampleBatch sliced = sampler.withDecodeBatch(2).sample(items(5), tier);
      SampleBatch alone = sampler.withDecodeBatch(1).sample(items(5).subList(3, 4), tier);
      for (GeneratedImage image : whole.images()) {
        assertEquals(64, image.width(), "8× the 8×8 latent");
        assertEquals(64, image.height());
        assertEquals(3, image.channels());
      }
      for (int i = 0; i < 5; i++) {
        assertArrayEquals(whole.images().get(i).pixels(), sliced.images().get(i).pixels(), "" + i);
      }
      assertClose(whole.images().get(3), alone.images().get(0));
      assertTrue(whole.stats().decodeNanos() > 0);
      assertTrue(
          whole.stats().decodeNanos() < whole.stats().deviceNanos(),
          "decoding is part of the device time");
    }
  }

  @Test
  void theWarmUpDecodesOneDecoderCallOnly() throws IOException {
    String location = TestModels.writeRandomLatentPackage(dir, LATENT, 3, TestVaes.SMALL);
    try (LoadedModel model = Models.load(location, "cpu")) {
      LatentDecoder real = model.sampler().decoder().orElseThrow();
      AtomicInteger calls = new AtomicInteger();
      AtomicInteger decoded = new AtomicInteger();
      LatentDecoder counting =
          new LatentDecoder() {
            @Override
            public NDArray decode(NDArray latents) {
              calls.incrementAndGet();
              decoded.addAndGet((int) latents.getShape().get(0));
              return real.decode(latents);
            }

            @Override
            public int latentChannels() {
              return real.latentChannels();
            }

            @Override
            public int imageChannels() {
              return real.imageChannels();
            }

            @Override
            public int upsampling() {
              return real.upsampling();
            }

            @Override
            public String id() {
              return real.id();
            }
          };
      Sampler sampler = new Sampler(model.network(), model.manager(), counting, 2);
      SampleStats warmUp = sampler.warmUp(items(5), Tier.of(1, 4));
      assertEquals(5, warmUp.batchSize(), "the network ran every row");
      assertEquals(1, calls.get());
      assertEquals(2, decoded.get(), "one decoder call of decodeBatch images");
      assertTrue(warmUp.decodeNanos() > 0);
      assertEquals(5, sampler.sample(items(5), Tier.of(1, 4)).images().size());
      assertEquals(4, calls.get(), "a real batch decodes all: 2 + 2 + 1");
    }
  }

  /** Same image up to float rounding of a different batch: at most one level per pixel. */
  private static void assertClose(GeneratedImage a, GeneratedImage b) {
    byte[] x = a.pixels();
    byte[] y = b.pixels();
    assertEquals(x.length, y.length);
    for (int i = 0; i < x.length; i++) {
      assertTrue(Math.abs((x[i] & 0xFF) - (y[i] & 0xFF)) <= 1, "pixel " + i);
    }
  }

  private ModelManifest manifest(String location) throws IOException {
    ModelManifest.Builder b = ModelManifest.newBuilder();
    JsonFormat.parser().merge(Files.readString(Path.of(location)), b);
    return b.build();
  }

  private void rewrite(String location, ModelManifest manifest) throws IOException {
    Files.writeString(
        Path.of(location), JsonFormat.printer().print(manifest), StandardCharsets.UTF_8);
  }

  @Test
  void aLatentModelWithoutItsDecoderOrWithAnotherOneIsRejectedNamingTheManifest()
      throws IOException {
    String location = TestModels.writeRandomLatentPackage(dir, LATENT, 3, TestVaes.SMALL);
    ModelManifest good = manifest(location);

    rewrite(location, good.toBuilder().clearDecoder().build());
    InvalidModelPackageException none =
        assertThrows(InvalidModelPackageException.class, () -> Models.load(location, "cpu"));
    assertTrue(none.getMessage().contains("must name its decoder"), none.getMessage());
    assertTrue(none.getMessage().contains(location), none.getMessage());

    rewrite(
        location,
        good.toBuilder().setDecoder(good.getDecoder().toBuilder().setSha256("00ff")).build());
    InvalidModelPackageException other =
        assertThrows(InvalidModelPackageException.class, () -> Models.load(location, "cpu"));
    assertEquals(InvalidModelPackageException.Problem.CHECKSUM_MISMATCH, other.problem());

    Path elsewhere = dir.resolve("other-model");
    String wide =
        TestModels.writeRandomLatentPackage(
            elsewhere, new ModelConfig(8, 3, 2, 32, 2, 2f, 4, 2, 2, 10, 7), 3, TestVaes.SMALL);
    InvalidModelPackageException channels =
        assertThrows(InvalidModelPackageException.class, () -> Models.load(wide, "cpu"));
    assertTrue(channels.getMessage().contains("latent channels"), channels.getMessage());
  }

  @Test
  void anAbsoluteDecoderLocationIsTakenAsIs() throws IOException {
    String location = TestModels.writeRandomLatentPackage(dir, LATENT, 3, TestVaes.SMALL);
    ModelManifest good = manifest(location);
    String absolute = dir.resolve("vae").toAbsolutePath() + "/";
    rewrite(
        location,
        good.toBuilder().setDecoder(good.getDecoder().toBuilder().setLocation(absolute)).build());
    try (LoadedModel model = Models.load(ModelPackages.manifestLocation(location), "cpu")) {
      assertEquals(3, model.sampler().sample(items(1), Tier.of(1, 2)).images().get(0).channels());
    }
  }
}
