package dev.odelt.model.noise;

/**
 * The Philox4x32-10 counter-based bijection (Salmon et al., "Parallel random numbers: as easy as 1,
 * 2, 3", SC 2011): a 128-bit counter and a 64-bit key map to 128 random bits. The same (key,
 * counter) always gives the same output on every machine, so any block of a random stream can be
 * computed on its own without state.
 *
 * <p>Verified against the Random123 known-answer vectors (see {@code Philox4x32Test}).
 */
public final class Philox4x32 {

  private static final long M0 = 0xD2511F53L;
  private static final long M1 = 0xCD9E8D57L;
  private static final int W0 = 0x9E3779B9;
  private static final int W1 = 0xBB67AE85;
  private static final int ROUNDS = 10;

  private Philox4x32() {}

  /**
   * Computes one 128-bit block.
   *
   * @param counter four 32-bit counter words (c0 is the least significant)
   * @param key0 low key word
   * @param key1 high key word
   * @param out receives four 32-bit output words; may be {@code counter}
   */
  public static void block(int[] counter, int key0, int key1, int[] out) {
    int c0 = counter[0];
    int c1 = counter[1];
    int c2 = counter[2];
    int c3 = counter[3];
    int k0 = key0;
    int k1 = key1;
    for (int round = 0; round < ROUNDS; round++) {
      if (round > 0) {
        k0 += W0;
        k1 += W1;
      }
      long p0 = M0 * (c0 & 0xFFFFFFFFL);
      long p1 = M1 * (c2 & 0xFFFFFFFFL);
      int hi0 = (int) (p0 >>> 32);
      int lo0 = (int) p0;
      int hi1 = (int) (p1 >>> 32);
      int lo1 = (int) p1;
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }
}
