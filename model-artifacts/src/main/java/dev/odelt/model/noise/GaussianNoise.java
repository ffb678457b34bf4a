package dev.odelt.model.noise;

/**
 * Standard-normal noise keyed by a 64-bit seed, computed in pure Java so it is identical on every
 * device, thread count and batch composition.
 *
 * <p>Definition (stable; changing it changes every generated image): for seed s the Philox4x32-10
 * key is (low 32 bits of s, high 32 bits of s). Block j (j = 0, 1, …) uses the counter (low 32 bits
 * of j, high 32 bits of j, {@code stream}, 0) and yields four 32-bit words w0..w3, each mapped to u
 * = (w + 0.5)·2⁻³² in (0, 1). Box–Muller turns (u0, u1) into r·cos(2πu1), r·sin(2πu1) with r = √(−2
 * ln u0), and (u2, u3) likewise, so block j gives normals 4j..4j+3 of the stream, computed in
 * double precision and rounded to float. Value i fills the i-th element of a row-major tensor.
 */
public final class GaussianNoise {

  /** The stream used for the initial noise of sampling. */
  public static final int INITIAL_NOISE_STREAM = 0;

  private static final double TWO_PI = 2 * Math.PI;
  private static final double TWO_POW_MINUS_32 = 1.0 / 4294967296.0;

  private GaussianNoise() {}

  /** {@code count} standard normals of stream 0 for {@code seed}. */
  public static float[] standardNormal(long seed, int count) {
    return standardNormal(seed, INITIAL_NOISE_STREAM, count);
  }

  /** {@code count} standard normals of one stream for {@code seed}. */
  public static float[] standardNormal(long seed, int stream, int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0, got " + count);
    }
    float[] out = new float[count];
    fill(seed, stream, out, 0, count);
    return out;
  }

  /** Writes normals 0..length-1 of the stream into {@code out[offset..offset+length)}. */
  public static void fill(long seed, int stream, float[] out, int offset, int length) {
    int key0 = (int) seed;
    int key1 = (int) (seed >>> 32);
    int[] counter = new int[4];
    int[] words = new int[4];
    double[] normals = new double[4];
    for (long block = 0; block * 4 < length; block++) {
      counter[0] = (int) block;
      counter[1] = (int) (block >>> 32);
      counter[2] = stream;
      counter[3] = 0;
      Philox4x32.block(counter, key0, key1, words);
      boxMuller(words[0], words[1], normals, 0);
      boxMuller(words[2], words[3], normals, 2);
      int base = (int) (block * 4);
      for (int k = 0; k < 4 && base + k < length; k++) {
        out[offset + base + k] = (float) normals[k];
      }
    }
  }

  private static void boxMuller(int w0, int w1, double[] out, int at) {
    double u0 = ((w0 & 0xFFFFFFFFL) + 0.5) * TWO_POW_MINUS_32;
    double u1 = ((w1 & 0xFFFFFFFFL) + 0.5) * TWO_POW_MINUS_32;
    double r = Math.sqrt(-2.0 * Math.log(u0));
    double angle = TWO_PI * u1;
    out[at] = r * Math.cos(angle);
    out[at + 1] = r * Math.sin(angle);
  }

  /**
   * Fills {@code v} with N(0, std²) draws from a {@link java.util.SplittableRandom} by Box–Muller,
   * two values per pair of uniforms. For weight initialisation and training noise, where the
   * stream is a function of a per-step seed rather than of an image seed.
   */
  public static void fill(java.util.SplittableRandom rng, float[] v, double std) {
    for (int i = 0; i < v.length; i += 2) {
      double u1 = 1.0 - rng.nextDouble();
      double u2 = rng.nextDouble();
      double r = Math.sqrt(-2 * Math.log(u1));
      v[i] = (float) (std * r * Math.cos(2 * Math.PI * u2));
      if (i + 1 < v.length) {
        v[i + 1] = (float) (std * r * Math.sin(2 * Math.PI * u2));
      }
    }
  }
}
