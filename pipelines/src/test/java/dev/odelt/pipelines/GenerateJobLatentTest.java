package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.testing.TestModels;
import dev.odelt.model.testing.TestVaes;
import dev.odelt.proto.v1.ImageRecord;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A latent model (random 8×8×4 DiT with a random VAE decoder bundled in its package) through the
 * whole job: manifests → 64×64 RGB PNGs, records with width, height and channels, accounting with
 * decode seconds inside each tier's device seconds, previews.
 */
class GenerateJobLatentTest {

  static final ModelConfig LATENT = new ModelConfig(8, 4, 2, 32, 2, 2f, 4, 2, 2, 10, 7);

  @TempDir Path sandbox;

  @Test
  void latentModelMakesRgbImagesAndAccountsForDecoding() throws IOException {
    String model =
        TestModels.writeRandomLatentPackage(sandbox.resolve("model"), LATENT, 5, TestVaes.SMALL);
    Path in = Files.createDirectories(sandbox.resolve("in"));
    Files.writeString(
        in.resolve("r.jsonl"),
        "{\"request_id\":\"a\",\"class_id\":1,\"num_images\":3,\"tier\":{\"steps\":1,\"blocks\":2}}\n"
            + "{\"request_id\":\"b\",\"class_id\":7,\"num_images\":2,\"tier\":{\"steps\":2,\"blocks\":4,\"guidance\":1.5}}\n");
    Path out = sandbox.resolve("out");
    JobFixtures.Run run =
        JobFixtures.cli(
            "--requests=" + in + "/*.jsonl",
            "--output=" + out,
            "--model=" + model,
            "--device=cpu",
            "--runner=DirectRunner",
            "--maxBatchSize=4");
    assertEquals(GenerateJob.EXIT_OK, run.exitCode(), run.console());
    assertTrue(run.console().contains("decode s"), run.console());

    Map<String, String> images = JobFixtures.tree(out, "images");
    assertEquals(5, images.size(), images.toString());
    for (String relative : images.keySet()) {
      BufferedImage png = ImageIO.read(out.resolve(relative).toFile());
      assertEquals(64, png.getWidth(), relative);
      assertEquals(64, png.getHeight(), relative);
      assertEquals(3, png.getColorModel().getNumComponents(), relative);
    }
    List<ImageRecord> records = GenerateJobFlinkTest.records(out);
    assertEquals(5, records.size());
    for (ImageRecord r : records) {
      assertEquals(64, r.getWidth());
      assertEquals(64, r.getHeight());
      assertEquals(3, r.getChannels());
      assertTrue(r.getDecodeSeconds() > 0 && r.getDecodeSeconds() < r.getDeviceSeconds(), "" + r);
    }
    RunSummary summary = GenerateJob.readSummary(out.toString());
    assertTrue(summary.getDecodeSeconds() > 0);
    for (TierAccount t : summary.getTiersList()) {
      assertTrue(
          t.getDecodeSeconds() > 0 && t.getDecodeSeconds() < t.getDeviceSeconds(), t.toString());
    }
    String csv = Files.readString(out.resolve("accounting/tiers.csv"));
    assertTrue(csv.lines().findFirst().orElseThrow().contains(",decode_seconds"), csv);
    assertTrue(summary.getDecoderDigest().length() == 64, summary.getDecoderDigest());
    try (var previews = Files.list(out.resolve("previews"))) {
      assertEquals(2, previews.filter(p -> p.toString().endsWith(".png")).count());
    }

    // Determinism: other batches give the same images (up to float rounding of the batch).
    Path again = sandbox.resolve("again");
    JobFixtures.Run second =
        JobFixtures.cli(
            "--requests=" + in + "/*.jsonl",
            "--output=" + again,
            "--model=" + model,
            "--device=cpu",
            "--runner=DirectRunner",
            "--maxBatchSize=2");
    assertEquals(GenerateJob.EXIT_OK, second.exitCode(), second.console());
    Map<String, String> imagesAgain = JobFixtures.tree(again, "images");
    assertEquals(images.keySet(), imagesAgain.keySet());
    for (String relative : images.keySet()) {
      BufferedImage a = ImageIO.read(out.resolve(relative).toFile());
      BufferedImage b = ImageIO.read(again.resolve(relative).toFile());
      for (int y = 0; y < 64; y++) {
        for (int x = 0; x < 64; x++) {
          for (int shift = 0; shift < 24; shift += 8) {
            int pa = (a.getRGB(x, y) >> shift) & 0xFF;
            int pb = (b.getRGB(x, y) >> shift) & 0xFF;
            assertTrue(Math.abs(pa - pb) <= 1, relative + " at " + x + "," + y);
          }
        }
      }
    }
  }
}
