package dev.odelt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A copy loaded with only the first L blocks ({@link Models#load(String, String, int)}). */
class PartialModelTest {

  @TempDir Path dir;

  private static final List<SampleItem> ITEMS =
      List.of(new SampleItem(3, 11), new SampleItem(7, 12), new SampleItem(0, 13));

  @Test
  void firstBlocksGiveTheFullModelsImagesAndRejectDeeperTiers() throws Exception {
    String location = TestModels.writeRandomPackage(dir, TestModels.TINY, 5);
    try (LoadedModel full = Models.load(location, "cpu");
        LoadedModel partial = Models.load(location, "cpu", 2)) {
      assertEquals(4, full.maxBlocks());
      assertEquals(2, partial.maxBlocks());
      for (Tier tier : List.of(Tier.of(1, 2), Tier.of(4, 2))) {
        List<GeneratedImage> a = full.sampler().sample(ITEMS, tier).images();
        List<GeneratedImage> b = partial.sampler().sample(ITEMS, tier).images();
        for (int i = 0; i < ITEMS.size(); i++) {
          assertArrayEquals(a.get(i).pixels(), b.get(i).pixels(), tier + " image " + i);
        }
      }
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> partial.sampler().sample(ITEMS, Tier.of(2, 4)));
      assertTrue(e.getMessage().contains("only the first 2"), e.getMessage());
      full.sampler().sample(ITEMS, Tier.of(2, 4));

      // TINY: D=32, MLP 64; one block = adaLN (6D·D + 6D) + 4 (D·D + D) + (64·D + 64) + (D·64 + D).
      long d = 32;
      long block = 6 * d * d + 6 * d + 4 * (d * d + d) + (64 * d + 64) + (d * 64 + d);
      assertEquals(2 * block * 4, full.parameterBytes() - partial.parameterBytes());
      assertEquals(4 * full.network().parameterCount(), full.parameterBytes());
      assertTrue(partial.liveArrayCount() < full.liveArrayCount());
    }
  }

  @Test
  void maxBlocksMustBeABlockCountOfTheModel() throws Exception {
    String location = TestModels.writeRandomPackage(dir, TestModels.TINY, 5);
    assertThrows(IllegalArgumentException.class, () -> Models.load(location, "cpu", 3));
    assertThrows(IllegalArgumentException.class, () -> Models.load(location, "cpu", 0));
    assertThrows(IllegalArgumentException.class, () -> Models.load(location, "cpu", 6));
  }
}
