package dev.odelt.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.data.DigitSet;
import dev.odelt.model.data.MnistDigits;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.net.Ops;
import dev.odelt.proto.v1.PositionLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer on a tiny model with all three terms active. A constant that autograd saved for the
 * backward pass but whose Java buffer was already released (DJL's {@code x.mul(2f)}, see {@link
 * Ops}) is freed by a garbage collection between forward and backward, after which backward reads
 * freed memory: wrong or non-finite gradients. The tests make such collections happen.
 */
class TrainerTest {

  private static final int STEPS = 24;
  private static final int RESUME_AT = 10;

  private static DigitSet data;
  private static int engineThreads;

  @BeforeAll
  static void loadDataOnOneThread() {
    data = MnistDigits.load().train();
    // One intra-op thread: spinning OpenMP workers on a busy machine cost 30× the step time.
    Engine.getEngine("PyTorch");
    engineThreads = JniUtils.getNumThreads();
    JniUtils.setNumThreads(1);
  }

  @AfterAll
  static void restoreThreads() {
    JniUtils.setNumThreads(engineThreads);
  }

  private static TrainOptions options(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--steps=" + STEPS,
                "--batchSize=16",
                "--warmupSteps=2",
                "--hiddenSize=32",
                "--numHeads=2",
                "--depth=4",
                "--depthMin=2",
                "--groupSize=2",
                "--selfConsistencyFraction=0.25",
                "--lengthConsistencyFraction=0.25",
                "--seed=7"));
    args.addAll(List.of(extra));
    return TrainOptions.parse(args.toArray(String[]::new));
  }

  @Test
  void checkpointsWithoutARecordedLayoutWereTrainedRowFirst(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve(Checkpoints.STATE), "{\"step\": 3, \"arrays\": 8}");
    assertEquals(PositionLayout.ROW_FIRST, Checkpoints.positionLayoutOf(dir));
    Files.writeString(
        dir.resolve(Checkpoints.STATE), "{\"step\": 3, \"positionLayout\": \"DIAGONAL\"}");
    IOException e = assertThrows(IOException.class, () -> Checkpoints.positionLayoutOf(dir));
    assertTrue(e.getMessage().contains("DIAGONAL"), e.getMessage());
  }

  /** Runs steps until {@code trainer.step() == until}, asserting each is finite and applied. */
  private static void trainUntil(Trainer trainer, int until) {
    while (trainer.step() < until) {
      Trainer.StepLosses losses = trainer.trainStep();
      int step = trainer.step();
      assertEquals(0, trainer.skippedSteps(), "non-finite gradient norm at step " + step);
      assertTrue(Float.isFinite(losses.total()), "loss at step " + step + ": " + losses);
      assertTrue(Float.isFinite(losses.selfConsistency()), "self-consistency at step " + step);
      assertTrue(Float.isFinite(losses.length()), "length term at step " + step);
    }
  }

  private static Map<String, float[]> values(Map<String, NDArray> arrays) {
    Map<String, float[]> out = new LinkedHashMap<>();
    arrays.forEach((name, array) -> out.put(name, array.toFloatArray()));
    return out;
  }

  private static void assertBitIdentical(Map<String, float[]> want, Map<String, float[]> got) {
    assertEquals(want.keySet(), got.keySet());
    for (String name : want.keySet()) {
      assertArrayEquals(want.get(name), got.get(name), 0f, name);
    }
  }

  /** Gradients of the trainer's loss for the full-depth student on a fixed batch. */
  private static Map<String, float[]> gradients(boolean collectBeforeBackward) throws Exception {
    TrainOptions options = options();
    ModelConfig config = options.model();
    int b = 4;
    int side = config.imageSize();
    try (NDManager manager = NDManager.newBaseManager()) {
      OdeltNetwork net = new OdeltNetwork(config);
      net.initialize(manager, 3, OdeltNetwork.Init.RANDOM);
      for (Parameter p : net.namedParameters().values()) {
        p.getArray().setRequiresGradient(true);
      }
      try (NDManager sm = manager.newSubManager()) {
        SplittableRandom rng = new SplittableRandom(5);
        float[] noise = new float[b * side * side];
        for (int i = 0; i < noise.length; i++) {
          noise[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        NDArray x = sm.create(noise, new Shape(b, 1, side, side)); // (B, C, H, W)
        NDArray t = sm.create(new float[] {0.1f, 0.4f, 0.6f, 0.9f});
        NDArray d = sm.create(new float[] {0f, 2f, 5f, 7f});
        NDArray y = sm.create(new int[] {0, 3, 9, config.nullClass()});
        ParameterStore ps = new ParameterStore(sm, false);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray v = net.velocity(ps, x, t, d, y, config.depth(), true);
          NDArray loss = v.sub(x).square().sum().div(Ops.scalar(v, (float) v.size()));
          if (collectBeforeBackward) {
            collectAndScribble();
          }
          gc.backward(loss);
        }
      }
      Map<String, float[]> out = new LinkedHashMap<>();
      for (Map.Entry<String, Parameter> e : net.namedParameters().entrySet()) {
        out.put(e.getKey(), e.getValue().getArray().getGradient().toFloatArray());
      }
      return out;
    }
  }

  /** Frees every unreachable Java buffer and refills freed native memory with NaN. */
  static void collectAndScribble() throws InterruptedException {
    System.gc();
    Thread.sleep(50); // the Cleaner frees the buffers of collected direct ByteBuffers
    List<ByteBuffer> scribbles = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      ByteBuffer s = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
      for (int j = 0; j < 16; j += 4) {
        s.putFloat(j, Float.NaN);
      }
      scribbles.add(s);
    }
    scribbles.clear();
  }

  @Test
  void gradientsDoNotDependOnGarbageCollectionBeforeBackward() throws Exception {
    Map<String, float[]> undisturbed = gradients(false);
    for (float[] g : undisturbed.values()) {
      for (float value : g) {
        assertTrue(Float.isFinite(value));
      }
    }
    assertBitIdentical(undisturbed, gradients(true));
  }

  @Test
  void everyStepHasAFiniteGradientAndResumingIsBitIdentical(@TempDir Path dir) throws Exception {
    Map<String, float[]> student;
    Map<String, float[]> teacher;
    Thread collector = startCollecting();
    try {
      try (Trainer uninterrupted = new Trainer(options(), data, Device.cpu())) {
        trainUntil(uninterrupted, RESUME_AT);
        Checkpoints.save(uninterrupted, dir);
        assertEquals(PositionLayout.COLUMN_FIRST, Checkpoints.positionLayoutOf(dir));
        trainUntil(uninterrupted, STEPS);
        student = values(uninterrupted.studentArrays());
        teacher = values(uninterrupted.teacherArrays());
      }
      try (NDManager scratch = NDManager.newBaseManager();
          Trainer rowFirst =
              new Trainer(options("--positionLayout=ROW_FIRST"), data, Device.cpu())) {
        IOException e =
            assertThrows(IOException.class, () -> Checkpoints.load(rowFirst, dir, scratch));
        assertTrue(e.getMessage().contains("--positionLayout=COLUMN_FIRST"), e.getMessage());
      }
      try (NDManager scratch = NDManager.newBaseManager();
          Trainer resumed = new Trainer(options(), data, Device.cpu())) {
        Checkpoints.load(resumed, dir, scratch);
        assertEquals(RESUME_AT, resumed.step());
        trainUntil(resumed, STEPS);
        assertBitIdentical(student, values(resumed.studentArrays()));
        assertBitIdentical(teacher, values(resumed.teacherArrays()));
      }
    } finally {
      collector.interrupt();
      collector.join();
    }
  }

  /** Starts a daemon thread requesting a full collection every 10 ms until interrupted. */
  private static Thread startCollecting() {
    Thread thread =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                System.gc();
                try {
                  Thread.sleep(10);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "gc-pressure");
    thread.setDaemon(true);
    thread.start();
    return thread;
  }
}
