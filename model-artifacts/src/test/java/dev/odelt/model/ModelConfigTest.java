package dev.odelt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.Architecture;
import dev.odelt.proto.v1.PositionLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelConfigTest {

  /** DiT-XL-like in miniature: depth 7, depth_min 3, G 2 → L ∈ {3, 5, 7}. */
  static final ModelConfig XL_LIKE = new ModelConfig(8, 1, 4, 16, 2, 2f, 7, 3, 2, 3, 7);

  @Test
  void depthMinNeedNotBeAMultipleOfTheGroupSize() {
    assertEquals(List.of(3, 5, 7), XL_LIKE.allowedBlocks());
    assertEquals(2, XL_LIKE.blocksRun(3));
    assertEquals(4, XL_LIKE.blocksRun(5));
    assertEquals(6, XL_LIKE.blocksRun(7));
    ModelConfig ditXl = new ModelConfig(32, 4, 2, 1152, 16, 4f, 28, 12, 8, 1000, 7);
    assertEquals(List.of(12, 20, 28), ditXl.allowedBlocks());
    assertEquals(List.of(8, 16, 24), ditXl.allowedBlocks().stream().map(ditXl::blocksRun).toList());
  }

  @Test
  void blocksRunIsTheBlockCountWhenGroupsEndThere() {
    ModelConfig c = new ModelConfig(8, 1, 4, 16, 2, 2f, 6, 2, 2, 3, 7);
    for (int l : c.allowedBlocks()) {
      assertEquals(l, c.blocksRun(l));
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.blocksRun(3));
    assertTrue(e.getMessage().contains("[2, 4, 6]"), e.getMessage());
  }

  @Test
  void depthMinusDepthMinMustStillBeWholeGroups() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ModelConfig(8, 1, 4, 16, 2, 2f, 7, 4, 2, 3, 7));
    assertTrue(e.getMessage().contains("group_size"), e.getMessage());
  }

  @Test
  void newConfigsFollowTheReferencesLayoutAndWriteItExplicitly() {
    assertEquals(PositionLayout.COLUMN_FIRST, XL_LIKE.positionLayout());
    Architecture a = XL_LIKE.toProto();
    assertEquals(PositionLayout.COLUMN_FIRST, a.getPositionLayout());
    assertEquals(XL_LIKE, ModelConfig.fromProto(a));
    ModelConfig rowFirst = XL_LIKE.withPositionLayout(PositionLayout.ROW_FIRST);
    assertEquals(PositionLayout.ROW_FIRST, rowFirst.toProto().getPositionLayout());
    assertEquals(rowFirst, ModelConfig.fromProto(rowFirst.toProto()));
  }

  @Test
  void legacyManifestsWithoutALayoutAreRowFirst() {
    Architecture legacy =
        XL_LIKE.toProto().toBuilder()
            .setPositionLayout(PositionLayout.POSITION_LAYOUT_UNSPECIFIED)
            .build();
    assertEquals(PositionLayout.ROW_FIRST, ModelConfig.fromProto(legacy).positionLayout());
  }

  @Test
  void unknownLayoutsAreRejected() {
    Architecture future = XL_LIKE.toProto().toBuilder().setPositionLayoutValue(7).build();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.fromProto(future));
    assertTrue(e.getMessage().contains("position_layout"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> XL_LIKE.withPositionLayout(PositionLayout.POSITION_LAYOUT_UNSPECIFIED));
  }
}
