package dev.odelt.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.testing.TestVaes;
import dev.odelt.model.vae.ImageDecoder;
import dev.odelt.model.vae.VaeConfig;
import dev.odelt.proto.v1.VaeManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VaePackagesTest {

  private static final VaeConfig CONFIG = TestVaes.TINY;

  @TempDir Path dir;

  @Test
  void writeThenReadRoundTrips() throws Exception {
    Map<String, Tensor> tensors = TestVaes.randomTensors(CONFIG, 3);
    VaeManifest written =
        VaePackages.write(
            dir.toString(),
            VaeManifest.newBuilder().setName("vae").setVersion("2").build(),
            CONFIG,
            tensors);
    VaePackage pkg = VaePackages.read(dir.toString());
    assertEquals(written, pkg.manifest());
    assertEquals(CONFIG, pkg.config());
    assertEquals(tensors, new LinkedHashMap<>(pkg.tensors()));
    assertEquals(
        ModelPackages.sha256(Files.readAllBytes(dir.resolve(ModelPackages.WEIGHTS))),
        written.getWeights().getSha256());
    // File order is the decoder's parameter order.
    assertEquals(
        new ArrayList<>(ImageDecoder.parameterShapes(CONFIG).keySet()),
        new ArrayList<>(
            SafeTensors.read(Files.readAllBytes(dir.resolve(ModelPackages.WEIGHTS)), "w")
                .tensors()
                .keySet()));
  }

  @Test
  void corruptedWeightsAreDetected() throws Exception {
    TestVaes.writeRandomPackage(dir, CONFIG, 4);
    Path weights = dir.resolve(ModelPackages.WEIGHTS);
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 1] ^= 1;
    Files.write(weights, bytes);
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> VaePackages.read(dir.toString()));
    assertEquals(Problem.CHECKSUM_MISMATCH, e.problem());
  }

  @Test
  void missingPackageIsNamed() {
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> VaePackages.read(dir.resolve("none").toString()));
    assertEquals(Problem.MISSING, e.problem());
    assertTrue(e.getMessage().contains("none/manifest.json"), e.getMessage());
  }

  @Test
  void writerChecksTensorsBeforeWriting() {
    Map<String, Tensor> tensors = TestVaes.randomTensors(CONFIG, 3);
    tensors.put("decoder.conv_out.bias", new Tensor(new long[] {4}, new float[4]));
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () ->
                VaePackages.write(
                    dir.toString(), VaeManifest.getDefaultInstance(), CONFIG, tensors));
    assertEquals(Problem.WRONG_SHAPE, e.problem());
    assertTrue(e.getMessage().contains("decoder.conv_out.bias"), e.getMessage());
    assertEquals(0, dir.toFile().list().length);
  }

  @Test
  void manifestOfAnotherArchitectureFailsVerification() throws Exception {
    TestVaes.writeRandomPackage(dir, CONFIG, 4);
    Path manifest = dir.resolve(ModelPackages.MANIFEST);
    Files.writeString(
        manifest,
        Files.readString(manifest).replace("\"layersPerBlock\": 1", "\"layersPerBlock\": 2"));
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> VaePackages.read(dir.toString()));
    assertEquals(Problem.MISSING_TENSOR, e.problem());
  }
}
