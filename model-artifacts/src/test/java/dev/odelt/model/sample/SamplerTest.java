package dev.odelt.model.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.solver.OdeSolution;
import dev.odelt.model.testing.TestModels;
import dev.odelt.proto.v1.Solver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class SamplerTest {

  @TempDir static Path dir;
  private static String location;
  private static LoadedModel model;

  @BeforeAll
  static void load() throws Exception {
    location = TestModels.writeRandomPackage(dir, TestModels.TINY, 21);
    model = Models.load(location, "cpu");
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static List<SampleItem> batchAround(SampleItem item, int size, int position) {
    List<SampleItem> items = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      items.add(i == position ? item : new SampleItem(i % 10, 1000L + i));
    }
    return items;
  }

  /** Pixels equal up to float rounding: every value within ±1, at most 2% off by one. */
  private static void assertSameImage(GeneratedImage expected, GeneratedImage actual) {
    byte[] a = expected.pixels();
    byte[] b = actual.pixels();
    assertEquals(a.length, b.length);
    int offByOne = 0;
    for (int i = 0; i < a.length; i++) {
      int diff = Math.abs((a[i] & 0xFF) - (b[i] & 0xFF));
      assertTrue(diff <= 1, "pixel " + i + " differs by " + diff);
      offByOne += diff;
    }
    assertTrue(offByOne <= a.length / 50, offByOne + " pixels off by one");
  }

  @Test
  void deviceTimeIsTheThreadsCpuTimeWithOnePyTorchThreadAndWallTimeWithAPool() {
    List<SampleItem> items = batchAround(new SampleItem(0, 1), 4, 0);
    int threads = JniUtils.getNumThreads();
    try {
      JniUtils.setNumThreads(1);
      assertEquals(DeviceClock.THREAD_CPU, DeviceClock.forCall(Device.cpu(), true));
      SampleStats one = model.sampler().sample(items, Tier.of(4, 2)).stats();
      assertTrue(one.deviceNanos() > 0, "" + one);
      assertTrue(one.deviceNanos() <= one.wallNanos(), "CPU time within the wall time: " + one);

      JniUtils.setNumThreads(2);
      assertEquals(DeviceClock.WALL, DeviceClock.forCall(Device.cpu(), true));
      SampleStats pool = model.sampler().sample(items, Tier.of(4, 2)).stats();
      assertEquals(pool.wallNanos(), pool.deviceNanos(), "an intra-op pool is charged wall time");
    } finally {
      JniUtils.setNumThreads(threads);
    }
    assertEquals(DeviceClock.WALL, DeviceClock.forCall(Device.gpu(), true));
    assertEquals(DeviceClock.WALL, DeviceClock.forCall(Device.cpu(), false));
  }

  @Test
  void statsCountEvaluationsBlocksAndGuidance() {
    List<SampleItem> items = batchAround(new SampleItem(0, 1), 3, 0);
    SampleBatch euler = model.sampler().sample(items, Tier.of(4, 2));
    assertEquals(3, euler.images().size());
    assertEquals(
        new SampleStats(
            12, 24, euler.stats().wallNanos(), 3, "cpu()", 0L, euler.stats().deviceNanos()),
        euler.stats());
    assertTrue(euler.stats().wallNanos() > 0);
    GeneratedImage image = euler.images().get(0);
    assertEquals(8, image.width());
    assertEquals(8, image.height());
    assertEquals(3, image.channels());

    SampleStats guided =
        model
            .sampler()
            .sample(items, Tier.of(3, 4).withSolver(Solver.HEUN).withGuidance(2f))
            .stats();
    assertEquals(3 * 3 * 2, guided.velocityEvaluations());
    assertEquals(3 * 3 * 2 * 4 * 2, guided.blockEvaluations());
    SampleStats unconditional =
        model.sampler().sample(items, Tier.of(3, 4).withGuidance(0f)).stats();
    assertEquals(3 * 3 * 4, unconditional.blockEvaluations());

    SampleStats adaptive =
        model
            .sampler()
            .sample(items, Tier.of(2, 2).withSolver(Solver.DOPRI5).withTolerance(1e-2f))
            .stats();
    assertEquals(0, (adaptive.velocityEvaluations() - 3) % 6);
    LoggerFactory.getLogger(SamplerTest.class).info("dopri5 tol 1e-2: {}", adaptive);
    assertEquals(adaptive.velocityEvaluations() * 2, adaptive.blockEvaluations());
  }

  @Test
  void statsCountOnlyTheBlocksThatRunWhenDepthMinIsNotAMultipleOfG() throws Exception {
    // depth 7, depth_min 3, G 2: L = 3 / 5 / 7 runs 2 / 4 / 6 blocks.
    ModelConfig xlLike = new ModelConfig(8, 3, 4, 32, 2, 2f, 7, 3, 2, 10, 7);
    String xl = TestModels.writeRandomPackage(dir.resolve("xl-like"), xlLike, 5);
    try (LoadedModel m = Models.load(xl, "cpu")) {
      List<SampleItem> items = batchAround(new SampleItem(1, 2), 2, 0);
      assertEquals(2 * 4 * 2, m.sampler().sample(items, Tier.of(4, 3)).stats().blockEvaluations());
      assertEquals(2 * 4 * 4, m.sampler().sample(items, Tier.of(4, 5)).stats().blockEvaluations());
      SampleStats guided = m.sampler().sample(items, Tier.of(2, 7).withGuidance(1.5f)).stats();
      assertEquals(2 * 2 * 6 * 2, guided.blockEvaluations());
    }
  }

  @Test
  void oneEulerStepIsNoisePlusVelocityMappedToPixels() {
    SampleItem item = new SampleItem(7, 99);
    GeneratedImage image = model.sampler().sample(List.of(item), Tier.of(1, 4)).images().get(0);
    float[] x0 = GaussianNoise.standardNormal(99, 3 * 8 * 8);
    float[] expected;
    try (NDManager m = model.manager().newSubManager()) {
      NDArray x = m.create(x0, new Shape(1, 3, 8, 8));
      NDArray v =
          model
              .network()
              .velocity(
                  new ParameterStore(m, false),
                  x,
                  m.create(new float[] {0f}),
                  m.create(new float[] {0f}),
                  m.create(new int[] {7}),
                  4,
                  false);
      expected = x.add(v).toFloatArray(); // (1, C, H, W)
    }
    for (int c = 0; c < 3; c++) {
      for (int row = 0; row < 8; row++) {
        for (int col = 0; col < 8; col++) {
          float p01 = Math.min(1f, Math.max(0f, expected[(c * 8 + row) * 8 + col] * 0.5f + 0.5f));
          assertEquals(Math.round(255 * p01), image.pixel(row, col, c), 1, "c" + c + " " + row);
        }
      }
    }
  }

  @Test
  void anImageDoesNotDependOnItsBatchOrThreads() throws Exception {
    SampleItem item = new SampleItem(3, 77);
    for (Tier tier :
        List.of(
            Tier.of(4, 4),
            Tier.of(2, 2).withSolver(Solver.RK4).withGuidance(2f),
            Tier.of(2, 4).withSolver(Solver.DOPRI5).withTolerance(1e-2f))) {
      GeneratedImage alone = model.sampler().sample(List.of(item), tier).images().get(0);
      GeneratedImage inBatch =
          model.sampler().sample(batchAround(item, 32, 17), tier).images().get(17);
      assertSameImage(alone, inBatch);

      ExecutorService pool = Executors.newFixedThreadPool(4);
      try {
        List<Callable<GeneratedImage>> calls = new ArrayList<>();
        for (int thread = 0; thread < 4; thread++) {
          int size = 1 + 5 * thread;
          int position = thread * 2 % size;
          calls.add(
              () ->
                  model
                      .sampler()
                      .sample(batchAround(item, size, position), tier)
                      .images()
                      .get(position));
        }
        for (Future<GeneratedImage> result : pool.invokeAll(calls)) {
          assertSameImage(alone, result.get());
        }
      } finally {
        pool.shutdown();
      }
    }
    // Different seeds and classes do give different images.
    GeneratedImage a = model.sampler().sample(List.of(item), Tier.of(4, 4)).images().get(0);
    assertNotEquals(
        a, model.sampler().sample(List.of(new SampleItem(3, 78)), Tier.of(4, 4)).images().get(0));
    assertNotEquals(
        a, model.sampler().sample(List.of(new SampleItem(4, 77)), Tier.of(4, 4)).images().get(0));
  }

  @Test
  void floatOutputsAgreeWithinTolerance() {
    SampleItem item = new SampleItem(5, 123);
    Tier tier = Tier.of(4, 4).withGuidance(1.5f);
    try (NDManager m = model.manager().newSubManager()) {
      float[] alone = model.sampler().solve(m, List.of(item), tier).x().toFloatArray();
      OdeSolution batch = model.sampler().solve(m, batchAround(item, 32, 9), tier);
      float[] inBatch = batch.x().get(9).toFloatArray();
      assertArrayEquals(alone, inBatch, 1e-4f);
    }
  }

  @Test
  void badInputIsRejectedBeforeAnyWork() {
    assertThrows(
        IllegalArgumentException.class, () -> model.sampler().sample(List.of(), Tier.of(4, 2)));
    IllegalArgumentException unknownClass =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.sampler().sample(List.of(new SampleItem(11, 1)), Tier.of(4, 2)));
    assertTrue(unknownClass.getMessage().contains("class id 11"), unknownClass.getMessage());
    IllegalArgumentException blocks =
        assertThrows(
            IllegalArgumentException.class,
            () -> model.sampler().sample(List.of(new SampleItem(1, 1)), Tier.of(4, 3)));
    assertTrue(blocks.getMessage().contains("[2, 4]"), blocks.getMessage());
  }

  @Test
  void theNullLabelIsAnUnconditionalSample() {
    // Class num_classes (10) is the null label: at w = 1 it is the same computation as any class
    // at w = 0 (only the null-label velocity), which is how unconditional models sample.
    GeneratedImage nullLabel =
        model.sampler().sample(List.of(new SampleItem(10, 5)), Tier.of(2, 4)).images().get(0);
    GeneratedImage unguided =
        model
            .sampler()
            .sample(List.of(new SampleItem(3, 5)), Tier.of(2, 4).withGuidance(0f))
            .images()
            .get(0);
    GeneratedImage classThree =
        model.sampler().sample(List.of(new SampleItem(3, 5)), Tier.of(2, 4)).images().get(0);
    for (int c = 0; c < 3; c++) {
      for (int row = 0; row < 8; row++) {
        for (int col = 0; col < 8; col++) {
          assertEquals(unguided.pixel(row, col, c), nullLabel.pixel(row, col, c));
        }
      }
    }
    boolean differs = false;
    for (int row = 0; row < 8 && !differs; row++) {
      for (int col = 0; col < 8 && !differs; col++) {
        differs = classThree.pixel(row, col, 0) != nullLabel.pixel(row, col, 0);
      }
    }
    assertTrue(differs, "the null label is not class 3");
  }

  @Test
  void nativeArraysDoNotGrowOverManyCalls() {
    List<SampleItem> items = batchAround(new SampleItem(1, 1), 4, 0);
    model.sampler().sample(items, Tier.of(2, 2));
    int baseline = model.liveArrayCount();
    for (int i = 0; i < 15; i++) {
      Tier tier =
          i % 3 == 0
              ? Tier.of(2, 4).withGuidance(2f)
              : i % 3 == 1
                  ? Tier.of(2, 2).withSolver(Solver.DOPRI5).withTolerance(5e-2f)
                  : Tier.of(3, 2).withSolver(Solver.MIDPOINT);
      model.sampler().sample(items, tier);
    }
    assertEquals(baseline, model.liveArrayCount());
  }

  /** Whether {@code out} carries an autograd graph: backward through it succeeds. */
  private static boolean hasGraph(NDArray out) {
    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
      collector.backward(out.sum());
      return true;
    } catch (EngineException e) {
      return false;
    }
  }

  @Test
  void noAutogradGraphIsRecordedEvenWhenWeightsRequireGradients() throws Exception {
    try (LoadedModel own = Models.load(location, "cpu");
        NDManager m = own.manager().newSubManager()) {
      own.network().namedParameters().values().forEach(p -> p.getArray().setRequiresGradient(true));
      boolean previous = JniUtils.isGradMode();
      JniUtils.setGradMode(true);
      try {
        // Control: a direct forward pass in grad mode records a graph.
        NDArray direct =
            own.network()
                .velocity(
                    new ParameterStore(m, false),
                    m.ones(new Shape(1, 3, 8, 8)),
                    m.zeros(new Shape(1)),
                    m.zeros(new Shape(1)),
                    m.create(new int[] {0}),
                    2,
                    false);
        NDArray sampled = own.sampler().solve(m, List.of(new SampleItem(2, 5)), Tier.of(2, 2)).x();
        assertTrue(JniUtils.isGradMode(), "the caller's grad mode is restored");
        assertTrue(hasGraph(direct));
        assertFalse(hasGraph(sampled));
      } finally {
        JniUtils.setGradMode(previous);
      }
    }
  }
}
