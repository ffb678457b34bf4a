package dev.odelt.model.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GaussianNoiseTest {

  @Test
  void sameSeedGivesSameValuesAndPrefixesAgree() {
    float[] a = GaussianNoise.standardNormal(42L, 3 * 8 * 8);
    float[] b = GaussianNoise.standardNormal(42L, 3 * 8 * 8);
    float[] shorter = GaussianNoise.standardNormal(42L, 7);
    assertArrayEquals(a, b);
    assertArrayEquals(Arrays.copyOf(a, 7), shorter);
  }

  @Test
  void differentSeedsAndStreamsDiffer() {
    float[] a = GaussianNoise.standardNormal(1L, 64);
    assertFalse(Arrays.equals(a, GaussianNoise.standardNormal(2L, 64)));
    assertFalse(Arrays.equals(a, GaussianNoise.standardNormal(1L << 32 | 1L, 64)));
    assertFalse(Arrays.equals(a, GaussianNoise.standardNormal(1L, 1, 64)));
  }

  @Test
  void firstValuesFollowTheDocumentedDefinition() {
    // Block 0 of key (0, 0) is the Random123 vector 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
    double u0 = (0x6627e8d5L + 0.5) / 4294967296.0;
    double u1 = (0xe169c58dL + 0.5) / 4294967296.0;
    double r = Math.sqrt(-2 * Math.log(u0));
    float[] z = GaussianNoise.standardNormal(0L, 2);
    assertEquals((float) (r * Math.cos(2 * Math.PI * u1)), z[0]);
    assertEquals((float) (r * Math.sin(2 * Math.PI * u1)), z[1]);
  }

  @Test
  void momentsAreStandardNormal() {
    int n = 200_000;
    float[] z = GaussianNoise.standardNormal(7L, n);
    double sum = 0;
    double sumSq = 0;
    double sumFourth = 0;
    int beyondTwo = 0;
    for (float v : z) {
      sum += v;
      sumSq += v * v;
      sumFourth += (double) v * v * v * v;
      if (Math.abs(v) > 2) {
        beyondTwo++;
      }
    }
    double mean = sum / n;
    double variance = sumSq / n - mean * mean;
    // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032; 5 sigma bounds.
    assertEquals(0.0, mean, 0.012);
    assertEquals(1.0, variance, 0.016);
    assertEquals(3.0, sumFourth / n, 0.1);
    // P(|z| > 2) = 0.0455.
    assertEquals(0.0455, (double) beyondTwo / n, 0.003);
    assertTrue(Float.isFinite(z[0]));
  }
}
