package dev.odelt.model;

import dev.odelt.proto.v1.Architecture;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The hyper-parameters of an ODE_t(ODE_l) transformer (DiT with step-level and block-count
 * conditioning), validated once.
 *
 * <p>Symbols: image H = W = {@code imageSize}, C = {@code channels}, patch p, width D = {@code
 * hiddenSize}, N = (H/p)² tokens, G = {@code groupSize}. A call may run L blocks for L in {@link
 * #allowedBlocks()} = {depth_min, depth_min + G, …, depth}.
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
    int maxStepLevel) {

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
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("Invalid model architecture: " + message);
    }
  }

  /** Reads the architecture of a manifest; {@code max_step_level} 0 means the paper's 7. */
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
        a.getMaxStepLevel() == 0 ? 7 : a.getMaxStepLevel());
  }

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
}
