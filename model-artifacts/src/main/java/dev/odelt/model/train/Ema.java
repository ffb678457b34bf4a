package dev.odelt.model.train;

import ai.djl.ndarray.NDArray;
import java.util.Map;

/**
 * Exponential moving average of the student's weights, the teacher of both consistency terms.
 * The decay warms up as min(decay, (1 + n) / (10 + n)) so the teacher tracks the student early.
 */
public final class Ema {

  private final Map<String, NDArray> student;
  private final Map<String, NDArray> average;
  private final float decay;

  public Ema(Map<String, NDArray> student, Map<String, NDArray> average, float decay) {
    this.student = student;
    this.average = average;
    this.decay = decay;
  }

  /** The decay used after {@code updates} updates. */
  public float decayAt(long updates) {
    return Math.min(decay, (1f + updates) / (10f + updates));
  }

  /** average ← d · average + (1 − d) · student, in place. */
  public void update(long updates) {
    float d = decayAt(updates);
    for (Map.Entry<String, NDArray> e : average.entrySet()) {
      NDArray scaled = student.get(e.getKey()).mul(1f - d);
      try {
        e.getValue().muli(d).addi(scaled);
      } finally {
        scaled.close(); // a plain temporary of the parameters' manager
      }
    }
  }
}
