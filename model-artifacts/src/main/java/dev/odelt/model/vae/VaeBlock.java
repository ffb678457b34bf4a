package dev.odelt.model.vae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Base of the decoder's blocks: registers parameters and children with DJL and, in parallel, under
 * their diffusers dotted names ({@code decoder.up_blocks.0.resnets.1.conv1.weight}) with their
 * expected shapes, which is what the weights file uses. Blocks are inference-only: {@link
 * #apply(NDArray)} reads each parameter's array directly (a decoder lives on one device).
 */
abstract class VaeBlock extends AbstractBlock {

  private final Map<String, Parameter> namedParameters = new LinkedHashMap<>();
  private final Map<String, Shape> namedShapes = new LinkedHashMap<>();
  private final Map<String, VaeBlock> namedChildren = new LinkedHashMap<>();

  /** Registers a parameter of a fixed shape under a dotted local name. */
  protected final Parameter param(String name, Parameter.Type type, long... shape) {
    Parameter p =
        addParameter(Parameter.builder().setName(name.replace('.', '_')).setType(type).build());
    namedParameters.put(name, p);
    namedShapes.put(name, new Shape(shape));
    return p;
  }

  protected final <B extends VaeBlock> B child(String name, B block) {
    addChildBlock(name.replace('.', '_'), block);
    namedChildren.put(name, block);
    return block;
  }

  /** Adds this block's parameters, depth first, under {@code prefix}. */
  final void collect(String prefix, Map<String, Parameter> params, Map<String, Shape> shapes) {
    for (Map.Entry<String, Parameter> e : namedParameters.entrySet()) {
      params.put(prefix + e.getKey(), e.getValue());
      shapes.put(prefix + e.getKey(), namedShapes.get(e.getKey()));
    }
    for (Map.Entry<String, VaeBlock> e : namedChildren.entrySet()) {
      e.getValue().collect(prefix + e.getKey() + ".", params, shapes);
    }
  }

  /**
   * Runs the block on a (B, C, H, W) activation. The result is a new array on {@code x}'s manager;
   * {@code x} is left intact (the caller frees it).
   */
  abstract NDArray apply(NDArray x);

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    if (training) {
      throw new UnsupportedOperationException("the VAE decoder is inference-only");
    }
    return new NDList(apply(inputs.singletonOrThrow()));
  }
}
