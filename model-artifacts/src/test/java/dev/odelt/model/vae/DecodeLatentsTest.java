package dev.odelt.model.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.testing.TestVaes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecodeLatentsTest {

  @TempDir Path dir;

  private Path latentsFile(String name, long... shape) throws Exception {
    float[] v = GaussianNoise.standardNormal(2, (int) Tensor.sizeOf(shape));
    Path file = dir.resolve(name);
    Files.write(
        file, SafeTensors.write(Map.of(DecodeLatents.LATENTS, new Tensor(shape, v)), Map.of()));
    return file;
  }

  @Test
  void writesNhwcImagesOfTheNchwDecoder() throws Exception {
    String vaeAt = TestVaes.writeRandomPackage(dir.resolve("vae"), TestVaes.TINY, 2);
    Path in = latentsFile("in.safetensors", 3, 2, 3, 4); // (B, h, w, L)
    Path out = dir.resolve("out.safetensors");
    DecodeLatents.Summary summary =
        DecodeLatents.run(vaeAt, in.toString(), out.toString(), "cpu", 2);
    assertEquals(3, summary.images());
    assertEquals(4, summary.height());
    assertEquals(6, summary.width());
    Tensor images = SafeTensors.read(Files.readAllBytes(out), "out").tensors().get("images");
    assertArrayEquals(new long[] {3, 4, 6, 3}, images.shape());

    Tensor latents = SafeTensors.read(Files.readAllBytes(in), "in").tensors().get("latents");
    try (LoadedVae vae = Vaes.load(vaeAt, "cpu");
        NDManager call = vae.manager().newSubManager()) {
      NDArray nchw = call.create(latents.data(), new Shape(3, 2, 3, 4)).transpose(0, 3, 1, 2);
      float[] expected =
          vae.decode(nchw.duplicate()).transpose(0, 2, 3, 1).duplicate().toFloatArray();
      assertArrayEquals(expected, images.data(), 1e-5f);
    }
  }

  @Test
  void badInputWritesNothing() throws Exception {
    String vaeAt = TestVaes.writeRandomPackage(dir.resolve("vae"), TestVaes.TINY, 2);
    Path out = dir.resolve("out.safetensors");
    Path wrongChannels = latentsFile("c.safetensors", 1, 2, 2, 3);
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> DecodeLatents.run(vaeAt, wrongChannels.toString(), out.toString(), "cpu", 1));
    assertEquals(Problem.WRONG_SHAPE, e.problem());
    assertTrue(e.getMessage().contains("c.safetensors"), e.getMessage());
    Path rank3 = latentsFile("r.safetensors", 2, 2, 4);
    e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> DecodeLatents.run(vaeAt, rank3.toString(), out.toString(), "cpu", 1));
    assertEquals(Problem.WRONG_SHAPE, e.problem());
    Path other = dir.resolve("o.safetensors");
    Files.write(
        other, SafeTensors.write(Map.of("x", new Tensor(new long[] {1}, new float[1])), Map.of()));
    e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> DecodeLatents.run(vaeAt, other.toString(), out.toString(), "cpu", 1));
    assertEquals(Problem.MISSING_TENSOR, e.problem());
    e =
        assertThrows(
            InvalidModelPackageException.class,
            () ->
                DecodeLatents.run(vaeAt, dir.resolve("none").toString(), out.toString(), "cpu", 1));
    assertEquals(Problem.MISSING, e.problem());
    assertFalse(Files.exists(out));
  }
}
