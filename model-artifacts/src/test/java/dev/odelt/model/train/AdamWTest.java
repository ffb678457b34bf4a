package dev.odelt.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdamWTest {

  /** Backward of sum(p · c) for a constant c: p's gradient accumulates c. */
  private static void backward(NDArray p, float c) {
    try (NDManager sm = p.getManager().newSubManager();
        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      gc.backward(p.mul(sm.full(p.getShape(), c)).sum());
    }
  }

  @Test
  void aSkippedNonFiniteStepLeavesTheGradientUsable() throws InterruptedException {
    try (NDManager manager = NDManager.newBaseManager()) {
      NDArray p = manager.ones(new Shape(4));
      p.setRequiresGradient(true);
      AdamW adam = new AdamW(Map.of("w.weight", p), manager, 0f);

      backward(p, Float.NaN);
      assertTrue(Float.isNaN(adam.step(1, 0f, 0f)));
      assertEquals(List.of("w.weight"), adam.nonFiniteGradients());
      assertArrayEquals(new float[] {1, 1, 1, 1}, p.toFloatArray(), 0f, "skipped: no update");

      // The gradient is zeroed in place and its handles closed; later backward passes must
      // accumulate into live memory, not into a buffer the collector has since freed.
      for (int step = 2; step <= 4; step++) {
        TrainerTest.collectAndScribble();
        backward(p, 2f);
        assertEquals(4f, adam.step(step, 0f, 0f), 0f, "‖(2, 2, 2, 2)‖ at step " + step);
      }
    }
  }

  @Test
  void weightDecayReachesBiasesAndEmbeddingsOnlyWhenDecayingAll() {
    for (boolean all : new boolean[] {false, true}) {
      try (NDManager manager = NDManager.newBaseManager()) {
        Map<String, NDArray> params = new java.util.LinkedHashMap<>();
        for (String name : List.of("w.weight", "w.bias", "y.embedding_table.weight")) {
          NDArray p = manager.ones(new Shape(2));
          p.setRequiresGradient(true);
          params.put(name, p);
        }
        AdamW adam = new AdamW(params, manager, 0.1f, all);
        for (NDArray p : params.values()) {
          backward(p, 0f); // a zero gradient: only the decay moves a parameter
        }
        adam.step(1, 0.5f, 0f);
        // Decoupled decay: p ← p·(1 − lr·wd) = 1 − 0.05.
        assertEquals(0.95f, params.get("w.weight").getFloat(0), 1e-6f);
        float undecayed = all ? 0.95f : 1f;
        assertEquals(undecayed, params.get("w.bias").getFloat(0), 1e-6f, "decayAll=" + all);
        assertEquals(
            undecayed, params.get("y.embedding_table.weight").getFloat(0), 1e-6f, "decayAll=" + all);
      }
    }
  }
}
