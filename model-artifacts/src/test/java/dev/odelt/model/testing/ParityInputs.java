package dev.odelt.model.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.PositionLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java half of the PyTorch parity check (tools/parity.sh). For each family of {@link
 * #FAMILIES} it writes, under {@code <dir>/<family>/}, a random model package ({@code package/}),
 * inputs ({@code inputs.safetensors}: x, t, d, y) and the Java velocities for every allowed block
 * count ({@code java.safetensors}: v2, v4, …). The families:
 *
 * <ul>
 *   <li>{@code column-first}: the reference's position layout, as every new package;
 *   <li>{@code row-first}: a legacy manifest without {@code position_layout} (as odelt-mnist
 *       1.0.0), which both sides must read row-first;
 *   <li>{@code xl-like}: depth_min not a multiple of G (depth 7, depth_min 3, G 2: L ∈ {3, 5, 7}),
 *       where Java skips the blocks after the last group end and the reference runs them.
 * </ul>
 *
 * <p>Usage: {@code ParityInputs <dir>}; prints the family names, one a line.
 */
public final class ParityInputs {

  /** 16×16 RGB, patch 4, width 64, 4 heads, 4 blocks in groups of 2, 10 classes. */
  public static final ModelConfig CONFIG = new ModelConfig(16, 3, 4, 64, 4, 4f, 4, 2, 2, 10, 7);

  /** DiT-XL-like in miniature: 16×16 RGB, width 64, depth 7, depth_min 3, G 2. */
  public static final ModelConfig XL_LIKE = new ModelConfig(16, 3, 4, 64, 4, 4f, 7, 3, 2, 10, 7);

  /** The families, by directory name. */
  public static final List<String> FAMILIES = List.of("column-first", "row-first", "xl-like");

  private ParityInputs() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: ParityInputs <output dir>");
    }
    Path dir = Paths.get(args[0]);
    write(dir.resolve("column-first"), CONFIG, false, 2024);
    write(
        dir.resolve("row-first"), CONFIG.withPositionLayout(PositionLayout.ROW_FIRST), true, 2025);
    write(dir.resolve("xl-like"), XL_LIKE, false, 2026);
    FAMILIES.forEach(System.out::println);
  }

  /**
   * Writes one family.
   *
   * @param legacyManifest drop {@code position_layout} from the manifest (config must be row-first)
   */
  static void write(Path dir, ModelConfig config, boolean legacyManifest, long seed)
      throws IOException {
    Files.createDirectories(dir);
    String location = TestModels.writeRandomPackage(dir.resolve("package"), config, seed);
    if (legacyManifest) {
      Path manifest = Paths.get(location);
      ModelManifest m = ModelPackages.readManifest(location);
      ModelManifest legacy =
          m.toBuilder()
              .setArchitecture(m.getArchitecture().toBuilder().clearPositionLayout())
              .build();
      Files.writeString(manifest, JsonFormat.printer().print(legacy), StandardCharsets.UTF_8);
    }

    int batch = 6;
    int perImage = config.channels() * config.imageSize() * config.imageSize();
    float[] x = new float[batch * perImage];
    for (int i = 0; i < batch; i++) {
      GaussianNoise.fill(100 + i, 0, x, i * perImage, perImage);
    }
    float[] t = {0f, 0.125f, 0.5f, 0.73f, 0.99f, 1f};
    float[] d = {0f, 1f, 3f, 7f, 2f, 5f};
    int[] y = {0, 3, 9, config.nullClass(), 7, config.nullClass()};
    float[] yAsFloat = new float[batch];
    for (int i = 0; i < batch; i++) {
      yAsFloat[i] = y[i];
    }
    long[] xShape = {batch, config.channels(), config.imageSize(), config.imageSize()};
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    inputs.put("x", new Tensor(xShape, x));
    inputs.put("t", new Tensor(new long[] {batch}, t));
    inputs.put("d", new Tensor(new long[] {batch}, d));
    inputs.put("y", new Tensor(new long[] {batch}, yAsFloat));
    Files.write(dir.resolve("inputs.safetensors"), SafeTensors.write(inputs, Map.of()));

    Map<String, Tensor> outputs = new LinkedHashMap<>();
    try (LoadedModel model = Models.load(location, "cpu");
        NDManager m = model.manager().newSubManager()) {
      if (!model.config().equals(config)) {
        throw new IllegalStateException(
            "the package reads back as " + model.config() + ", written as " + config);
      }
      for (int blocks : config.allowedBlocks()) {
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
