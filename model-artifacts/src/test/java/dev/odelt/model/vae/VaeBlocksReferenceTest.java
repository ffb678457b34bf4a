package dev.odelt.model.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The decoder's blocks against values recorded from tools/vae_reference.py ({@code /usr/bin/python3
 * model-artifacts/tools/vae_reference.py golden}, PyTorch 1.13.1 with its own F.group_norm,
 * F.interpolate and attention), an independent implementation of the architecture. Weights and
 * inputs are the closed form scale·sin(0.37·k + salt) over the flat index k (norm scales plus 1),
 * computed identically on both sides.
 */
class VaeBlocksReferenceTest {

  /** float32 kernels of two libraries differ by a few ulps; values are O(1). */
  private static final float TOLERANCE = 2e-5f;

  private static final float[] RESNET = {
    -0.29188871f,
    -0.53773999f,
    -0.72622746f,
    -0.76612973f,
    -0.99698246f,
    -0.79931474f,
    -0.45417756f,
    -0.17322226f,
    0.22655867f,
    0.25112584f,
    0.2647121f,
    0.026582867f,
    -0.38678083f,
    -0.74125856f,
    -0.80960906f,
    -1.1706443f,
    -1.3461559f,
    -0.91114879f,
    0.31236181f,
    0.55033553f,
    0.40529501f,
    -0.10430218f,
    -0.30469659f,
    -0.49554867f,
    -1.2543732f,
    -1.6873641f,
    -1.3717746f,
    0.28147766f,
    0.64378738f,
    0.67524028f,
    0.32561705f,
    0.34609881f,
    0.078062266f,
    -0.73408353f,
    -1.2560022f,
    -1.2872206f,
    -0.45912755f,
    -0.14325435f,
    0.12991068f,
    0.40954846f,
    0.43565315f,
    0.14873901f,
    -0.25354192f,
    -1.0325727f,
    -1.1525048f,
    -0.69022918f,
    -0.59763688f,
    -0.37640619f,
    0.27933836f,
    0.7618857f,
    0.50051117f,
    0.10745378f,
    -0.25639641f,
    -0.55309981f,
    -0.76082784f,
    -0.83418083f,
    -0.6719833f,
    0.10742327f,
    0.86384761f,
    0.81375712f,
    0.64642149f,
    0.85737807f,
    0.47117522f,
    -0.37396678f,
    -0.63249451f,
    -0.68394214f,
    -0.2685298f,
    0.29665673f,
    0.44712758f,
    0.58101118f,
    1.2621669f,
    1.0287319f
  };

  private static final float[] ATTENTION = {
    1.2447321f,
    1.1266162f,
    0.89215094f,
    0.57321852f,
    0.21305193f,
    -0.13965711f,
    -0.81858122f,
    -1.0246665f,
    -1.1075497f,
    -1.0561405f,
    -0.87745547f,
    -0.59563255f,
    0.1090858f,
    0.47731161f,
    0.81380421f,
    1.0731239f,
    1.2202209f,
    1.2351505f,
    0.68130088f,
    0.44143134f,
    0.11603422f,
    -0.2509242f,
    -0.60981381f,
    -0.91203606f,
    -0.75505948f,
    -0.83275044f,
    -0.77481282f,
    -0.58904433f,
    -0.30056497f,
    0.051568612f,
    0.0024912655f,
    0.33603027f,
    0.59085077f,
    0.73245198f,
    0.74166018f,
    0.61722851f,
    0.70856267f,
    0.38298774f,
    0.016985461f,
    -0.33992812f,
    -0.63945192f,
    -0.84103352f,
    -1.2498204f,
    -1.189473f,
    -1.0013127f,
    -0.71075374f,
    -0.35710216f,
    0.011751413f,
    0.84324664f,
    1.0950961f,
    1.2338173f,
    1.2406043f,
    1.114537f,
    0.87270731f,
    0.18519659f,
    -0.17943244f,
    -0.53432405f,
    -0.83141792f,
    -1.0305027f,
    -1.1046591f,
    -0.70284051f,
    -0.51462436f,
    -0.22467923f,
    0.12772915f,
    0.49490303f,
    0.82716882f,
    0.65943074f,
    0.79716122f,
    0.80184168f,
    0.67285609f,
    0.42766312f,
    0.09943144f,
    0.08264827f,
    -0.27261621f,
    -0.56849909f,
    -0.76496589f,
    -0.83542633f,
    -0.77033257f,
    -0.9874171f,
    -0.69525182f,
    -0.34199324f,
    0.024552345f,
    0.35477513f,
    0.6039753f,
    1.06626f,
    1.0681071f,
    0.93677717f,
    0.69004542f,
    0.36130601f,
    -0.0049482435f,
    -0.690557f,
    -0.98498726f,
    -1.1794697f,
    -1.2476892f,
    -1.1804127f,
    -0.98673934f
  };

