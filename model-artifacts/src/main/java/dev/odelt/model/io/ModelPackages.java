package dev.odelt.model.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.WeightsFile;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes model packages: {@code manifest.json} (a proto3-JSON {@link ModelManifest})
 * beside the weights file it names ({@code weights.safetensors}, float32, PyTorch-style names and
 * layouts, see model-artifacts/README.md).
 *
 * <p>{@link #read} works on any location {@link ObjectStores#forLocation} serves (local paths,
 * {@code file://}, {@code classpath:}, {@code gs://} with its provider) and verifies, in order: the
 * manifest exists and parses with a valid architecture; the weights file exists, has the manifest's
 * size and sha256; the safetensors structure is sound; every tensor the network needs is present
 * with its exact shape and no other tensor is. Each failure is an {@link
 * InvalidModelPackageException} naming the file and the problem.
 */
public final class ModelPackages {

  /** The manifest's file name inside a package directory. */
  public static final String MANIFEST = "manifest.json";

  /** The default weights file name. */
  public static final String WEIGHTS = "weights.safetensors";

  private ModelPackages() {}

  /**
   * The manifest location for a package location: the location itself when it ends in {@code
   * .json}, else {@code <location>/manifest.json}.
   */
  public static String manifestLocation(String location) {
    return location.endsWith(".json") ? location : ObjectStore.resolve(location, MANIFEST);
  }

  /** A file of the package, relative to the manifest's directory. */
  static String sibling(String manifestLocation, String file) {
    int slash = manifestLocation.lastIndexOf('/');
    return slash < 0 ? file : manifestLocation.substring(0, slash + 1) + file;
  }

  /**
   * Reads and verifies a package.
   *
   * @param location the manifest ({@code …/manifest.json}) or the package directory
   * @throws InvalidModelPackageException when the package is missing or invalid
   * @throws IOException when the store fails
   */
  public static ModelPackage read(String location) throws IOException {
    String manifestAt = manifestLocation(location);
    ModelManifest manifest = readManifest(manifestAt);
    ModelConfig config;
    try {
      config = ModelConfig.fromProto(manifest.getArchitecture());
    } catch (IllegalArgumentException e) {
      throw new InvalidModelPackageException(Problem.MALFORMED, manifestAt, e.getMessage(), e);
    }
    WeightsFile weights = manifest.getWeights();
    if (weights.getFile().isEmpty()) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, manifestAt, "weights.file is not set");
    }
    if (!weights.getFormat().isEmpty() && !weights.getFormat().equals("safetensors")) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED,
          manifestAt,
          "weights.format is '" + weights.getFormat() + "', only safetensors is supported");
    }
    if (weights.getSha256().isEmpty()) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, manifestAt, "weights.sha256 is not set");
    }
    if (manifest.getNormalization().getScale() == 0f) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, manifestAt, "normalization.scale is not set (or 0)");
    }

    String weightsAt = sibling(manifestAt, weights.getFile());
    byte[] bytes = readOrMissing(weightsAt, "weights file named by " + manifestAt);
    if (weights.getSizeBytes() > 0 && bytes.length != weights.getSizeBytes()) {
      throw new InvalidModelPackageException(
          bytes.length < weights.getSizeBytes() ? Problem.TRUNCATED : Problem.CHECKSUM_MISMATCH,
          weightsAt,
          "has " + bytes.length + " bytes, the manifest says " + weights.getSizeBytes());
    }
    String actual = sha256(bytes);
    if (!actual.equalsIgnoreCase(weights.getSha256())) {
      throw new InvalidModelPackageException(
          Problem.CHECKSUM_MISMATCH,
          weightsAt,
          "sha256 is " + actual + ", the manifest says " + weights.getSha256());
    }
    SafeTensors file = SafeTensors.read(bytes, weightsAt);
    if (!file.int64Tensors().isEmpty()) {
      String name = file.int64Tensors().keySet().iterator().next();
      throw new InvalidModelPackageException(
          Problem.MALFORMED, weightsAt, "tensor '" + name + "' has dtype I64; weights are F32");
    }
    verifyTensors(file.tensors(), new OdeltNetwork(config).parameterShapes(), weightsAt);
    return new ModelPackage(manifestAt, manifest, config, file.tensors());
  }

  /** Reads and parses a manifest without touching the weights. */
  public static ModelManifest readManifest(String location) throws IOException {
    String manifestAt = manifestLocation(location);
    byte[] json = readOrMissing(manifestAt, "model manifest");
    ModelManifest.Builder builder = ModelManifest.newBuilder();
    try {
      JsonFormat.parser().merge(new String(json, StandardCharsets.UTF_8), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, manifestAt, "not a valid ModelManifest: " + e.getMessage(), e);
    }
    return builder.build();
  }

  private static byte[] readOrMissing(String location, String what) throws IOException {
    try {
      return ObjectStores.forLocation(location).readAllBytes(location);
    } catch (FileNotFoundException | NoSuchFileException e) {
      throw new InvalidModelPackageException(
          Problem.MISSING, location, what + " does not exist", e);
    }
  }

  /**
   * Checks tensor names and shapes against the network's parameters.
   *
   * @throws InvalidModelPackageException {@link Problem#UNKNOWN_TENSOR}, {@link
   *     Problem#MISSING_TENSOR} or {@link Problem#WRONG_SHAPE}, naming the tensor
   */
  static void verifyTensors(Map<String, Tensor> tensors, Map<String, Shape> expected, String file)
      throws InvalidModelPackageException {
    for (String name : tensors.keySet()) {
      if (!expected.containsKey(name)) {
        throw new InvalidModelPackageException(
            Problem.UNKNOWN_TENSOR,
            file,
            "tensor '" + name + "' is not a parameter of the manifest's architecture");
      }
    }
    for (Map.Entry<String, Shape> e : expected.entrySet()) {
      Tensor tensor = tensors.get(e.getKey());
      if (tensor == null) {
        throw new InvalidModelPackageException(
            Problem.MISSING_TENSOR, file, "tensor '" + e.getKey() + "' is missing");
      }
      if (!Arrays.equals(tensor.shape(), e.getValue().getShape())) {
        throw new InvalidModelPackageException(
            Problem.WRONG_SHAPE,
            file,
            "tensor '"
                + e.getKey()
                + "' has shape "
                + Arrays.toString(tensor.shape())
                + ", the architecture needs "
                + e.getValue());
      }
    }
  }

  /**
   * Writes a package of a network into a local directory: {@code weights.safetensors} (every
   * parameter, in {@link OdeltNetwork#namedParameters()} order) and {@code manifest.json} with
   * {@code architecture} and {@code weights} (file, sha256, size, format) filled in.
   *
   * @return the manifest as written
   */
  public static ModelManifest write(Path dir, ModelManifest manifest, OdeltNetwork network)
      throws IOException {
    return write(dir.toString(), manifest, network);
  }

  /** As {@link #write(Path, ModelManifest, OdeltNetwork)}, to any writable store location. */
  public static ModelManifest write(String dir, ModelManifest manifest, OdeltNetwork network)
      throws IOException {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : network.namedParameters().entrySet()) {
      NDArray array = e.getValue().getArray();
      if (array == null) {
        throw new IllegalStateException("parameter " + e.getKey() + " is not set");
      }
      tensors.put(e.getKey(), new Tensor(array.getShape().getShape(), array.toFloatArray()));
    }
    ModelManifest withArchitecture =
        manifest.toBuilder().setArchitecture(network.config().toProto()).build();
    return write(dir, withArchitecture, tensors);
  }

  /** Writes a package from tensors; the caller's manifest must hold the architecture. */
  public static ModelManifest write(String dir, ModelManifest manifest, Map<String, Tensor> tensors)
      throws IOException {
    byte[] weights = SafeTensors.write(tensors, Map.of("format", "pt"));
    String file =
        manifest.getWeights().getFile().isEmpty() ? WEIGHTS : manifest.getWeights().getFile();
    ModelManifest complete =
        manifest.toBuilder()
            .setWeights(
                WeightsFile.newBuilder()
                    .setFile(file)
                    .setFormat("safetensors")
                    .setSha256(sha256(weights))
                    .setSizeBytes(weights.length))
            .build();
    String manifestAt = ObjectStore.resolve(dir, MANIFEST);
    ObjectStore store = ObjectStores.forLocation(manifestAt);
    store.write(sibling(manifestAt, file), weights, "application/octet-stream", Map.of());
    store.write(
        manifestAt,
        JsonFormat.printer().print(complete).getBytes(StandardCharsets.UTF_8),
        "application/json",
        Map.of());
    return complete;
  }

  /** The location of the manifest {@link #write} produces in a local directory. */
  public static String manifestIn(Path dir) {
    return dir.resolve(MANIFEST).toString();
  }

  /** Lowercase hex sha256. */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
  }
}
