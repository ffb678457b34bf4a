package dev.odelt.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.testing.TestVaes;
import dev.odelt.model.testing.TestVaes.Naming;
import dev.odelt.model.vae.VaeConfig;
import dev.odelt.proto.v1.VaeManifest;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffusersVaeTest {

  private static final VaeConfig CONFIG = TestVaes.TINY;
  private static final String Q = "decoder.mid_block.attentions.0.to_q.weight";

  @TempDir Path dir;

  private Map<String, Tensor> tensors() {
    return TestVaes.randomTensors(CONFIG, 5);
  }

  private Path folder(String name, Map<String, Tensor> tensors, Naming naming, String dtype)
      throws Exception {
    Path folder = dir.resolve(name);
    TestVaes.writeDiffusersFolder(folder, CONFIG, tensors, naming, dtype);
    return folder;
  }

  private byte[] weightsOf(Path pkg) throws Exception {
    return Files.readAllBytes(pkg.resolve(ModelPackages.WEIGHTS));
  }

  @Test
  void bothAttentionNamingsImportToIdenticalWeights() throws Exception {
    Map<String, Tensor> tensors = tensors();
    VaeManifest fromNew =
        DiffusersVae.importFolder(
            folder("new", tensors, Naming.NEW, "F32").toString(), dir.resolve("p-new").toString());
    VaeManifest fromOld =
        DiffusersVae.importFolder(
            folder("old", tensors, Naming.OLD, "F32").toString(), dir.resolve("p-old").toString());
    VaeManifest fromConv =
        DiffusersVae.importFolder(
            folder("conv", tensors, Naming.OLD_CONV, "F32").toString(),
            dir.resolve("p-conv").toString());
    byte[] reference = weightsOf(dir.resolve("p-new"));
    assertArrayEquals(reference, weightsOf(dir.resolve("p-old")));
    assertArrayEquals(reference, weightsOf(dir.resolve("p-conv")));
    assertEquals(fromNew.getWeights(), fromOld.getWeights());
    assertEquals(fromNew.getWeights(), fromConv.getWeights());
    assertEquals(fromNew.getArchitecture(), fromConv.getArchitecture());
    // The package holds the decoder's tensors only, under the newer names, unchanged.
    VaePackage pkg = VaePackages.read(dir.resolve("p-conv").toString());
    assertEquals(tensors, new LinkedHashMap<>(pkg.tensors()));
    assertEquals(CONFIG, pkg.config());
  }

  @Test
  void manifestRecordsSourcesAndIsReproducible() throws Exception {
    Path folder = folder("src", tensors(), Naming.NEW, "F32");
    VaeManifest first = DiffusersVae.importFolder(folder.toString(), dir.resolve("a").toString());
    VaeManifest second = DiffusersVae.importFolder(folder.toString(), dir.resolve("b").toString());
    assertEquals(first, second);
    assertArrayEquals(
        Files.readAllBytes(dir.resolve("a/manifest.json")),
        Files.readAllBytes(dir.resolve("b/manifest.json")));
    assertEquals("src", first.getName());
    assertEquals(DiffusersVae.SOURCE_FORMAT, first.getSourceFormat());
    assertEquals(2, first.getSourcesCount());
    Path weights = folder.resolve(DiffusersVae.WEIGHTS);
    assertEquals(weights.toString(), first.getSources(1).getFile());
    assertEquals(
        ModelPackages.sha256(Files.readAllBytes(weights)), first.getSources(1).getSha256());
    assertEquals(Files.size(weights), first.getSources(1).getSizeBytes());
    assertEquals(
        ModelPackages.sha256(Files.readAllBytes(folder.resolve(DiffusersVae.CONFIG))),
        first.getSources(0).getSha256());
  }

  @Test
  void halfPrecisionFilesAreWidenedExactly() throws Exception {
    // Multiples of 1/32 below 8 in magnitude are exact in F16 and BF16.
    Map<String, Tensor> tensors = TestVaes.quantized(tensors(), 32);
    DiffusersVae.importFolder(
        folder("f32", tensors, Naming.NEW, "F32").toString(), dir.resolve("p32").toString());
    DiffusersVae.importFolder(
        folder("f16", tensors, Naming.OLD, "F16").toString(), dir.resolve("p16").toString());
    DiffusersVae.importFolder(
        folder("bf16", tensors, Naming.NEW, "BF16").toString(), dir.resolve("pbf").toString());
    assertArrayEquals(weightsOf(dir.resolve("p32")), weightsOf(dir.resolve("p16")));
    assertArrayEquals(weightsOf(dir.resolve("p32")), weightsOf(dir.resolve("pbf")));
    assertEquals(
        tensors, new LinkedHashMap<>(VaePackages.read(dir.resolve("pbf").toString()).tensors()));
  }

  private InvalidModelPackageException failsWithoutWriting(Path folder, Problem problem) {
    Path out = dir.resolve("out-" + folder.getFileName());
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> DiffusersVae.importFolder(folder.toString(), out.toString()));
    assertEquals(problem, e.problem(), e.getMessage());
    assertFalse(Files.exists(out), "nothing may be written on bad input");
    return e;
  }

  @Test
  void missingFilesAreNamed() throws Exception {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    InvalidModelPackageException e = failsWithoutWriting(empty, Problem.MISSING);
    assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    Path noWeights = folder("noweights", tensors(), Naming.NEW, "F32");
    Files.delete(noWeights.resolve(DiffusersVae.WEIGHTS));
    e = failsWithoutWriting(noWeights, Problem.MISSING);
    assertTrue(e.getMessage().contains(DiffusersVae.WEIGHTS), e.getMessage());
  }

  @Test
  void otherArchitecturesAreRejected() throws Exception {
    Path folder = folder("vq", tensors(), Naming.NEW, "F32");
    Files.writeString(
        folder.resolve("config.json"),
        Files.readString(folder.resolve("config.json")).replace("AutoencoderKL", "VQModel"));
    InvalidModelPackageException e = failsWithoutWriting(folder, Problem.MALFORMED);
    assertTrue(e.getMessage().contains("VQModel"), e.getMessage());
  }

  @Test
  void missingTensorIsNamed() throws Exception {
    Map<String, Tensor> tensors = tensors();
    tensors.remove("decoder.up_blocks.1.resnets.0.conv2.bias");
    InvalidModelPackageException e =
        failsWithoutWriting(folder("missing", tensors, Naming.NEW, "F32"), Problem.MISSING_TENSOR);
    assertTrue(e.getMessage().contains("decoder.up_blocks.1.resnets.0.conv2.bias"), e.getMessage());
  }

  @Test
  void misshapenTensorIsNamedInTheFilesNaming() throws Exception {
    Map<String, Tensor> tensors = tensors();
    tensors.put(Q, new Tensor(new long[] {16, 8}, new float[128]));
    InvalidModelPackageException e =
        failsWithoutWriting(folder("shape", tensors, Naming.OLD, "F32"), Problem.WRONG_SHAPE);
    assertTrue(
        e.getMessage().contains("decoder.mid_block.attentions.0.query.weight"), e.getMessage());
    tensors.put(Q, new Tensor(new long[] {16, 16, 3, 3}, new float[16 * 16 * 9]));
    e = failsWithoutWriting(folder("kernel", tensors, Naming.OLD_CONV, "F32"), Problem.WRONG_SHAPE);
    assertTrue(e.getMessage().contains("query.weight"), e.getMessage());
  }

  @Test
  void extraTensorsAreRejected() throws Exception {
    Map<String, Tensor> tensors = tensors();
    tensors.put(
        "decoder.up_blocks.1.upsamplers.0.conv.bias", new Tensor(new long[] {8}, new float[8]));
    InvalidModelPackageException e =
        failsWithoutWriting(folder("extra", tensors, Naming.NEW, "F32"), Problem.UNKNOWN_TENSOR);
    assertTrue(e.getMessage().contains("up_blocks.1.upsamplers.0.conv.bias"), e.getMessage());
    Map<String, Tensor> stray = tensors();
    stray.put("unet.conv_in.weight", new Tensor(new long[] {1}, new float[1]));
    e = failsWithoutWriting(folder("stray", stray, Naming.NEW, "F32"), Problem.UNKNOWN_TENSOR);
    assertTrue(e.getMessage().contains("unet.conv_in.weight"), e.getMessage());
  }

  @Test
  void bothNamingsInOneFileAreRejected() throws Exception {
    Path folder = folder("both", tensors(), Naming.OLD, "F32");
    Map<String, Tensor> file =
        new LinkedHashMap<>(
            SafeTensors.read(Files.readAllBytes(folder.resolve(DiffusersVae.WEIGHTS)), "x")
                .tensors());
    file.put(Q, new Tensor(new long[] {16, 16}, new float[256]));
    Files.write(folder.resolve(DiffusersVae.WEIGHTS), SafeTensors.write(file, Map.of()));
    InvalidModelPackageException e = failsWithoutWriting(folder, Problem.MALFORMED);
    assertTrue(
        e.getMessage().contains("query.weight") && e.getMessage().contains(Q), e.getMessage());
  }

  @Test
  void anExistingPackageIsNotOverwritten() throws Exception {
    Path folder = folder("twice", tensors(), Naming.NEW, "F32");
    DiffusersVae.importFolder(folder.toString(), dir.resolve("pkg").toString());
    byte[] before = Files.readAllBytes(dir.resolve("pkg/manifest.json"));
    assertThrows(
        FileAlreadyExistsException.class,
        () -> DiffusersVae.importFolder(folder.toString(), dir.resolve("pkg").toString()));
    assertArrayEquals(before, Files.readAllBytes(dir.resolve("pkg/manifest.json")));
  }

  @Test
  void olderNamesMapToNewer() {
    assertEquals(
        "decoder.mid_block.attentions.0.to_out.0.bias",
        DiffusersVae.packageName("decoder.mid_block.attentions.0.proj_attn.bias"));
    assertEquals(
        "decoder.mid_block.attentions.0.group_norm.weight",
        DiffusersVae.packageName("decoder.mid_block.attentions.0.group_norm.weight"));
    assertEquals(
        "decoder.up_blocks.0.resnets.0.conv1.weight",
        DiffusersVae.packageName("decoder.up_blocks.0.resnets.0.conv1.weight"));
  }
}
