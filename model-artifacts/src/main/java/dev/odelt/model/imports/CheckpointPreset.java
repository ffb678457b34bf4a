package dev.odelt.model.imports;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a released checkpoint of the paper does not record in its tensors (DESIGN.md §5): heads,
 * depth_min, G and latent size, plus the shapes the tree must have, how the authors evaluate it
 * (steps S and guidance weights w of its tier presets) and whether it is unconditional.
 *
 * @param name the {@code --preset} value
 * @param modelName the default package name
 * @param description one line for the manifest
 * @param dataset the training data, for the provenance
 * @param imageSize latent side (256-pixel images through the SD VAE: 32)
 * @param heads attention heads
 * @param depthMin fewest blocks a call may run
 * @param groupSize G
 * @param hiddenSize the width D the tree must have
 * @param depth the block count the tree must have
 * @param numClasses the class count the tree must have (1 for the unconditional CelebA-HQ model)
 * @param unconditional trained and sampled with the null label only
 * @param steps the evaluation's step counts S, ascending
 * @param guidance the evaluation's guidance weights w, ascending
 */
public record CheckpointPreset(
    String name,
    String modelName,
    String description,
    String dataset,
    int imageSize,
    int heads,
    int depthMin,
    int groupSize,
    int hiddenSize,
    int depth,
    int numClasses,
    boolean unconditional,
    List<Integer> steps,
    List<Float> guidance) {

  public CheckpointPreset {
    steps = List.copyOf(steps);
    guidance = List.copyOf(guidance);
  }

  /** The three released files of the paper, by {@code --preset} name. */
  public static final Map<String, CheckpointPreset> RELEASED =
      Map.of(
          "celeba-dit-b",
          new CheckpointPreset(
              "celeba-dit-b",
              "odelt-celeba-hq-dit-b",
              "CelebA-HQ 256 faces, unconditional, DiT-B/2 on SD-VAE latents (the paper's"
                  + " celeba-shortcut-odelt.pkl), L = 4/8/12",
              "CelebA-HQ 256 (Stable Diffusion VAE latents)",
              32,
              12,
              4,
              4,
              768,
              12,
              1,
              true,
              List.of(1, 4, 128),
              List.of(1f)),
          "imagenet-dit-b",
          new CheckpointPreset(
              "imagenet-dit-b",
              "odelt-imagenet-dit-b",
              "ImageNet 256, 1000 classes, DiT-B/2 on SD-VAE latents (the paper's"
                  + " imagenet-shortcut-odelt.pkl), L = 4/8/12",
              "ImageNet 256 (Stable Diffusion VAE latents)",
              32,
              12,
              4,
              4,
              768,
              12,
              1000,
              false,
              List.of(1, 4, 64),
              List.of(1f, 1.5f)),
          "imagenet-dit-xl",
          new CheckpointPreset(
              "imagenet-dit-xl",
              "odelt-imagenet-dit-xl",
              "ImageNet 256, 1000 classes, DiT-XL/2 on SD-VAE latents (the paper's"
                  + " xlimagenet-shortcut-odelt.pkl), L = 12/20/28",
              "ImageNet 256 (Stable Diffusion VAE latents)",
              32,
              16,
              12,
              8,
              1152,
              28,
              1000,
              false,
              List.of(1, 4, 64),
              List.of(1f, 1.5f)));

  /** The preset of a {@code --preset} name, if it is one. */
  public static Optional<CheckpointPreset> byName(String name) {
    return Optional.ofNullable(RELEASED.get(name));
  }

  /** The preset names, sorted, for help texts and error messages. */
  public static List<String> names() {
    return RELEASED.keySet().stream().sorted().toList();
  }
}
