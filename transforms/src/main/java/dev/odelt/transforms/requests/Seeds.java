package dev.odelt.transforms.requests;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Deterministic seeds. A request without a seed gets one from its id; image {@code i} of a request
 * gets {@link #forImage(long, long)} of the request seed and {@code i}. Both are pure functions, so
 * an image's noise never depends on batching, workers or reruns.
 */
public final class Seeds {

  private Seeds() {}

  /** The first 63 bits of SHA-256("odelt/request-seed/v1:" + requestId), non-negative. */
  public static long fromRequestId(String requestId) {
    byte[] digest = sha256(("odelt/request-seed/v1:" + requestId).getBytes(StandardCharsets.UTF_8));
    long seed = 0;
    for (int i = 0; i < 8; i++) {
      seed = (seed << 8) | (digest[i] & 0xff);
    }
    return seed & Long.MAX_VALUE;
  }

  /**
   * The seed of image {@code index} of a request: SplitMix64 finaliser of {@code requestSeed} mixed
   * with the golden-ratio multiple of {@code index + 1}, non-negative. Distinct indexes of one
   * request give distinct seeds (the finaliser is a bijection).
   */
  public static long forImage(long requestSeed, long index) {
    return mix64(requestSeed ^ mix64((index + 1) * 0x9E3779B97F4A7C15L)) & Long.MAX_VALUE;
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
