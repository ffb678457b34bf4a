package dev.odelt.model.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.proto.v1.TierSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Refusals of files from outside: one test per rule of {@link InputLimits} and its readers. */
class InputLimitsTest {

  @TempDir Path dir;

  private static byte[] safetensors(String header, int dataBytes) {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(json.length).put(json);
    return b.array();
  }

  private static String refusal(String header, int dataBytes) {
    return assertThrows(
            InvalidModelPackageException.class,
            () -> SafeTensors.read(safetensors(header, dataBytes), "f.safetensors"))
        .getMessage();
  }

  @Test
  void safetensorsHeadersAreStrictJson() {
    String ok = "\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]";
    assertTrue(
        refusal("{\"a\": {" + ok + "}, \"a\": {" + ok + "}}", 8).contains("'a' twice"),
        "a tensor named twice");
    assertTrue(refusal("/* c */ {\"a\": {" + ok + "}}", 8).contains("not strict JSON"));
    assertTrue(refusal("{'a': {" + ok + "}}", 8).contains("not strict JSON"));
    assertTrue(
        refusal("{\"a\": {\"dtype\": \"F32\", \"shape\": [2.9], \"data_offsets\": [0, 8]}}", 8)
            .contains("shape[0] must be an integer, got 2.9"));
    assertTrue(
        refusal("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0.0, 8]}}", 8)
            .contains("data_offsets[0] must be an integer"));
    assertTrue(
        refusal(
                "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\":"
                    + " [18446744073709551616, 18446744073709551624]}}",
                8)
            .contains("data_offsets[0] must be an integer"));
    assertTrue(
        refusal(
                "{\"a\": {\"dtype\": \"F32\", \"shape\": [1, 1, 1, 1, 1, 1, 1, 1, 1],"
                    + " \"data_offsets\": [0, 4]}}",
                4)
            .contains("the limit is 8"));
    assertTrue(
        refusal("{\"a\": " + "[".repeat(100) + "]".repeat(100) + "}", 0)
            .contains("deeper than " + InputLimits.MAX_JSON_DEPTH));
  }

  @Test
  void nonFiniteValuesAreRefusedByName() throws Exception {
    float[] values = {1f, Float.NaN};
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () ->
                InputLimits.checkFinite(
                    "w", Map.of("blocks.0.w", new Tensor(new long[] {2}, values))));
    assertTrue(e.getMessage().contains("'blocks.0.w' holds NaN at element 1"), e.getMessage());
  }

  @Test
  void shapesAreCountedWithoutOverflow() {
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> InputLimits.elements("f", "x", new long[] {1L << 40, 1L << 40}));
    assertTrue(e.getMessage().contains("more than " + InputLimits.MAX_ELEMENTS), e.getMessage());
    assertEquals(0, assertDoesNotOverflow(new long[] {0, Long.MAX_VALUE}));
  }

  private static long assertDoesNotOverflow(long[] shape) {
    try {
      return InputLimits.elements("f", "x", shape);
    } catch (InvalidModelPackageException e) {
      throw new AssertionError(e);
    }
  }

  private ModelManifest rewrite(Path pkg, java.util.function.UnaryOperator<ModelManifest> edit)
      throws Exception {
    Path manifest = pkg.resolve(ModelPackages.MANIFEST);
    ModelManifest.Builder b = ModelManifest.newBuilder();
    JsonFormat.parser().merge(Files.readString(manifest), b);
    ModelManifest edited = edit.apply(b.build());
    Files.writeString(manifest, JsonFormat.printer().print(edited));
    return edited;
  }

  @Test
  void weightsOutsideThePackageAreRefusedEvenWhenTheDigestMatches() throws Exception {
    Path pkg = dir.resolve("pkg");
    TestModels.writeRandomPackage(pkg, TestModels.TINY, 3);
    Files.copy(pkg.resolve(ModelPackages.WEIGHTS), dir.resolve("outside.safetensors"));
    rewrite(
        pkg,
        m ->
            m.toBuilder()
                .setWeights(m.getWeights().toBuilder().setFile("../outside.safetensors"))
                .build());
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(pkg.toString()));
    assertEquals(Problem.MALFORMED, e.problem());
    assertTrue(e.getMessage().contains("weights.file must name a file inside the package"));
  }

  @Test
  void weightsThatAreNotRegularFilesAreRefusedWithoutReading() throws Exception {
    Path pkg = dir.resolve("pkg");
    TestModels.writeRandomPackage(pkg, TestModels.TINY, 3);
    Files.delete(pkg.resolve(ModelPackages.WEIGHTS));
    Files.createSymbolicLink(pkg.resolve(ModelPackages.WEIGHTS), Path.of("/dev/zero"));
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(pkg.toString()));
    assertTrue(e.getMessage().contains("is not a regular file"), e.getMessage());
  }

  @Test
  void presetsFollowTheRulesOfExplicitTiers() throws Exception {
    Path pkg = dir.resolve("pkg");
    TestModels.writeRandomPackage(pkg, TestModels.TINY, 3);
    rewrite(
        pkg,
        m ->
            m.toBuilder()
                .clearTiers()
                .addTiers(
                    TierPreset.newBuilder()
                        .setName("draft")
                        .setTier(TierSpec.newBuilder().setSteps(1 << 30).setBlocks(4)))
                .setDefaultTier("draft")
                .build());
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(pkg.toString()));
    assertTrue(
        e.getMessage().contains("preset 'draft' steps is 1073741824, the limit is 1 to 1024"),
        e.getMessage());
  }

  @Test
  void architectureBeyondTheLimitsIsRefusedBeforeAnythingIsBuilt() throws Exception {
    Path pkg = dir.resolve("pkg");
    TestModels.writeRandomPackage(pkg, TestModels.TINY, 3);
    rewrite(
        pkg,
        m ->
            m.toBuilder()
                .setArchitecture(m.getArchitecture().toBuilder().setNumClasses(Integer.MAX_VALUE))
                .build());
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(pkg.toString()));
    assertTrue(e.getMessage().contains("architecture.num_classes is 2147483647"), e.getMessage());
  }

  @Test
  void manifestsAreStrictJson() throws Exception {
    Path pkg = dir.resolve("pkg");
    TestModels.writeRandomPackage(pkg, TestModels.TINY, 3);
    Path manifest = pkg.resolve(ModelPackages.MANIFEST);
    String text = Files.readString(manifest);
    Files.writeString(manifest, "{\"name\": \"twice\", " + text.strip().substring(1));
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(pkg.toString()));
    assertTrue(e.getMessage().contains("JSON names 'name' twice"), e.getMessage());
  }
}
