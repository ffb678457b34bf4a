package dev.odelt.model.net;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A lookup table (rows, D). Lookups are one-hot products so the result belongs to the caller's
 * manager (a gather from the table would belong to the parameters' manager and leak) and the
 * gradient reaches the table.
 */
public final class EmbeddingTable extends NetBlock {

  private final int rows;
  private final Parameter table;

  public EmbeddingTable(int rows, int hidden) {
    this.rows = rows;
    table = param("embedding_table.weight", Parameter.Type.WEIGHT, rows, hidden);
  }

  /**
   * @param indices (B) integer row indices in [0, rows)
   * @return (B, D)
   */
  public NDArray lookup(ParameterStore ps, NDArray indices, boolean training) {
    NDArray weights = value(ps, table, indices, training);
    NDArray oneHot = indices.toType(DataType.INT64, false).oneHot(rows, DataType.FLOAT32);
    return Ops.castLike(oneHot, weights).matMul(weights); // exact in bfloat16 too
  }

  /** One row, as (1, D), computed on {@code like}'s manager and device. */
  public NDArray row(ParameterStore ps, int index, NDArray like, boolean training) {
    float[] oneHot = new float[rows];
    oneHot[index] = 1f;
    NDArray weights = value(ps, table, like, training);
    NDArray selector = like.getManager().create(oneHot, new Shape(1, rows));
    return Ops.castLike(selector, weights).matMul(weights);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
    return new NDList(lookup(ps, inputs.singletonOrThrow(), training));
  }
}
