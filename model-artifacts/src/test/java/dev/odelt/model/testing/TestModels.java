package dev.odelt.model.testing;

import ai.djl.ndarray.NDManager;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Normalization;
import dev.odelt.proto.v1.Provenance;
import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.TierPreset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Tiny random model packages for tests. The weights are random (every parameter non-zero), so
 * images are noise-like but fully deterministic for a (config, seed).
 */
public final class TestModels {

  /** 8×8 RGB, patch 4, width 32, 2 heads, 4 blocks in groups of 2 (L ∈ {2, 4}), 10 classes. */
  public static final ModelConfig TINY = new ModelConfig(8, 3, 4, 32, 2, 2f, 4, 2, 2, 10, 7);

  private static final String[][] SYNONYMS = {
    {"zero", "nought"}, {"one"}, {"two"}, {"three"}, {"four"},
    {"five"}, {"six"}, {"seven", "sept"}, {"eight"}, {"nine"}
  };

  private TestModels() {}

  /**
   * Writes a random package into {@code dir}: classes "0".."K-1" (K = num_classes; the first ten
   * with English synonyms such as "seven"), presets draft (Euler, S=2, L=depth_min), standard
   * (Euler, S=4, L=depth, the default) and premium (Heun, S=8, L=depth, guidance 1.5), pixel
   * normalisation x·0.5 + 0.5.
   *
   * @return the location of the package's manifest.json
   */
  public static String writeRandomPackage(Path dir, ModelConfig config, long seed) {
    try (NDManager manager = NDManager.newBaseManager()) {
      OdeltNetwork network = new OdeltNetwork(config);
      network.initialize(manager, seed, OdeltNetwork.Init.RANDOM);
      ModelPackages.write(dir, manifest(config, seed), network);
      return ModelPackages.manifestIn(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes a random latent model into {@code dir} with a random VAE decoder bundled in {@code
   * dir/vae/} (named by the manifest's decoder with its manifest's sha256): normalization space
   * "latent"; otherwise as {@link #writeRandomPackage}.
   *
   * @param config the network; its channels must be the decoder's latent channels
   * @return the location of the model's manifest.json
   */
  public static String writeRandomLatentPackage(
      Path dir, ModelConfig config, long seed, dev.odelt.model.vae.VaeConfig vae) {
    try (NDManager manager = NDManager.newBaseManager()) {
      String vaeManifest = TestVaes.writeRandomPackage(dir.resolve("vae"), vae, seed + 1);
      String sha256 =
          ModelPackages.sha256(java.nio.file.Files.readAllBytes(Path.of(vaeManifest)));
      OdeltNetwork network = new OdeltNetwork(config);
      network.initialize(manager, seed, OdeltNetwork.Init.RANDOM);
      ModelManifest manifest =
          manifest(config, seed).toBuilder()
              .setName("test-random-latent")
              .setNormalization(Normalization.newBuilder().setSpace("latent").setScale(1f))
              .setDecoder(
                  dev.odelt.proto.v1.DecoderRef.newBuilder()
                      .setLocation("vae/")
                      .setSha256(sha256))
              .build();
      ModelPackages.write(dir, manifest, network);
      return ModelPackages.manifestIn(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@link #TINY} with one class: the shape of an unconditional model (null label only). */
  public static final ModelConfig TINY_UNCONDITIONAL =
      new ModelConfig(8, 3, 4, 32, 2, 2f, 4, 2, 2, 1, 7);

  /**
   * Writes a random unconditional package ({@link #TINY_UNCONDITIONAL}, {@code unconditional:
   * true}, no class table) into {@code dir}: presets draft (S=2, L=depth_min) and standard (S=4,
   * L=depth, the default), no guidance.
   *
   * @return the location of the package's manifest.json
   */
  public static String writeUnconditionalPackage(Path dir, long seed) {
    ModelConfig config = TINY_UNCONDITIONAL;
    ModelManifest manifest =
        manifest(config, seed).toBuilder()
            .setName("test-unconditional")
            .setUnconditional(true)
            .clearClasses()
            .clearTiers()
            .addTiers(preset("draft", Tier.of(2, config.depthMin()), "fastest"))
            .addTiers(preset("standard", Tier.of(4, config.depth()), "balanced"))
            .build();
    try (NDManager manager = NDManager.newBaseManager()) {
      OdeltNetwork network = new OdeltNetwork(config);
      network.initialize(manager, seed, OdeltNetwork.Init.RANDOM);
      ModelPackages.write(dir, manifest, network);
      return ModelPackages.manifestIn(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The manifest {@link #writeRandomPackage} writes, before weights are filled in. */
  public static ModelManifest manifest(ModelConfig config, long seed) {
    ModelManifest.Builder b =
        ModelManifest.newBuilder()
            .setName("test-random")
            .setVersion("seed-" + seed)
            .setDescription("Random weights for tests; generates noise-like images.")
            .setArchitecture(config.toProto())
            .setNormalization(
                Normalization.newBuilder().setSpace("pixel").setScale(0.5f).setShift(0.5f))
            .setProvenance(
                Provenance.newBuilder()
                    .setRecipe("TestModels.writeRandomPackage(seed=" + seed + ")")
                    .setLicense("CC0-1.0"))
            .setDefaultTier("standard");
    for (int k = 0; k < config.numClasses(); k++) {
      ClassLabel.Builder label = ClassLabel.newBuilder().setId(k).setLabel(Integer.toString(k));
      if (k < SYNONYMS.length) {
        label.addAllSynonyms(List.of(SYNONYMS[k]));
      }
      b.addClasses(label);
    }
    b.addTiers(preset("draft", Tier.of(2, config.depthMin()), "fastest"));
    b.addTiers(preset("standard", Tier.of(4, config.depth()), "balanced"));
    b.addTiers(
        preset(
            "premium",
            Tier.of(8, config.depth()).withSolver(Solver.HEUN).withGuidance(1.5f),
            "best quality"));
    return b.build();
  }

  private static TierPreset preset(String name, Tier tier, String description) {
    return TierPreset.newBuilder()
        .setName(name)
        .setTier(tier.toProto())
        .setDescription(description)
        .build();
  }
}
