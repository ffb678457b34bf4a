package dev.odelt.model.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.io.ModelPackage;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.tools.RandomPackages.PaperShape;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.PositionLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RandomPackagesTest {

  @Test
  void shapesAreThePapers() {
    ModelConfig b = PaperShape.DIT_B_2.config(1000);
    assertEquals(List.of(4, 8, 12), b.allowedBlocks());
    assertEquals(768, b.hiddenSize());
    assertEquals(256, b.tokens());
    assertEquals(16, b.patchValues());
    assertEquals(PositionLayout.COLUMN_FIRST, b.positionLayout());
    ModelConfig xl = PaperShape.DIT_XL_2.config(1000);
    assertEquals(List.of(12, 20, 28), xl.allowedBlocks());
    assertEquals(List.of(8, 16, 24), xl.allowedBlocks().stream().map(xl::blocksRun).toList());
    assertEquals(72, xl.headDim());
    // DiT-B/2 has ~130M parameters, DiT-XL/2 ~675M (with the step-level embedder and tables).
    assertEquals(131, new OdeltNetwork(b).parameterCount() / 1_000_000);
    assertEquals(676, new OdeltNetwork(xl).parameterCount() / 1_000_000);
  }

  @Test
  void writesAReadablePackageWithTheInitialisersWeights(@TempDir Path dir) throws Exception {
    ModelConfig tiny =
        new ModelConfig(8, 4, 2, 16, 2, 4f, 7, 3, 2, 1, 7, PositionLayout.COLUMN_FIRST);
    RandomPackages.write(dir, PaperShape.DIT_XL_2, tiny, 9);
    ModelPackage pkg = ModelPackages.read(dir.toString());
    assertEquals(tiny, pkg.config());
    ModelManifest m = pkg.manifest();
    assertEquals("latent", m.getNormalization().getSpace());
    assertTrue(m.getUnconditional());
    assertEquals("draft", m.getTiers(0).getName());
    assertEquals(3, m.getTiers(0).getTier().getBlocks());
    assertEquals(1, m.getTiers(0).getTier().getSteps());
    Map<String, Shape> shapes = new OdeltNetwork(tiny).parameterShapes();
    for (Map.Entry<String, Tensor> e : pkg.tensors().entrySet()) {
      Shape shape = shapes.get(e.getKey());
      float[] expected =
          OdeltNetwork.initialValues(e.getKey(), shape, 9, OdeltNetwork.Init.RANDOM);
      assertArrayEquals(expected, e.getValue().data(), 0f, e.getKey());
    }
  }

  @Test
  void badFlagsNameTheFlagAndWriteNothing(@TempDir Path dir) {
    Path out = dir.resolve("out");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> RandomPackages.main(new String[] {"--shape=dit-l-2", "--output=" + out}));
    assertTrue(e.getMessage().contains("--shape"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RandomPackages.main(
                    new String[] {"--shape=dit-b-2", "--output=" + out, "--classes=0"}));
    assertTrue(e.getMessage().contains("--classes"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                RandomPackages.main(
                    new String[] {"--shape=dit-b-2", "--output=" + out, "--seed=x"}));
    assertTrue(e.getMessage().contains("--seed"), e.getMessage());
    assertFalse(Files.exists(out));
  }
}
