package dev.odelt.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.model.testing.TestModels;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelsTest {

  @TempDir static Path dir;

  @AfterAll
  static void release() {
    Models.releaseShared();
  }

  @Test
  void sharedLoadsOneCopyPerLocationAndDeviceForAllThreads() throws Exception {
    String location = TestModels.writeRandomPackage(dir.resolve("a"), TestModels.TINY, 1);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Callable<LoadedModel>> calls = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        calls.add(() -> Models.shared(location, "cpu"));
      }
      List<LoadedModel> models = new ArrayList<>();
      for (Future<LoadedModel> f : pool.invokeAll(calls)) {
        models.add(f.get());
      }
      for (LoadedModel m : models) {
        assertSame(models.get(0), m);
      }
    } finally {
      pool.shutdown();
    }
    LoadedModel model = Models.shared(dir.resolve("a").toString(), "CPU");
    assertSame(model, Models.shared(location, "cpu"), "directory and manifest name one package");
    model.close();
    List<GeneratedImage> images =
        model.sampler().sample(List.of(new SampleItem(1, 2)), Tier.of(1, 2)).images();
    assertEquals(1, images.size(), "close() of a shared model leaves it usable");
    assertEquals("test-random", model.manifest().getName());
    assertEquals(Device.cpu(), model.device());
  }

  @Test
  void badPackagesSurfaceTheirProblem() {
    UncheckedIOException e =
        assertThrows(
            UncheckedIOException.class,
            () -> Models.shared(dir.resolve("nothing-here").toString(), "cpu"));
    assertTrue(e.getCause() instanceof InvalidModelPackageException, e.toString());
  }

  @Test
  void deviceNamesResolve() {
    int gpus = Engine.getInstance().getGpuCount();
    assertEquals(Device.cpu(), Models.resolveDevice("cpu"));
    assertEquals(gpus > 0 ? Device.gpu(0) : Device.cpu(), Models.resolveDevice("auto"));
    assertThrows(IllegalArgumentException.class, () -> Models.resolveDevice("tpu"));
    assertThrows(IllegalArgumentException.class, () -> Models.resolveDevice("gpu:x"));
    assertThrows(IllegalArgumentException.class, () -> Models.resolveDevice("gpu:" + gpus));
  }

  @Test
  void gpuImagesMatchCpuImages() throws Exception {
    assumeTrue(Engine.getInstance().getGpuCount() > 0, "no GPU visible to DJL");
    String location = TestModels.writeRandomPackage(dir.resolve("g"), TestModels.TINY, 4);
    List<SampleItem> items = List.of(new SampleItem(3, 9), new SampleItem(8, 10));
    try (LoadedModel cpu = Models.load(location, "cpu");
        LoadedModel gpu = Models.load(location, "gpu:0")) {
      assertEquals(Device.gpu(0), gpu.device());
      List<GeneratedImage> a = cpu.sampler().sample(items, Tier.of(4, 4)).images();
      List<GeneratedImage> b = gpu.sampler().sample(items, Tier.of(4, 4)).images();
      for (int i = 0; i < a.size(); i++) {
        byte[] pa = a.get(i).pixels();
        byte[] pb = b.get(i).pixels();
        for (int k = 0; k < pa.length; k++) {
          assertTrue(Math.abs((pa[k] & 0xFF) - (pb[k] & 0xFF)) <= 1, "pixel " + k);
        }
      }
    }
  }
}