  private static final float[] UPSAMPLE = {
    0.52590632f,
    0.75485891f,
    0.73151994f,
    0.5059762f,
    0.61736608f,
    0.73489857f,
    0.66298318f,
    0.35636351f,
    0.50086427f,
    0.52338493f,
    0.42752141f,
    0.18526047f,
    0.23744804f,
    0.14134328f,
    0.073457323f,
    0.012545042f,
    0.26995963f,
    0.49102986f,
    0.5027101f,
    0.41943479f,
    0.60474479f,
    0.88810778f,
    0.86312348f,
    0.56849664f,
    0.56165981f,
    0.76795942f,
    0.71431601f,
    0.42637384f,
    0.38263121f,
    0.40746921f,
    0.32557005f,
    0.1603207f,
    -0.095606267f,
    -0.0021453146f,
    0.038228147f,
    0.14232153f,
    0.30119169f,
    0.59692144f,
    0.63239872f,
    0.5093289f,
    0.35485733f,
    0.63320792f,
    0.65083671f,
    0.47315735f,
    0.35717458f,
    0.48950362f,
    0.43794596f,
    0.2578553f,
    -0.38166919f,
    -0.4664343f,
    -0.41923293f,
    -0.18414551f,
    -0.13775639f,
    0.0101787f,
    0.08690457f,
    0.20204347f,
    -0.016404256f,
    0.1832485f,
    0.26260221f,
    0.29141286f,
    0.1660039f,
    0.33415735f,
    0.340864f,
    0.24346539f
  };

  private NDManager manager;

  @BeforeEach
  void open() {
    manager = NDManager.newBaseManager();
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

  /** Sets a block's parameters, in its registration order, from (salt, scale, plus) triples. */
  private void set(VaeBlock block, double[][] saltScalePlus) {
    Map<String, Parameter> params = new LinkedHashMap<>();
    Map<String, Shape> shapes = new LinkedHashMap<>();
    block.collect("", params, shapes);
    int i = 0;
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      double[] ssp = saltScalePlus[i++];
      NDArray array = formula(ssp[0], ssp[1], shapes.get(e.getKey()).getShape());
      e.getValue().setArray(ssp[2] == 0 ? array : array.add(manager.create((float) ssp[2])));
    }
  }

  @Test
  void resnetWithShortcutMatchesReference() {
    ResnetBlock block = new ResnetBlock(8, 4, 2);
    // Registration order: norm1 (w, b), conv1, norm2, conv2, conv_shortcut; salts 0..4.
    set(
        block,
        new double[][] {
          {0, 0.5, 1},
          {0.5, 0.1, 0},
          {1, 0.3, 0},
          {1.5, 0.1, 0},
          {2, 0.5, 1},
          {2.5, 0.1, 0},
          {3, 0.3, 0},
          {3.5, 0.1, 0},
          {4, 0.3, 0},
          {4.5, 0.1, 0}
        });
    NDArray out = block.apply(formula(7, 1, 2, 8, 3, 3));
    assertArrayEquals(new long[] {2, 4, 3, 3}, out.getShape().getShape());
    assertArrayEquals(RESNET, out.toFloatArray(), TOLERANCE);
  }

  @Test
  void attentionMatchesReference() {
    MidAttention block = new MidAttention(8, 2);
    // group_norm, then to_q, to_k, to_v, to_out.0 with salts 11..14.
    set(
        block,
        new double[][] {
          {10, 0.5, 1},
          {10.5, 0.1, 0},
          {11, 0.5, 0},
          {11.5, 0.1, 0},
          {12, 0.5, 0},
          {12.5, 0.1, 0},
          {13, 0.5, 0},
          {13.5, 0.1, 0},
          {14, 0.5, 0},
          {14.5, 0.1, 0}
        });
    NDArray out = block.apply(formula(8, 1, 2, 8, 2, 3));
    assertArrayEquals(new long[] {2, 8, 2, 3}, out.getShape().getShape());
    assertArrayEquals(ATTENTION, out.toFloatArray(), TOLERANCE);
  }

  @Test
  void upsamplingMatchesReference() {
    // An up block's upsampler alone: nearest ×2, then its 3×3 convolution.
    NDArray x = formula(9, 1, 1, 4, 2, 2);
    try (NDArray up = VaeOps.upsampleNearest2x(x)) {
      Parameter w = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).build();
      Parameter b = Parameter.builder().setName("b").setType(Parameter.Type.BIAS).build();
      w.setArray(formula(20, 0.3, 4, 4, 3, 3));
      b.setArray(formula(20.5, 0.1, 4));
      NDArray out = VaeOps.conv(up, w, b, 1);
      assertArrayEquals(new long[] {1, 4, 4, 4}, out.getShape().getShape());
      assertArrayEquals(UPSAMPLE, out.toFloatArray(), TOLERANCE);
    }
  }
}
