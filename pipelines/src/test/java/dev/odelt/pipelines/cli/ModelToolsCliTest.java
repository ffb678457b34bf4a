package dev.odelt.pipelines.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.testing.TestVaes;
import dev.odelt.pipelines.GenerateJob;
import dev.odelt.proto.v1.ModelManifest;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model subcommands end to end, as a user chains them: import-vae (a diffusers folder) →
 * import-checkpoint --vae (a checkpoint in the paper's pickle format) → the job makes RGB images
 * with the imported latent model; decode on its own; bad input exits 2 and writes nothing.
 */
class ModelToolsCliTest {

  /** The committed official-format pickle: width 4, depth 2, 3 classes, 4×4×4 latents. */
  private static final String CHECKPOINT =
      "/dev/odelt/model/imports/tiny-p2-numpy1-frozen-state.pkl";

  @TempDir Path dir;

  private Path checkpoint() throws Exception {
    Path file = dir.resolve("tiny.pkl");
    try (InputStream in = getClass().getResourceAsStream(CHECKPOINT)) {
      Files.copy(in, file);
    }
    return file;
  }

  private Path diffusersFolder() throws Exception {
    Path folder = dir.resolve("sd-vae-like");
    TestVaes.writeDiffusersFolder(
        folder,
        TestVaes.SMALL,
        TestVaes.randomTensors(TestVaes.SMALL, 7),
        TestVaes.Naming.OLD,
        "F32");
    return folder;
  }

  @Test
  void importedCheckpointAndVaeGenerateRgbImagesThroughTheJob() throws Exception {
    Path vae = dir.resolve("vae");
    CliTest.Run importVae =
        CliTest.cli("import-vae", "--diffusers=" + diffusersFolder(), "--output=" + vae);
    assertEquals(GenerateJob.EXIT_OK, importVae.exitCode(), importVae.console());

    Path model = dir.resolve("model");
    CliTest.Run importCheckpoint =
        CliTest.cli(
            "import-checkpoint",
            "--checkpoint=" + checkpoint(),
            "--output=" + model,
            "--imageSize=4",
            "--heads=2",
            "--depthMin=1",
            "--groupSize=1",
            "--vae=" + vae,
            "--name=tiny-imported",
            "--version=1");
    assertEquals(GenerateJob.EXIT_OK, importCheckpoint.exitCode(), importCheckpoint.console());
    ModelManifest manifest = ModelPackages.read(model.toString()).manifest();
    assertEquals("latent", manifest.getNormalization().getSpace());
    assertFalse(manifest.getDecoder().getSha256().isEmpty());

    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(
        in.resolve("r.jsonl"),
        "{\"request_id\":\"a\",\"class_id\":1,\"num_images\":2,\"tier\":{\"steps\":2,\"blocks\":2}}\n");
    Path out = dir.resolve("out");
    CliTest.Run job =
        CliTest.cli(
            "--requests=" + in + "/*.jsonl",
            "--output=" + out,
            "--model=" + model,
            "--device=cpu",
            "--runner=DirectRunner");
    assertEquals(GenerateJob.EXIT_OK, job.exitCode(), job.console());
    try (Stream<Path> pngs = Files.walk(out.resolve("images"))) {
      for (Path png : pngs.filter(p -> p.toString().endsWith(".png")).toList()) {
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(32, image.getWidth(), "8× the 4×4 latent");
        assertEquals(3, image.getColorModel().getNumComponents());
      }
    }
  }

  @Test
  void decodeWritesRawImagesInNhwc() throws Exception {
    Path vae = dir.resolve("vae");
    assertEquals(
        GenerateJob.EXIT_OK,
        CliTest.cli("import-vae", "--diffusers=" + diffusersFolder(), "--output=" + vae)
            .exitCode());
    float[] values = new float[2 * 3 * 5 * 4];
    SplittableRandom rng = new SplittableRandom(1);
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (rng.nextDouble() * 2 - 1);
    }
    Path latents = dir.resolve("latents.safetensors");
    Files.write(
        latents,
        SafeTensors.write(
            Map.of("latents", new Tensor(new long[] {2, 3, 5, 4}, values)), Map.of()));
    Path images = dir.resolve("images.safetensors");
    CliTest.Run run =
        CliTest.cli(
            "decode",
            "--vae=" + vae,
            "--latents=" + latents,
            "--output=" + images,
            "--batchSize=1");
    assertEquals(GenerateJob.EXIT_OK, run.exitCode(), run.console());
    Tensor decoded = SafeTensors.read(Files.readAllBytes(images), "images").tensors().get("images");
    assertEquals(
        java.util.List.of(2L, 24L, 40L, 3L),
        java.util.Arrays.stream(decoded.shape()).boxed().toList());

    Path reduced = dir.resolve("images-bf16.safetensors");
    CliTest.Run bf16 =
        CliTest.cli(
            "decode",
            "--vae=" + vae,
            "--latents=" + latents,
            "--output=" + reduced,
            "--precision=bf16");
    assertEquals(GenerateJob.EXIT_OK, bf16.exitCode(), bf16.console());
    float[] expected = decoded.data();
    float[] actual =
        SafeTensors.read(Files.readAllBytes(reduced), "images").tensors().get("images").data();
    double max = 0;
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      max = Math.max(max, Math.abs(expected[i]));
      worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(worst <= 0.02 * max, "bf16 max |d| " + worst + " against max " + max);

    CliTest.Run unknown =
        CliTest.cli(
            "decode",
            "--vae=" + vae,
            "--latents=" + latents,
            "--output=" + dir.resolve("fp8.safetensors"),
            "--precision=fp8");
    assertEquals(GenerateJob.EXIT_USAGE, unknown.exitCode(), unknown.console());
    assertFalse(Files.exists(dir.resolve("fp8.safetensors")));
  }

  @Test
  void importsAndDecodesTheTinyDecoder() throws Exception {
    Path folder = dir.resolve("taesd-diffusers");
    TestVaes.writeDiffusersFolder(
        folder,
        TestVaes.TAESD_SMALL,
        TestVaes.randomTensors(TestVaes.TAESD_SMALL, 8),
        TestVaes.Naming.NEW,
        "F32");
    Path vae = dir.resolve("taesd");
    CliTest.Run imported = CliTest.cli("import-vae", "--diffusers=" + folder, "--output=" + vae);
    assertEquals(GenerateJob.EXIT_OK, imported.exitCode(), imported.console());
    assertTrue(Files.readString(vae.resolve("manifest.json")).contains("AutoencoderTiny"));
    Path latents = dir.resolve("tiny-latents.safetensors");
    Files.write(
        latents,
        SafeTensors.write(
            Map.of("latents", new Tensor(new long[] {1, 2, 3, 4}, new float[24])), Map.of()));
    Path images = dir.resolve("tiny-images.safetensors");
    CliTest.Run run =
        CliTest.cli("decode", "--vae=" + vae, "--latents=" + latents, "--output=" + images);
    assertEquals(GenerateJob.EXIT_OK, run.exitCode(), run.console());
    Tensor decoded = SafeTensors.read(Files.readAllBytes(images), "images").tensors().get("images");
    assertEquals(
        java.util.List.of(1L, 16L, 24L, 3L),
        java.util.Arrays.stream(decoded.shape()).boxed().toList());
  }

  @Test
  void badInputExitsTwoAndWritesNothing() throws Exception {
    Path notPickle = Files.writeString(dir.resolve("notes.pkl"), "hello, not a pickle");
    Path model = dir.resolve("model");
    CliTest.Run imported =
        CliTest.cli("import-checkpoint", "--checkpoint=" + notPickle, "--output=" + model);
    assertEquals(GenerateJob.EXIT_USAGE, imported.exitCode(), imported.console());
    assertFalse(Files.exists(model.resolve("manifest.json")));

    CliTest.Run preset =
        CliTest.cli(
            "import-checkpoint",
            "--checkpoint=" + checkpoint(),
            "--output=" + model,
            "--preset=celeba-dit-s");
    assertEquals(GenerateJob.EXIT_USAGE, preset.exitCode(), preset.console());

    Path noConfig = Files.createDirectories(dir.resolve("empty-diffusers"));
    Path vae = dir.resolve("vae");
    CliTest.Run importVae = CliTest.cli("import-vae", "--diffusers=" + noConfig, "--output=" + vae);
    assertEquals(GenerateJob.EXIT_USAGE, importVae.exitCode(), importVae.console());
    assertFalse(Files.exists(vae.resolve("manifest.json")));

    CliTest.Run shape =
        CliTest.cli("random-package", "--shape=dit-s-2", "--output=" + dir.resolve("random"));
    assertEquals(GenerateJob.EXIT_USAGE, shape.exitCode(), shape.console());
    assertTrue(shape.console().contains("--shape"), shape.console());
    assertFalse(Files.exists(dir.resolve("random")));

    CliTest.Run decode =
        CliTest.cli(
            "decode",
            "--vae=" + dir.resolve("no-vae"),
            "--latents=" + dir.resolve("none.safetensors"),
            "--output=" + dir.resolve("out.safetensors"));
    assertEquals(GenerateJob.EXIT_USAGE, decode.exitCode(), decode.console());
    assertFalse(Files.exists(dir.resolve("out.safetensors")));
  }
}
