package dev.odelt.model.io;

import ai.djl.ndarray.types.Shape;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.vae.ImageDecoder;
import dev.odelt.model.vae.VaeConfig;
import dev.odelt.proto.v1.Provenance;
import dev.odelt.proto.v1.VaeManifest;
import dev.odelt.proto.v1.VaeSourceFile;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports the decoder of a diffusers AutoencoderKL folder ({@value #CONFIG} + {@value #WEIGHTS},
 * the layout of {@code stabilityai/sd-vae-ft-mse}) into a VAE package ({@link VaePackages}), or of
 * an AutoencoderTiny folder (TAESD, {@code madebyollin/taesd}: {@code _class_name} AutoencoderTiny;
 * its {@code encoder.layers.*} tensors are dropped, its {@code decoder.layers.*} kept).
 *
 * <p>Only {@code decoder.*} and {@code post_quant_conv.*} tensors are kept; {@code encoder.*} and
 * {@code quant_conv.*} are dropped, any other name is an error. The mid-block attention may use
 * either diffusers naming: the newer {@code to_q/to_k/to_v/to_out.0} or the older {@code
 * query/key/value/proj_attn}, whose weights some files store as 1×1 convolutions (C, C, 1, 1); the
 * package always holds the newer names with (C, C) Linear weights, so both namings of the same
 * weights give byte-identical weights files. F16 and BF16 tensors are widened to float32 exactly.
 *
 * <p>Every name and shape is checked against the architecture of {@value #CONFIG} before anything
 * is written: a missing or unparsable config, another architecture, a missing, misshapen, duplicate
 * or unexpected tensor is an {@link InvalidModelPackageException} naming the file and the tensor,
 * and the output stays untouched. The manifest records both source files with their sha256 and
 * holds no time stamp, so importing the same files twice gives the same package.
 */
public final class DiffusersVae {

  /** The diffusers configuration file. */
  public static final String CONFIG = "config.json";

  /** The diffusers weights file. */
  public static final String WEIGHTS = "diffusion_pytorch_model.safetensors";

  /** {@link VaeManifest#getSourceFormat()} of imported AutoencoderKL packages. */
  public static final String SOURCE_FORMAT = "diffusers AutoencoderKL";

  /** {@link VaeManifest#getSourceFormat()} of imported AutoencoderTiny (TAESD) packages. */
  public static final String TINY_SOURCE_FORMAT = "diffusers AutoencoderTiny";

  private static final Logger LOG = LoggerFactory.getLogger(DiffusersVae.class);
  private static final String ATTENTION = "decoder.mid_block.attentions.0.";
  private static final Map<String, String> OLD_ATTENTION_NAMES =
      Map.of("query.", "to_q.", "key.", "to_k.", "value.", "to_v.", "proj_attn.", "to_out.0.");

  private DiffusersVae() {}

  /**
   * A diffusers folder read and checked: the decoder's configuration, its tensors under the
   * package's names (in the decoder's parameter order), and the files they came from.
   */
  public record Imported(
      VaeConfig config, Map<String, Tensor> tensors, List<VaeSourceFile> sources) {
    public Imported {
      tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
      sources = List.copyOf(sources);
    }
  }

  /**
   * Reads and checks a diffusers AutoencoderKL folder without writing anything.
   *
   * @param folder the folder holding {@value #CONFIG} and {@value #WEIGHTS} (any store location)
   * @throws InvalidModelPackageException naming the file (and tensor) for bad input
   * @throws IOException when the store fails
   */
  public static Imported read(String folder) throws IOException {
    String configAt = ObjectStore.resolve(folder, CONFIG);
    String weightsAt = ObjectStore.resolve(folder, WEIGHTS);
    byte[] configBytes =
        ModelPackages.readOrMissing(configAt, "diffusers config (is " + folder + " a VAE folder?)");
    StrictJson.parse(configBytes, configAt);
    VaeConfig config =
        VaeConfig.fromDiffusersJson(new String(configBytes, StandardCharsets.UTF_8), configAt);
    InputLimits.checkVae(configAt, config);
    byte[] weightBytes =
        ModelPackages.readBounded(
            weightsAt,
            "diffusers weights file (only the safetensors format is read)",
            (int) InputLimits.MAX_ELEMENTS);
    SafeTensors file = SafeTensors.readAsFloat32(weightBytes, weightsAt);
    InputLimits.checkFinite(weightsAt, file.tensors());
    Map<String, Shape> expected = ImageDecoder.parameterShapes(config);
    Map<String, Tensor> renamed = new LinkedHashMap<>();
    Map<String, String> origin = new LinkedHashMap<>();
    int dropped = 0;
    for (Map.Entry<String, Tensor> e : file.tensors().entrySet()) {
      String name = e.getKey();
      if (name.startsWith("encoder.") || name.startsWith("quant_conv.")) {
        dropped++;
        continue;
      }
      if (!name.startsWith("decoder.") && !name.startsWith("post_quant_conv.")) {
        throw new InvalidModelPackageException(
            Problem.UNKNOWN_TENSOR,
            weightsAt,
            "tensor '"
                + name
                + "' is not part of an AutoencoderKL (encoder, quant_conv, decoder,"
                + " post_quant_conv)");
      }
      String target = packageName(name);
      Tensor tensor = e.getValue();
      if (!target.equals(name)) {
        tensor = asLinear(tensor, name, expected.get(target), weightsAt);
      }
      String previous = origin.put(target, name);
      if (previous != null) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED,
            weightsAt,
            "tensors '" + previous + "' and '" + name + "' are the same parameter in two namings");
      }
      renamed.put(target, tensor);
    }
    for (String name : renamed.keySet()) {
      if (!expected.containsKey(name)) {
        throw new InvalidModelPackageException(
            Problem.UNKNOWN_TENSOR,
            weightsAt,
            "tensor '"
                + origin.get(name)
                + "' is not a parameter of the decoder that "
                + configAt
                + " describes");
      }
    }
    for (Map.Entry<String, Shape> e : expected.entrySet()) {
      Tensor tensor = renamed.get(e.getKey());
      if (tensor == null) {
        throw new InvalidModelPackageException(
            Problem.MISSING_TENSOR,
            weightsAt,
            "tensor '" + e.getKey() + "' is missing (needed by the decoder of " + configAt + ")");
      }
      if (!Arrays.equals(tensor.shape(), e.getValue().getShape())) {
        throw new InvalidModelPackageException(
            Problem.WRONG_SHAPE,
            weightsAt,
            "tensor '"
                + origin.get(e.getKey())
                + "' has shape "
                + Arrays.toString(tensor.shape())
                + ", the decoder of "
                + configAt
                + " needs "
                + e.getValue());
      }
    }
    Map<String, Tensor> ordered = new LinkedHashMap<>();
    for (String name : expected.keySet()) {
      ordered.put(name, renamed.get(name));
    }
    LOG.info(
        "Read {}: {} decoder tensors, {} encoder tensors dropped",
        weightsAt,
        ordered.size(),
        dropped);
    return new Imported(
        config, ordered, List.of(source(configAt, configBytes), source(weightsAt, weightBytes)));
  }

  /**
   * Imports a diffusers folder into a new VAE package at {@code output} (name: the folder's last
   * path segment, version "1").
   *
   * @see #importFolder(String, String, VaeManifest)
   */
  public static VaeManifest importFolder(String folder, String output) throws IOException {
    String trimmed = folder.replaceAll("/+$", "");
    String name = trimmed.substring(trimmed.lastIndexOf('/') + 1);
    return importFolder(
        folder, output, VaeManifest.newBuilder().setName(name).setVersion("1").build());
  }

  /**
   * Imports a diffusers folder into a new VAE package at {@code output}: checks everything ({@link
   * #read}), then writes {@code weights.safetensors} and {@code manifest.json}.
   *
   * @param template name, version, description and provenance to keep; architecture, weights,
   *     sources and source format are filled in
   * @return the manifest as written
   * @throws InvalidModelPackageException for bad input (nothing written)
   * @throws FileAlreadyExistsException when {@code output} already holds a manifest (nothing
   *     written)
   * @throws IOException when the store fails
   */
  public static VaeManifest importFolder(String folder, String output, VaeManifest template)
      throws IOException {
    String manifestAt = ObjectStore.resolve(output, ModelPackages.MANIFEST);
    if (ObjectStores.forLocation(manifestAt).exists(manifestAt)) {
      throw new FileAlreadyExistsException(
          manifestAt, null, "a package is already there; choose another output or remove it");
    }
    Imported imported = read(folder);
    VaeManifest.Builder manifest =
        template.toBuilder()
            .clearSources()
            .addAllSources(imported.sources())
            .setSourceFormat(imported.config().isTiny() ? TINY_SOURCE_FORMAT : SOURCE_FORMAT);
    if (manifest.getDescription().isEmpty()) {
      manifest.setDescription(
          "The decoder of the diffusers " + imported.config().className() + " in " + folder);
    }
    if (!template.hasProvenance()) {
      manifest.setProvenance(
          Provenance.newBuilder().setRecipe("imported from the diffusers folder " + folder));
    }
    return VaePackages.write(output, manifest.build(), imported.config(), imported.tensors());
  }

  /** The package name of a diffusers tensor name: the older attention names become the newer. */
  static String packageName(String name) {
    if (name.startsWith(ATTENTION)) {
      String local = name.substring(ATTENTION.length());
      for (Map.Entry<String, String> e : OLD_ATTENTION_NAMES.entrySet()) {
        if (local.startsWith(e.getKey())) {
          return ATTENTION + e.getValue() + local.substring(e.getKey().length());
        }
      }
    }
    return name;
  }

  /** An older-named attention tensor as the Linear parameter: (C, C, 1, 1) weights → (C, C). */
  private static Tensor asLinear(Tensor tensor, String name, Shape expected, String file)
      throws InvalidModelPackageException {
    long[] shape = tensor.shape();
    if (expected != null
        && expected.dimension() == 2
        && shape.length == 4
        && shape[0] == expected.get(0)
        && shape[1] == expected.get(1)
        && shape[2] == 1
        && shape[3] == 1) {
      return new Tensor(new long[] {shape[0], shape[1]}, tensor.data());
    }
    if (shape.length == 4) {
      throw new InvalidModelPackageException(
          Problem.WRONG_SHAPE,
          file,
          "tensor '"
              + name
              + "' has shape "
              + Arrays.toString(shape)
              + ", need "
              + expected
              + " (or its 1×1-convolution form)");
    }
    return tensor;
  }

  private static VaeSourceFile source(String location, byte[] bytes) {
    return VaeSourceFile.newBuilder()
        .setFile(location)
        .setSha256(ModelPackages.sha256(bytes))
        .setSizeBytes(bytes.length)
        .build();
  }
}
