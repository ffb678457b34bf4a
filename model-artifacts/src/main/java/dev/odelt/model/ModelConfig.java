package dev.odelt.model;

import dev.odelt.proto.v1.Architecture;
import dev.odelt.proto.v1.PositionLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The hyper-parameters of an ODE_t(ODE_l) transformer (DiT with step-level and block-count
 * conditioning), validated once.
 *
 * <p>Symbols: image H = W = {@code imageSize}, C = {@code channels}, patch p, width D = {@code
 * hiddenSize}, N = (H/p)² tokens, G = {@code groupSize}. A call may run L blocks for L in {@link
 * #allowedBlocks()} = {depth_min, depth_min + G, …, depth}; depth_min need not be a multiple of G
 * (DiT-XL/2: depth 28, depth_min 12, G 8), and of those L blocks only the first {@link
 * #blocksRun(int)} = G·⌊L/G⌋ affect the velocity, so only they run.
 *
 * <p>{@code positionLayout} is the channel order of the fixed 2-D position embedding: {@link
 * PositionLayout#COLUMN_FIRST} is the reference's (and the default of the 11-argument constructor,
 * so new models follow the reference); {@link PositionLayout#ROW_FIRST} is how packages written
 * before the layout was recorded (odelt-mnist 1.0.0) were trained, and {@link #fromProto} reads a
 * manifest without the field that way.
 *
 * <p>Cost: an image costs NFE(solver, S) × {@link #blocksRun(int) blocksRun(L)} × (2 when
 * classifier-free guidance runs both halves, i.e. guidance ∉ {0, 1}) transformer-block evaluations.
 */
public record ModelConfig(
    int imageSize,
    int channels,
    int patchSize,
    int hiddenSize,
    int numHeads,
    float mlpRatio,
    int depth,
    int depthMin,
    int groupSize,
    int numClasses,
    int maxStepLevel,
    PositionLayout positionLayout) {

  /** A configuration with the reference's position layout, {@link PositionLayout#COLUMN_FIRST}. */
  public ModelConfig(
      int imageSize,
      int channels,
      int patchSize,
      int hiddenSize,
      int numHeads,
      float mlpRatio,
      int depth,
      int depthMin,
      int groupSize,
      int numClasses,
      int maxStepLevel) {
    this(
        imageSize,
        channels,
        patchSize,
        hiddenSize,
        numHeads,
        mlpRatio,
        depth,
        depthMin,
        groupSize,
        numClasses,
        maxStepLevel,
        PositionLayout.COLUMN_FIRST);
  }

  /**
   * @throws IllegalArgumentException naming the field when the architecture is inconsistent, or
   *     when {@code positionLayout} is not {@link PositionLayout#ROW_FIRST} or {@link
   *     PositionLayout#COLUMN_FIRST}
   */
  public ModelConfig {
    require(imageSize > 0, "image_size must be positive, got " + imageSize);
    require(channels > 0, "channels must be positive, got " + channels);
    require(patchSize > 0, "patch_size must be positive, got " + patchSize);
    require(
        imageSize % patchSize == 0,
        "image_size " + imageSize + " is not a multiple of patch_size " + patchSize);
    require(hiddenSize > 0 && numHeads > 0, "hidden_size and num_heads must be positive");
    require(
        hiddenSize % numHeads == 0,
        "hidden_size " + hiddenSize + " is not a multiple of num_heads " + numHeads);
    require(hiddenSize % 4 == 0, "hidden_size must be a multiple of 4 (2-D sin-cos positions)");
    require(mlpRatio > 0, "mlp_ratio must be positive, got " + mlpRatio);
    require(groupSize > 0, "group_size must be positive, got " + groupSize);
    require(depth > 0 && depthMin > 0 && depthMin <= depth, "need 0 < depth_min <= depth");
    require(
        (depth - depthMin) % groupSize == 0,
        "depth - depth_min must be a multiple of group_size (" + depth + ", " + depthMin + ")");
    require(numClasses > 0, "num_classes must be positive, got " + numClasses);
    require(maxStepLevel >= 0 && maxStepLevel <= 30, "max_step_level must be in [0, 30]");
    require(
        positionLayout == PositionLayout.ROW_FIRST || positionLayout == PositionLayout.COLUMN_FIRST,
        "position_layout must be ROW_FIRST or COLUMN_FIRST, got " + positionLayout);
  }

  /** This configuration with another position layout. */
  public ModelConfig withPositionLayout(PositionLayout layout) {
    return new ModelConfig(
        imageSize,
        channels,
        patchSize,
        hiddenSize,
        numHeads,
        mlpRatio,
        depth,
        depthMin,
        groupSize,
        numClasses,
        maxStepLevel,
        layout);
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("Invalid model architecture: " + message);
    }
  }

  /**
   * Reads the architecture of a manifest; {@code max_step_level} 0 means the paper's 7, an unset
   * {@code position_layout} means {@link PositionLayout#ROW_FIRST} (manifests written before the
   * field existed were trained that way).
   */
  public static ModelConfig fromProto(Architecture a) {
    return new ModelConfig(
        a.getImageSize(),
        a.getChannels(),
        a.getPatchSize(),
        a.getHiddenSize(),
        a.getNumHeads(),
        a.getMlpRatio() == 0f ? 4f : a.getMlpRatio(),
        a.getDepth(),
        a.getDepthMin(),
        a.getGroupSize(),
        a.getNumClasses(),
        a.getMaxStepLevel() == 0 ? 7 : a.getMaxStepLevel(),
        a.getPositionLayout() == PositionLayout.POSITION_LAYOUT_UNSPECIFIED
            ? PositionLayout.ROW_FIRST
            : a.getPositionLayout());
  }

  /** The manifest form; {@code position_layout} is always written explicitly. */
  public Architecture toProto() {
    return Architecture.newBuilder()
        .setImageSize(imageSize)
        .setChannels(channels)
        .setPatchSize(patchSize)
        .setHiddenSize(hiddenSize)
        .setNumHeads(numHeads)
        .setMlpRatio(mlpRatio)
        .setDepth(depth)
        .setDepthMin(depthMin)
        .setGroupSize(groupSize)
        .setNumClasses(numClasses)
        .setMaxStepLevel(maxStepLevel)
        .setPositionLayout(positionLayout)
        .build();
  }

  /** Tokens per image: N = (H / p)². */
  public int tokens() {
    int side = imageSize / patchSize;
    return side * side;
  }

  public int headDim() {
    return hiddenSize / numHeads;
  }

  public int mlpHidden() {
    return Math.round(hiddenSize * mlpRatio);
  }

  /** Values of C·p·p: the width of one output patch. */
  public int patchValues() {
    return channels * patchSize * patchSize;
  }

  /** The null label used for the unconditional half of classifier-free guidance. */
  public int nullClass() {
    return numClasses;
  }

  /** The block counts a call may run: depth_min, depth_min + G, …, depth. */
  public List<Integer> allowedBlocks() {
    List<Integer> out = new ArrayList<>();
    for (int l = depthMin; l <= depth; l += groupSize) {
      out.add(l);
    }
    return Collections.unmodifiableList(out);
  }

  public boolean isAllowedBlocks(int blocks) {
    return blocks >= depthMin && blocks <= depth && (blocks - depthMin) % groupSize == 0;
  }

  /**
   * The blocks a call with block count L actually evaluates: G·⌊L/G⌋, the end of the last group
   * that ends at or below L. The blocks after it only feed the carried state x_r, never the
   * velocity v_r, so skipping them leaves the output unchanged (L still selects the block-count
   * embedding). Equals L when depth_min is a multiple of G. This is the L of the cost formula.
   *
   * @throws IllegalArgumentException when {@code blocks} is not one of {@link #allowedBlocks()}
   */
  public int blocksRun(int blocks) {
    if (!isAllowedBlocks(blocks)) {
      throw new IllegalArgumentException(
          "blocks=" + blocks + " is not allowed by this model; allowed: " + allowedBlocks());
    }
    return blocks / groupSize * groupSize;
  }
}
