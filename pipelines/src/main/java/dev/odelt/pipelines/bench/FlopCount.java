package dev.odelt.pipelines.bench;

import dev.odelt.model.ModelConfig;

/**
 * Floating-point operations of one velocity call, counted analytically from the architecture. A
 * multiply-add counts as 2 FLOPs; only matrix products (convolution, linear layers, attention
 * products) are counted: element-wise work (LayerNorm, softmax, GELU, SiLU, modulation, residual
 * adds) is O(B·N·D) per block against O(B·N·D²) for the products and is left out, as is usual for
 * utilisation figures.
 *
 * <p>Per image, with N tokens, width D, MLP width M, patch values P = C·p·p, L blocks of which
 * {@link ModelConfig#blocksRun(int)} run (L unless depth_min is not a multiple of G):
 *
 * <ul>
 *   <li>patch embedding: 2·N·P·D
 *   <li>conditioning: two timestep MLPs 2·(2·256·D + 2·D·D)
 *   <li>per block: adaLN 2·D·6D; q, k, v 3·2·N·D²; scores QKᵀ 2·N²·D; weights·V 2·N²·D; output
 *       projection 2·N·D²; MLP 2·2·N·D·M
 *   <li>final layer: adaLN 2·D·2D; output linear 2·N·D·P
 * </ul>
 *
 * @param config the architecture
 */
public record FlopCount(ModelConfig config) {

  /** The formula above, as text for the report. */
  public static final String FORMULA =
      "FLOPs/image = 2NPD + 2(2·256·D + 2D²)"
          + " + blocksRun(L)·[2·D·6D + 3·2ND² + 2·2N²D + 2ND² + 2·2NDM]"
          + " + 2·D·2D + 2NDP (N tokens, D width, M MLP width, P = C·p·p, multiply-add = 2)";

  /** FLOPs of the patch embedding, per image. */
  public long patchEmbed() {
    return 2L * config.tokens() * config.patchValues() * config.hiddenSize();
  }

  /** FLOPs of the time and step-level embedders, per image. */
  public long conditioning() {
    long d = config.hiddenSize();
    return 2 * (2L * 256 * d + 2L * d * d);
  }

  /** FLOPs of one transformer block, per image. */
  public long block() {
    long n = config.tokens();
    long d = config.hiddenSize();
    long m = config.mlpHidden();
    long adaLn = 2 * d * 6 * d;
    long qkv = 3 * 2 * n * d * d;
    long attention = 2 * 2 * n * n * d;
    long projection = 2 * n * d * d;
    long mlp = 2 * 2 * n * d * m;
    return adaLn + qkv + attention + projection + mlp;
  }

  /** FLOPs of the final layer, per image. */
  public long finalLayer() {
    long d = config.hiddenSize();
    return 2 * d * 2 * d + 2L * config.tokens() * d * config.patchValues();
  }

  /** FLOPs of one velocity evaluation of one image at block count L = {@code blocks}. */
  public long perImage(int blocks) {
    return patchEmbed() + conditioning() + config.blocksRun(blocks) * block() + finalLayer();
  }

  /** FLOPs of one velocity call on a batch. */
  public long perCall(int batch, int blocks) {
    return batch * perImage(blocks);
  }
}
