package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Base of the network's blocks: registers parameters and children with DJL and, in parallel,
 * under stable PyTorch-style dotted names ({@code blocks.3.attn.q.weight}) with their expected
 * shapes, which is what the weights file uses.
 */
abstract class NetBlock extends AbstractBlock {

  private final Map<String, Parameter> namedParameters = new LinkedHashMap<>();
  private final Map<String, Shape> namedShapes = new LinkedHashMap<>();
  private final Map<String, NetBlock> namedChildren = new LinkedHashMap<>();

  /** Registers a parameter of a fixed shape under a dotted local name. */
  protected final Parameter param(String name, Parameter.Type type, long... shape) {
    Parameter p =
        addParameter(
            Parameter.builder().setName(name.replace('.', '_')).setType(type).build());
    namedParameters.put(name, p);
    namedShapes.put(name, new Shape(shape));
    return p;
  }

  protected final <B extends NetBlock> B child(String name, B block) {
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
    for (Map.Entry<String, NetBlock> e : namedChildren.entrySet()) {
      e.getValue().collect(prefix + e.getKey() + ".", params, shapes);
    }
  }

  /**
   * The parameter's value on the device of {@code like}: the parameter array itself when it is
   * already there (the normal case: a network lives on one device), else the store's copy.
   */
  protected static NDArray value(
      ParameterStore ps, Parameter p, NDArray like, boolean training) {
    NDArray array = p.getArray();
    if (array.getDevice().equals(like.getDevice())) {
      return array;
    }
    return ps.getValue(p, like.getDevice(), training);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return new Shape[] {inputShapes[0]};
  }
}
