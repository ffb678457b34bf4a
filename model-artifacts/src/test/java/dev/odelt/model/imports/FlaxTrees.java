package dev.odelt.model.imports;

import dev.odelt.model.imports.PickleBuilder.FloatArray;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Flax parameter trees of the reference DiT (DESIGN.md §5) built in Java, filled with the distinct
 * values start, start + 1, … in creation order, the same order and numbering as {@code
 * tools/make_checkpoint.py --values pattern}. With {@link #valueAt} a test knows every element.
 */
final class FlaxTrees {

  private FlaxTrees() {}

  /** The shapes of a tree, in the reference's creation order (path → Flax shape). */
  static Map<String, long[]> shapes(int width, int depth, int classes, int channels, int patch) {
    Map<String, long[]> m = new LinkedHashMap<>();
    long d = width;
    long mlp = 4L * width;
    m.put("PatchEmbed_0/Conv_0/kernel", new long[] {patch, patch, channels, d});
    m.put("PatchEmbed_0/Conv_0/bias", new long[] {d});
    for (String t : new String[] {"TimestepEmbedder_0", "TimestepEmbedder_1"}) {
      dense(m, t + "/Dense_0", 256, d);
      dense(m, t + "/Dense_1", d, d);
    }
    m.put("LabelEmbedder_0/Embed_0/embedding", new long[] {classes + 1, d});
    m.put("BlockEmbedder_0/Embed_0/embedding", new long[] {depth + 1, d});
    for (int i = 0; i < depth; i++) {
      String b = "DiTBlock_" + i;
      dense(m, b + "/Dense_0", d, 6 * d);
      for (int k = 1; k <= 4; k++) {
        dense(m, b + "/Dense_" + k, d, d);
      }
      dense(m, b + "/MlpBlock_0/Dense_0", d, mlp);
      dense(m, b + "/MlpBlock_0/Dense_1", mlp, d);
    }
    dense(m, "FinalLayer_0/Dense_0", d, 2 * d);
    dense(m, "FinalLayer_0/Dense_1", d, (long) patch * patch * channels);
    return m;
  }

  private static void dense(Map<String, long[]> m, String path, long in, long out) {
    m.put(path + "/kernel", new long[] {in, out});
    m.put(path + "/bias", new long[] {out});
  }

  /** The first value of each tensor under the numbering: 1 + the sizes of those before it. */
  static Map<String, Long> starts(Map<String, long[]> shapes) {
    Map<String, Long> starts = new LinkedHashMap<>();
    long next = 1;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      starts.put(e.getKey(), next);
      next += size(e.getValue());
    }
    return starts;
  }

  static long size(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** The nested tree of numbered arrays (times {@code sign}), plus the log-variance table. */
  static Map<String, Object> tree(Map<String, long[]> shapes, float sign) {
    Map<String, Object> root = new LinkedHashMap<>();
    Map<String, Long> starts = starts(shapes);
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      float[] values = new float[(int) size(e.getValue())];
      for (int j = 0; j < values.length; j++) {
        values[j] = sign * (starts.get(e.getKey()) + j);
      }
      put(root, e.getKey(), new FloatArray(e.getValue(), values));
    }
    put(root, "Embed_0/embedding", new FloatArray(new long[] {256, 1}, new float[256]));
    return root;
  }

  @SuppressWarnings("unchecked")
  static void put(Map<String, Object> root, String path, Object value) {
    String[] parts = path.split("/");
    Map<String, Object> node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      node = (Map<String, Object>) node.computeIfAbsent(parts[i], k -> new LinkedHashMap<>());
    }
    node.put(parts[parts.length - 1], value);
  }

  @SuppressWarnings("unchecked")
  static Object remove(Map<String, Object> root, String path) {
    String[] parts = path.split("/");
    Map<String, Object> node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      node = (Map<String, Object>) node.get(parts[i]);
    }
    return node.remove(parts[parts.length - 1]);
  }

  /** Row-major index of {@code index} in {@code shape}. */
  static long flat(long[] shape, long... index) {
    long f = 0;
    for (int k = 0; k < shape.length; k++) {
      f = f * shape[k] + index[k];
    }
    return f;
  }

  /** The value the numbering gives element {@code index} of the Flax tensor {@code path}. */
  static float valueAt(Map<String, long[]> shapes, String path, float sign, long... index) {
    return sign * (starts(shapes).get(path) + flat(shapes.get(path), index));
  }
}
