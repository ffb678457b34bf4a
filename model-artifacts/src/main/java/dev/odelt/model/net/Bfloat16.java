package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Casting to bfloat16 on the PyTorch engine, which DJL cannot do by itself.
 *
 * <p>Why: DJL's PyTorch JNI (0.33 and every later release checked, up to its main branch) maps
 * {@link DataType} ordinals to torch scalar types in {@code GetScalarTypeFromDType} with cases for
 * float32 … complex64 only; {@link DataType#BFLOAT16} (ordinal 11) falls to {@code default:
 * throw;}, a rethrow with no active exception, which C++ answers with {@code std::terminate}: the
 * JVM aborts ("terminate called without an active exception") before DJL's error handling can catch
 * anything. Every path that names the dtype goes through that switch ({@code
 * manager.ones/zeros/create(…, BFLOAT16)}, {@code toType(BFLOAT16)}, softmax with a dtype). In the
 * other direction {@code GetDTypeFromScalarType} reports a bfloat16 tensor as {@link
 * DataType#UNKNOWN}.
 *
 * <p>Fix: a one-line TorchScript module ({@code x.to(torch.bfloat16)}, written by {@code
 * model-artifacts/tools/make-bf16-cast.py}) run through DJL's module API, which never passes a
 * dtype through the switch. Every other operation the network uses (linear, matmul, conv,
 * LayerNorm, element-wise) keeps its input's dtype, and {@code toType(FLOAT32)} works on bfloat16
 * input, so this one cast is all bfloat16 inference needs. The module is loaded once per JVM and is
 * thread-safe (it has no state).
 */
public final class Bfloat16 {

  private static final String RESOURCE = "to_bfloat16.pt";

  private Bfloat16() {}

  /** Loaded on first use; lives as long as the JVM. */
  private static final class Module {
    static final PtSymbolBlock CAST = load();

    private static PtSymbolBlock load() {
      NDManager manager = NDManager.newBaseManager();
      manager.setName("odelt-bf16-cast");
      try (InputStream in = Bfloat16.class.getResourceAsStream(RESOURCE)) {
        if (in == null) {
          throw new IllegalStateException("Resource " + RESOURCE + " is missing from the jar");
        }
        return JniUtils.loadModule((PtNDManager) manager, in, true, false);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read " + RESOURCE, e);
      }
    }
  }

  /**
   * {@code x} as bfloat16 (round to nearest even), a new array on {@code x}'s manager and device.
   * Recorded by autograd like any op when the calling thread's grad mode is on.
   *
   * @throws IllegalArgumentException when {@code x} is not on the PyTorch engine
   */
  public static NDArray cast(NDArray x) {
    if (!(x.getManager() instanceof PtNDManager)) {
      throw new IllegalArgumentException(
          "bfloat16 needs the PyTorch engine, got " + x.getManager().getEngine().getEngineName());
    }
    // isTrain=true only skips the JNI's InferenceMode guard: its outputs would be inference
    // tensors, which PyTorch forbids modifying in place outside that mode.
    return IValueUtils.forward(Module.CAST, new NDList(x), true).singletonOrThrow();
  }

  /**
   * Whether {@code x} holds bfloat16: DJL reports such arrays as {@link DataType#UNKNOWN}, the only
   * type the network makes that DJL does not know (a JNI that knows bfloat16 reports {@link
   * DataType#BFLOAT16}).
   */
  public static boolean is(NDArray x) {
    DataType type = x.getDataType();
    return type == DataType.BFLOAT16 || type == DataType.UNKNOWN;
  }
}
