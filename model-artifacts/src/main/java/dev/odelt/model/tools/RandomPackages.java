package dev.odelt.model.tools;

import ai.djl.ndarray.types.Shape;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.Normalization;
import dev.odelt.proto.v1.PositionLayout;
import dev.odelt.proto.v1.Provenance;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.proto.v1.WeightsFile;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Writes model packages of the paper's shapes with random weights, so that tiers at paper scale
 * can be timed without the released checkpoints: DiT-B/2 (D 768, depth 12, 12 heads, depth_min 4,
 * G 4: L ∈ {4, 8, 12}) or DiT-XL/2 (D 1152, depth 28, 16 heads, depth_min 12, G 8: L ∈ {12, 20,
 * 28}), both on 32×32×4 latents with patch 2, MLP ratio 4, step levels 0..7 and the reference's
 * column-first position layout. The images such a package makes are noise: it is for timing only.
 *
 * <p>Guarantees: the package passes {@link ModelPackages#read} (DiT-B/2 is ~0.5 GB, DiT-XL/2 ~2.7
 * GB); the weights
 * are a pure function of (shape, classes, seed) — {@link OdeltNetwork#initialValues} with {@link
 * OdeltNetwork.Init#RANDOM} — and are streamed tensor by tensor, so writing needs memory for one
 * tensor, not for the model. Normalization space is {@code latent} (no decoder is named; scale
 * 0.5, shift 0.5 map a decoder's [−1, 1] output to pixels). One class means an unconditional
 * model ({@code unconditional: true}).
 *
 * <p>Command line (the job jar wires it as {@code random-package}): {@code RandomPackages
 * --shape=dit-b-2|dit-xl-2 --output=DIR [--seed=0] [--classes=1000]}; prints the manifest's
 * location. Bad flags: {@link IllegalArgumentException} naming the flag, nothing written.
 */
public final class RandomPackages {

  /** The paper's network shapes. */
  public enum PaperShape {
    /** DiT-B/2: the CelebA-HQ and ImageNet 256 checkpoints. */
    DIT_B_2("dit-b-2", 768, 12, 12, 4, 4),
    /** DiT-XL/2: the ImageNet 256 XL checkpoint. */
    DIT_XL_2("dit-xl-2", 1152, 28, 16, 12, 8);

    private final String flag;
    private final int hiddenSize;
    private final int depth;
    private final int numHeads;
    private final int depthMin;
    private final int groupSize;

    PaperShape(String flag, int hiddenSize, int depth, int numHeads, int depthMin, int groupSize) {
      this.flag = flag;
      this.hiddenSize = hiddenSize;
      this.depth = depth;
      this.numHeads = numHeads;
      this.depthMin = depthMin;
      this.groupSize = groupSize;
    }

    /** The name used on command lines: {@code dit-b-2} or {@code dit-xl-2}. */
    public String flag() {
      return flag;
    }

    /**
     * The architecture with {@code classes} classes: 32×32×4 latents, patch 2, MLP ratio 4, max
     * step level 7, column-first positions.
     */
    public ModelConfig config(int classes) {
      return new ModelConfig(
          32, 4, 2, hiddenSize, numHeads, 4f, depth, depthMin, groupSize, classes, 7,
          PositionLayout.COLUMN_FIRST);
    }

    /**
     * The shape named {@code flag} (case-insensitive).
     *
     * @throws IllegalArgumentException naming {@code --shape} and the choices
     */
    public static PaperShape parse(String flag) {
      for (PaperShape s : values()) {
        if (s.flag.equalsIgnoreCase(flag.trim())) {
          return s;
        }
      }
      throw new IllegalArgumentException(
          "--shape must be dit-b-2 or dit-xl-2, got '" + flag + "'");
    }
  }

  private RandomPackages() {}

  /**
   * Writes a random package of {@code shape} into {@code dir} (created if needed): {@code
   * weights.safetensors} and {@code manifest.json}.
   *
   * @param classes number of classes K ≥ 1 (1000 as ImageNet; 1 is an unconditional model)
   * @return the manifest as written
   * @throws IllegalArgumentException when {@code classes} &lt; 1
   */
  public static ModelManifest write(Path dir, PaperShape shape, long seed, int classes)
      throws IOException {
    if (classes < 1) {
      throw new IllegalArgumentException("--classes must be at least 1, got " + classes);
    }
    return write(dir, shape, shape.config(classes), seed);
  }

  /** {@link #write(Path, PaperShape, long, int)} with any architecture (tests use tiny ones). */
  static ModelManifest write(Path dir, PaperShape shape, ModelConfig config, long seed)
      throws IOException {
    Files.createDirectories(dir);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    new OdeltNetwork(config).parameterShapes().forEach((n, s) -> shapes.put(n, s.getShape()));
    MessageDigest sha256;
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
    long size;
    Path weights = dir.resolve(ModelPackages.WEIGHTS);
    try (OutputStream out =
        new DigestOutputStream(
            new BufferedOutputStream(Files.newOutputStream(weights), 1 << 20), sha256)) {
      size =
          SafeTensors.write(
              out,
              shapes,
              Map.of("format", "pt"),
              (name, s) ->
                  OdeltNetwork.initialValues(name, new Shape(s), seed, OdeltNetwork.Init.RANDOM));
    }
    ModelManifest manifest =
        manifest(shape, config, seed).toBuilder()
            .setWeights(
                WeightsFile.newBuilder()
                    .setFile(ModelPackages.WEIGHTS)
                    .setFormat("safetensors")
                    .setSha256(HexFormat.of().formatHex(sha256.digest()))
                    .setSizeBytes(size))
            .build();
    Files.writeString(
        dir.resolve(ModelPackages.MANIFEST),
        JsonFormat.printer().print(manifest),
        StandardCharsets.UTF_8);
    return manifest;
  }

  /** The manifest of {@link #write} before its weights entry is filled in. */
  static ModelManifest manifest(PaperShape shape, ModelConfig config, long seed) {
    int k = config.numClasses();
    ModelManifest.Builder b =
        ModelManifest.newBuilder()
            .setName("random-" + shape.flag())
            .setVersion("seed-" + seed)
            .setDescription(
                "Random weights in the shape of the paper's "
                    + shape.flag()
                    + " ("
                    + k
                    + (k == 1 ? " class" : " classes")
                    + "): for timing tiers at paper scale; generates noise.")
            .setArchitecture(config.toProto())
            .setNormalization(
                Normalization.newBuilder().setSpace("latent").setScale(0.5f).setShift(0.5f))
            .setProvenance(
                Provenance.newBuilder()
                    .setRecipe(
                        String.format(
                            Locale.ROOT,
                            "RandomPackages --shape=%s --seed=%d --classes=%d",
                            shape.flag(),
                            seed,
                            k))
                    .setCreated(Instant.now().toString())
                    .setTrainedBy("not trained: dev.odelt.model.tools.RandomPackages")
                    .setLicense("CC0-1.0"))
            .setUnconditional(k == 1)
            .setDefaultTier("standard");
    for (int i = 0; i < k; i++) {
      b.addClasses(ClassLabel.newBuilder().setId(i).setLabel(Integer.toString(i)));
    }
    // The paper's evaluation settings: S ∈ {1, 4, 64/128}; guidance only with classes.
    int depth = config.depth();
    b.addTiers(preset("draft", Tier.of(1, config.depthMin())));
    b.addTiers(preset("standard", Tier.of(4, depth)));
    Tier premium = k == 1 ? Tier.of(128, depth) : Tier.of(64, depth).withGuidance(1.5f);
    b.addTiers(preset("premium", premium));
    return b.build();
  }

  private static TierPreset preset(String name, Tier tier) {
    return TierPreset.newBuilder().setName(name).setTier(tier.toProto()).build();
  }

  /**
   * {@code --shape=dit-b-2|dit-xl-2 --output=DIR [--seed=0] [--classes=1000]}.
   *
   * @throws IllegalArgumentException for a missing, unknown or malformed flag (naming it)
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> a = new LinkedHashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("Expected --name=value, got '" + arg + "'");
      }
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    String shape = a.remove("shape");
    String output = a.remove("output");
    if (shape == null || output == null || output.isEmpty()) {
      throw new IllegalArgumentException(
          "usage: RandomPackages --shape=dit-b-2|dit-xl-2 --output=DIR [--seed=0]"
              + " [--classes=1000]");
    }
    PaperShape parsed = PaperShape.parse(shape);
    long seed = parse(a.remove("seed"), "--seed", 0);
    long classes = parse(a.remove("classes"), "--classes", 1000);
    if (classes < 1 || classes > 1_000_000) {
      throw new IllegalArgumentException("--classes must be in [1, 1000000], got " + classes);
    }
    if (!a.isEmpty()) {
      throw new IllegalArgumentException("Unknown option(s) " + a.keySet());
    }
    write(Path.of(output), parsed, seed, (int) classes);
    System.out.println(Path.of(output).resolve(ModelPackages.MANIFEST));
  }

  private static long parse(String value, String flag, long dflt) {
    if (value == null) {
      return dflt;
    }
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be an integer, got '" + value + "'", e);
    }
  }
}
