package dev.odelt.model.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.odelt.proto.v1.PositionLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each network block against values recorded from tools/reference.py ({@code /usr/bin/python3
 * model-artifacts/tools/reference.py golden}, PyTorch 1.13.1), an independent implementation of
 * DESIGN.md section 1. Weights and inputs are the closed form scale·sin(0.37·k + salt) over the
 * flat index k, computed identically on both sides. D = 8, 2 heads, MLP 16, N = 4, B = 2.
 */
class BlocksReferenceTest {

  /** float32 kernels of two libraries differ by a few ulps; values are O(1). */
  private static final float TOLERANCE = 2e-5f;

  private NDManager manager;
  private ParameterStore ps;

  @BeforeEach
  void open() {
    manager = NDManager.newBaseManager();
    ps = new ParameterStore(manager, false);
  }

  @AfterEach
  void close() {
    manager.close();
  }

  private NDArray formula(double salt, double scale, long... shape) {
    float[] v = new float[Math.toIntExact(new Shape(shape).size())];
    for (int k = 0; k < v.length; k++) {
      v[k] = (float) (scale * Math.sin(0.37 * k + salt));
    }
    return manager.create(v, new Shape(shape));
  }

  /** Sets a block's parameters, in its registration order, from (salt, scale) pairs. */
  private void set(NetBlock block, double[][] saltScale) {
    Map<String, Parameter> params = new LinkedHashMap<>();
    Map<String, Shape> shapes = new LinkedHashMap<>();
    block.collect("", params, shapes);
    int i = 0;
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      e.getValue()
          .setArray(formula(saltScale[i][0], saltScale[i][1], shapes.get(e.getKey()).getShape()));
      i++;
    }
  }

  private NDArray ones() {
    return manager.ones(new Shape(8));
  }

  private NDArray zeros() {
    return manager.zeros(new Shape(8));
  }

  @Test
  void ditBlockMatchesReference() {
    DitBlock block = new DitBlock(8, 2, 16);
    // Reference order: adaLN, k, q, v, proj, fc1, fc2 with salts 0..6 (bias salt + 0.5).
    double[][] saltScale = new double[14][];
    for (int j = 0; j < 7; j++) {
      saltScale[2 * j] = new double[] {j, 0.5};
      saltScale[2 * j + 1] = new double[] {j + 0.5, 0.1};
    }
    set(block, saltScale);
    NDArray x = formula(7, 1, 2, 4, 8);
    NDArray cb = formula(8, 1, 2, 8);
    assertArrayEquals(
        DIT_BLOCK, block.apply(ps, x, cb, ones(), zeros(), false).toFloatArray(), TOLERANCE);
  }

  @Test
  void finalLayerMatchesReference() {
    FinalLayer layer = new FinalLayer(8, 12);
    set(layer, new double[][] {{11, 0.5}, {11.5, 0.1}, {12, 0.5}, {12.5, 0.1}});
    NDArray x = formula(7, 1, 2, 4, 8);
    NDArray c = formula(8, 1, 2, 8);
    assertArrayEquals(
        FINAL_LAYER, layer.apply(ps, x, c, ones(), zeros(), false).toFloatArray(), TOLERANCE);
  }

  @Test
  void timestepEmbedderMatchesReference() {
    TimestepEmbedder embedder = new TimestepEmbedder(8);
    set(embedder, new double[][] {{13, 0.1}, {13.5, 0.1}, {14, 0.5}, {14.5, 0.1}});
    NDArray s = manager.create(new float[] {0.25f, 3f});
    assertArrayEquals(TIMESTEP, embedder.embed(ps, s, false).toFloatArray(), TOLERANCE);
  }

  @Test
  void patchEmbedMatchesReference() {
    PatchEmbed embed = new PatchEmbed(3, 2, 8);
    set(embed, new double[][] {{15, 0.5}, {15.5, 0.1}});
    NDArray x = formula(16, 1, 2, 3, 4, 4);
    assertArrayEquals(PATCH_EMBED, embed.embed(ps, x, false).toFloatArray(), TOLERANCE);
  }

  @Test
  void positionEmbeddingMatchesReference() {
    assertArrayEquals(
        POSITIONS, OdeltNetwork.positionEmbedding(8, 2, PositionLayout.COLUMN_FIRST), 1e-6f);
    assertArrayEquals(
        POSITIONS_ROW_FIRST,
        OdeltNetwork.positionEmbedding(8, 2, PositionLayout.ROW_FIRST),
        1e-6f);
  }

  // Recorded from tools/reference.py golden.
  private static final float[] DIT_BLOCK = {
    -0.66725981f,
    1.7618792f,
    0.72586048f,
    0.5821057f,
    2.3557587f,
    -0.8194077f,
    2.751687f,
    -1.5242867f,
    -1.7030004f,
    0.54579329f,
    -2.1481314f,
    -0.34129053f,
    -1.1295276f,
    -1.1504465f,
    0.52123004f,
    -1.2316512f,
    0.28912273f,
    0.78419709f,
    0.50754964f,
    1.5948174f,
    0.48074514f,
    1.5572443f,
    0.37216818f,
    0.71372235f,
    0.54625785f,
    -0.93375051f,
    -0.94653404f,
    -0.25490022f,
    -2.256202f,
    0.46762115f,
    -2.217772f,
    0.76110244f,
    -1.0385723f,
    1.687f,
    -0.63301212f,
    2.604897f,
    0.23686767f,
    2.070857f,
    0.87425297f,
    0.68866265f,
    -0.48010069f,
    0.37784231f,
    -1.320642f,
    -0.94454604f,
    -1.5858459f,
    -1.8983868f,
    -1.3097477f,
    -1.7759612f,
    -1.127275f,
    1.2849813f,
    -1.0108221f,
    2.876986f,
    -0.18068445f,
    2.8413296f,
    0.71562898f,
    1.4465139f,
    0.049887776f,
    0.66507924f,
    -1.0516922f,
    -0.48467851f,
    -1.6862408f,
    -1.5155706f,
    -1.6717892f,
    -1.7362962f
  };
  private static final float[] FINAL_LAYER = {
    -0.062360328f,
    0.31381345f,
    -0.44038221f,
    0.79150504f,
    -0.7854436f,
    1.1320068f,
    -1.0668123f,
    1.2864523f,
    -1.2417831f,
    1.2503207f,
    -1.2643867f,
    1.0558516f,
    0.30926946f,
    -0.58516276f,
    0.95637727f,
    -1.0571047f,
    1.4542243f,
    -1.4250672f,
    1.723577f,
    -1.6454895f,
    1.7352931f,
    -1.6739877f,
    1.510987f,
    -1.479318f,
    1.2446016f,
    -1.1054763f,
    1.0445613f,
    -0.71025962f,
    0.68375605f,
    -0.25631267f,
    0.19497141f,
    0.19269848f,
    -0.35202771f,
    0.59382361f,
    -0.86273712f,
    0.92225784f,
    -1.1394463f,
    1.0635668f,
    -0.83814728f,
    0.82420117f,
    -0.45199555f,
    0.44337982f,
    -0.045652479f,
    -0.03365916f,
    0.33386758f,
    -0.52905351f,
    0.66019547f,
    -0.95064813f,
    1.6978515f,
    -1.7260081f,
    1.8119678f,
    -1.5993047f,
    1.6652032f,
    -1.2978865f,
    1.2624195f,
    -0.86552036f,
    0.66216189f,
    -0.34298494f,
    -0.03411695f,
    0.22907576f,
    -1.9903859f,
    2.1889637f,
    -2.2009921f,
    2.3796761f,
    -2.1489482f,
    2.2260056f,
    -1.855329f,
    1.7435561f,
    -1.3524419f,
    1.0108956f,
    -0.68275118f,
    0.15113318f,
    2.177088f,
    -2.3649395f,
    2.5895834f,
    -2.4900322f,
    2.6397505f,
    -2.3242049f,
    2.3067586f,
    -1.8935368f,
    1.6400487f,
    -1.238584f,
    0.74974197f,
    -0.41726604f,
    -2.1984215f,
    2.4983859f,
    -2.6016257f,
    2.8583457f,
    -2.6899128f,
    2.8114758f,
    -2.4660506f,
    2.3594456f,
    -1.9532459f,
    1.5768558f,
    -1.1952561f,
    0.59332865f
  };
  private static final float[] TIMESTEP = {
    0.52266562f, -0.3070282f, 0.36610278f, -0.24029841f, 0.14406903f, -0.14605917f,
    -0.086210944f, -0.0092548504f, 0.11711363f, 0.019563932f, 0.12921044f, -0.10089625f,
    0.10674132f, -0.21203344f, 0.080895737f, -0.27199858f
  };
  private static final float[] PATCH_EMBED = {
    0.84985507f,
    -0.66446918f,
    -0.53108948f,
    0.82834285f,
    -0.10312916f,
    -1.0024811f,
    0.40286776f,
    0.56845218f,
    1.1953921f,
    -0.60562068f,
    -0.90829104f,
    0.97245395f,
    0.19653094f,
    -1.3078291f,
    0.26750511f,
    0.94663429f,
    -0.64429784f,
    0.59189075f,
    0.28705865f,
    -0.86823487f,
    -0.0084062293f,
    0.64312929f,
    -0.57730252f,
    -0.54976183f,
    -1.1245238f,
    0.6207155f,
    0.75177497f,
    -1.1471077f,
    -0.3230705f,
    1.0913124f,
    -0.5037905f,
    -1.0374993f,
    -0.33486485f,
    -0.1706917f,
    0.38794553f,
    -0.15993616f,
    -0.49040473f,
    0.19417787f,
    0.14626157f,
    -0.49013567f,
    0.51405686f,
    -0.56902862f,
    -0.2466446f,
    0.57985228f,
    -0.25386974f,
    -0.67288214f,
    0.37626225f,
    0.2531687f,
    0.57277936f,
    0.018370712f,
    -0.62142676f,
    0.19411042f,
    0.32846707f,
    -0.60047626f,
    -0.24503377f,
    0.51506114f,
    -0.27184317f,
    0.45971277f,
    -0.014275428f,
    -0.57391912f,
    0.13456669f,
    0.27188486f,
    -0.52052122f,
    -0.20906937f
  };
  private static final float[] POSITIONS = {
    0f,
    0f,
    1f,
    1f,
    0f,
    0f,
    1f,
    1f,
    0.84147096f,
    0.0099998331f,
    0.54030228f,
    0.99994999f,
    0f,
    0f,
    1f,
    1f,
    0f,
    0f,
    1f,
    1f,
    0.84147096f,
    0.0099998331f,
    0.54030228f,
    0.99994999f,
    0.84147096f,
    0.0099998331f,
    0.54030228f,
    0.99994999f,
    0.84147096f,
    0.0099998331f,
    0.54030228f,
    0.99994999f
  };
  private static final float[] POSITIONS_ROW_FIRST = {
    0f,
    0f,
    1f,
    1f,
    0f,
    0f,
    1f,
    1f,
    0f,
    0f,
    1f,
    1f,
    0.84147096f,
    0.0099998331f,
    0.54030228f,
    0.99994999f,
    0.84147096f,
    0.0099998331f,
    0.54030228f,
    0.99994999f,
    0f,
    0f,
    1f,
    1f,
    0.84147096f,
    0.0099998331f,
    0.54030228f,
    0.99994999f,
    0.84147096f,
    0.0099998331f,
    0.54030228f,
    0.99994999f
  };
}
