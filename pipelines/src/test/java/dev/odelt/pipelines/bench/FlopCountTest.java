package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.odelt.model.ModelConfig;
import org.junit.jupiter.api.Test;

class FlopCountTest {

  /** 4×4×1 image, patch 2 (N = 4, P = 4), D = 8, 2 heads, MLP 16, 2 blocks. */
  private static final ModelConfig TINY = new ModelConfig(4, 1, 2, 8, 2, 2f, 2, 2, 2, 10, 7);

  @Test
  void countsEachPartAsComputedByHand() {
    FlopCount f = new FlopCount(TINY);
    assertEquals(2 * 4 * 4 * 8, f.patchEmbed()); // 256
    assertEquals(2 * (2 * 256 * 8 + 2 * 8 * 8), f.conditioning()); // 8448
    // adaLN 768 + q,k,v 1536 + QKᵀ and weights·V 512 + projection 512 + MLP 2048
    assertEquals(5376, f.block());
    assertEquals(2 * 8 * 16 + 2 * 4 * 8 * 4, f.finalLayer()); // 512
    assertEquals(256 + 8448 + 2 * 5376 + 512, f.perImage(2));
    assertEquals(3L * 19968, f.perCall(3, 2));
  }

  @Test
  void blocksAddLinearly() {
    FlopCount f = new FlopCount(new ModelConfig(32, 1, 4, 128, 4, 4f, 6, 2, 2, 10, 7));
    assertEquals(4 * f.block(), f.perImage(6) - f.perImage(2));
  }

  @Test
  void onlyTheBlocksThatRunCount() {
    // depth 7, depth_min 3, G 2: L = 3 runs 2 blocks, L = 7 runs 6.
    FlopCount f = new FlopCount(new ModelConfig(32, 1, 4, 128, 4, 4f, 7, 3, 2, 10, 7));
    assertEquals(4 * f.block(), f.perImage(7) - f.perImage(3));
    assertEquals(f.perImage(3) - 2 * f.block(), f.patchEmbed() + f.conditioning() + f.finalLayer());
  }
}
