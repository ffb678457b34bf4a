package dev.odelt.model.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.noise.GaussianNoise;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Java half of the PyTorch parity check (tools/parity.sh): writes a random model package to
 * {@code <dir>/package}, inputs to {@code <dir>/inputs.safetensors} (x, t, d, y) and the Java
 * velocities for every allowed block count to {@code <dir>/java.safetensors} (v2, v4, …).
 *
 * <p>Usage: {@code ParityInputs <dir>}.
 */
public final class ParityInputs {

  /** 16×16 RGB, patch 4, width 64, 4 heads, 4 blocks in groups of 2, 10 classes. */
  public static final ModelConfig CONFIG = new ModelConfig(16, 3, 4, 64, 4, 4f, 4, 2, 2, 10, 7);

  private ParityInputs() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: ParityInputs <output dir>");
    }
    Path dir = Paths.get(args[0]);
    Files.createDirectories(dir);
    String location = TestModels.writeRandomPackage(dir.resolve("package"), CONFIG, 2024);

    int batch = 6;
    int perImage = CONFIG.channels() * CONFIG.imageSize() * CONFIG.imageSize();
    float[] x = new float[batch * perImage];
    for (int i = 0; i < batch; i++) {
      GaussianNoise.fill(100 + i, 0, x, i * perImage, perImage);
    }
    float[] t = {0f, 0.125f, 0.5f, 0.73f, 0.99f, 1f};
    float[] d = {0f, 1f, 3f, 7f, 2f, 5f};
    int[] y = {0, 3, 9, CONFIG.nullClass(), 7, CONFIG.nullClass()};
    float[] yAsFloat = new float[batch];
    for (int i = 0; i < batch; i++) {
      yAsFloat[i] = y[i];
    }
    long[] xShape = {batch, CONFIG.channels(), CONFIG.imageSize(), CONFIG.imageSize()};
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    inputs.put("x", new Tensor(xShape, x));
    inputs.put("t", new Tensor(new long[] {batch}, t));
    inputs.put("d", new Tensor(new long[] {batch}, d));
    inputs.put("y", new Tensor(new long[] {batch}, yAsFloat));
    Files.write(dir.resolve("inputs.safetensors"), SafeTensors.write(inputs, Map.of()));

    Map<String, Tensor> outputs = new LinkedHashMap<>();
    try (LoadedModel model = Models.load(location, "cpu");
        NDManager m = model.manager().newSubManager()) {
      for (int blocks : CONFIG.allowedBlocks()) {
        NDArray v =
            model
                .network()
                .velocity(
                    new ParameterStore(m, false),
                    m.create(x, new Shape(xShape)),
                    m.create(t),
                    m.create(d),
                    m.create(y),
                    blocks,
                    false);
        outputs.put("v" + blocks, new Tensor(xShape, v.toFloatArray()));
      }
    }
    Files.write(dir.resolve("java.safetensors"), SafeTensors.write(outputs, Map.of()));
  }
}
