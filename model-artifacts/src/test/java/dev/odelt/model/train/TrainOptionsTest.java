package dev.odelt.model.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.PositionLayout;
import org.junit.jupiter.api.Test;

class TrainOptionsTest {

  @Test
  void defaultsAreTheShippedRecipeModel() {
    TrainOptions o = TrainOptions.parse();
    assertEquals(TrainOptions.DEFAULT_MODEL, o.model());
    assertEquals(java.util.List.of(2, 4, 6), o.model().allowedBlocks());
    assertEquals(PositionLayout.COLUMN_FIRST, o.model().positionLayout());
  }

  @Test
  void theLayoutOfOlderCheckpointsCanBeChosen() {
    assertEquals(
        PositionLayout.ROW_FIRST,
        TrainOptions.parse("--positionLayout=ROW_FIRST").model().positionLayout());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TrainOptions.parse("--positionLayout=POSITION_LAYOUT_UNSPECIFIED"));
    assertTrue(e.getMessage().contains("--positionLayout"), e.getMessage());
  }

  @Test
  void learningRateWarmsUpLinearlyThenFollowsACosineToTheFloor() {
    TrainOptions o =
        TrainOptions.parse(
            "--steps=110", "--warmupSteps=10", "--learningRate=1e-3",
            "--minLearningRateFraction=0.1");
    assertEquals(1e-4f, o.learningRateAt(0), 1e-9f);
    assertEquals(1e-3f, o.learningRateAt(9), 1e-9f);
    assertEquals(1e-3f, o.learningRateAt(10), 1e-9f);
    // Half way through the cosine: floor + (peak − floor)/2 = 1e-4 + 4.5e-4.
    assertEquals(5.5e-4f, o.learningRateAt(60), 1e-7f);
    assertEquals(1e-4f, o.learningRateAt(110), 1e-9f);
  }

  @Test
  void unknownOrMalformedOptionsFailWithTheUsage() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse("--stepz=3"));
    assertTrue(e.getMessage().contains("stepz") && e.getMessage().contains("--steps="));
    assertThrows(IllegalArgumentException.class, () -> TrainOptions.parse("steps=3"));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            TrainOptions.parse(
                "--selfConsistencyFraction=0.6", "--lengthConsistencyFraction=0.5"));
  }
}
