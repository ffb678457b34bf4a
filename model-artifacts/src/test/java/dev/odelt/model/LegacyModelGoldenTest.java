package dev.odelt.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.sample.GeneratedImage;
import dev.odelt.model.sample.SampleBatch;
import dev.odelt.model.sample.SampleItem;
import dev.odelt.proto.v1.PositionLayout;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * odelt-mnist 1.0.0 (the bundled model until 2.0.0; kept as a test resource) was trained with the
 * row-first position embedding and its manifest predates the {@code position_layout} field: it
 * must keep producing its images bit for bit. The expected values were recorded on main before
 * the layout became configurable.
 */
class LegacyModelGoldenTest {

  /** odelt-mnist 1.0.0's package, byte for byte as it was bundled. */
  static final String VERSION_ONE = "classpath:/dev/odelt/models/mnist-1.0.0/manifest.json";

  private static LoadedModel model;

  @BeforeAll
  static void load() throws Exception {
    model = Models.load(VERSION_ONE, "cpu");
  }

  @AfterAll
  static void close() {
    model.close();
  }

  @Test
  void manifestWithoutALayoutIsReadRowFirst() throws Exception {
    assertEquals(
        PositionLayout.POSITION_LAYOUT_UNSPECIFIED,
        ModelPackages.readManifest(VERSION_ONE).getArchitecture().getPositionLayout());
    assertEquals(PositionLayout.ROW_FIRST, model.config().positionLayout());
  }

  @Test
  void imagesAreBitForBitThoseOfVersionOnePointZero() throws Exception {
    List<SampleItem> items = new ArrayList<>();
    for (int k = 0; k < 10; k++) {
      items.add(new SampleItem(k, 1000 + k));
    }
    StringBuilder actual = new StringBuilder();
    for (Tier tier : List.of(Tier.of(1, 2), Tier.of(4, 4), Tier.of(8, 6).withGuidance(1.5f))) {
      SampleBatch batch = model.sampler().sample(items, tier);
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (GeneratedImage image : batch.images()) {
        sha.update(image.pixels());
      }
      actual.append(tier.label()).append('=').append(HexFormat.of().formatHex(sha.digest()));
      actual.append('\n');
    }
    assertEquals(PIXEL_HASHES, actual.toString());
  }

  @Test
  void velocityIsThatOfVersionOnePointZero() {
    ModelConfig c = model.config();
    int batch = 2;
    int perImage = c.channels() * c.imageSize() * c.imageSize();
    float[] x = new float[batch * perImage];
    GaussianNoise.fill(7, 0, x, 0, x.length);
    try (NDManager m = model.manager().newSubManager()) {
      NDArray v =
          model
              .network()
              .velocity(
                  new ParameterStore(m, false),
                  m.create(x, new Shape(batch, c.channels(), c.imageSize(), c.imageSize())),
                  m.create(new float[] {0.25f, 0.75f}),
                  m.create(new float[] {7f, 2f}),
                  m.create(new int[] {3, 8}),
                  c.depth(),
                  false);
      float[] values = v.toFloatArray();
      float[] sample = new float[(values.length + 96) / 97];
      for (int i = 0; i < sample.length; i++) {
        sample[i] = values[97 * i];
      }
      // Printed with 5 decimals; a transposed position embedding moves these by ~0.1 or more.
      assertArrayEquals(VELOCITY_SAMPLE, sample, 2e-5f);
    }
  }

  /** sha256 of the 10 images' pixels per tier (classes 0..9, seeds 1000..1009), main b77efc5. */
  private static final String PIXEL_HASHES =
      "s1-b2=7dd27014ed43cb930c2a78536e275f664ba0161290b6f0aa44d4f32b985fa7e2\n"
          + "s4-b4=7eb9b1cf22b33b3436539d8003c114ccb3db1b5167ebabcdb0860d81b1fb8b66\n"
          + "s8-b6-g1.5=12878824b25f9205b42ad3afba891f215a2bc775a5cecd2dc19710c81d4a9869\n";

  /** Every 97th value of the velocity above, recorded on main b77efc5. */
  private static final float[] VELOCITY_SAMPLE = {
    -1.27054f, -0.44215f, -2.34986f, 1.05720f, -2.95929f, -3.19256f, -1.39652f, -0.49520f,
    0.45704f, -0.16042f, -1.05464f, -1.60683f, 2.21529f, -0.54490f, 0.27476f, -2.48403f,
    -0.16716f, -0.45007f, 1.46527f, 0.41774f, -0.72659f, -2.28343f
  };
}
