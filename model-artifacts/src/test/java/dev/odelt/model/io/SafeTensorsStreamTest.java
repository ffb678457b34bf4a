package dev.odelt.model.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Normalization;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The streaming writers produce the same bytes as the in-memory ones. */
class SafeTensorsStreamTest {

  @TempDir Path dir;

  private static Map<String, Tensor> randomTensors(Map<String, long[]> shapes, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    shapes.forEach(
        (name, shape) -> {
          float[] v = new float[(int) Tensor.sizeOf(shape)];
          for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
          }
          tensors.put(name, new Tensor(shape, v));
        });
    return tensors;
  }

  @Test
  void streamedFileEqualsTheInMemoryOne() throws Exception {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("a", new long[] {3, 5});
    shapes.put("b", new long[] {300_000}); // spans several 1 MiB chunks
    shapes.put("c", new long[] {});
    Map<String, Tensor> tensors = randomTensors(shapes, 1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long n =
        SafeTensors.write(
            out, shapes, Map.of("format", "pt"), (name, shape) -> tensors.get(name).data());
    byte[] expected = SafeTensors.write(tensors, Map.of("format", "pt"));
    assertArrayEquals(expected, out.toByteArray());
    assertEquals(expected.length, n);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            SafeTensors.write(
                new ByteArrayOutputStream(), shapes, Map.of(), (name, shape) -> new float[1]));
  }

  @Test
  void streamedPackageEqualsTheInMemoryOne() throws Exception {
    ModelConfig config = new ModelConfig(8, 3, 2, 16, 2, 4f, 5, 3, 2, 4, 7);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    new OdeltNetwork(config).parameterShapes().forEach((k, v) -> shapes.put(k, v.getShape()));
    Map<String, Tensor> tensors = randomTensors(shapes, 2);
    ModelManifest manifest =
        ModelManifest.newBuilder()
            .setName("stream")
            .setArchitecture(config.toProto())
            .setNormalization(Normalization.newBuilder().setScale(0.5f).setShift(0.5f))
            .build();
    ModelManifest streamed =
        ModelPackages.write(
            dir.resolve("a"), manifest, shapes, (name, shape) -> tensors.get(name).data());
    ModelManifest inMemory = ModelPackages.write(dir.resolve("b").toString(), manifest, tensors);
    assertEquals(inMemory, streamed);
    assertArrayEquals(
        Files.readAllBytes(dir.resolve("b/weights.safetensors")),
        Files.readAllBytes(dir.resolve("a/weights.safetensors")));
    ModelPackage read = ModelPackages.read(dir.resolve("a").toString());
    assertEquals(tensors, read.tensors());
    shapes.remove("final_layer.linear.bias");
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ModelPackages.write(
                dir.resolve("c"), manifest, shapes, (name, shape) -> tensors.get(name).data()));
  }
}
