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
import java.io.BufferedOutputStream;
import java.io.FileNotFoundException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.DigestOutputStream;
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
 * InvalidModelPackageException} naming the file and the problem. The weights are streamed, so a
 * package may exceed 2 GiB (a DiT-XL/2 package is about 2.7 GB); memory is the tensors themselves.
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
    InputLimits.checkManifest(manifestAt, manifest, config);
    if (manifest.getNormalization().getScale() == 0f) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, manifestAt, "normalization.scale is not set (or 0)");
    }
    try {
      ModelPackage.recommendedPrecision(manifest);
    } catch (IllegalArgumentException e) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, manifestAt, "precision: " + e.getMessage(), e);
    }
    String weightsAt = sibling(manifestAt, manifest.getWeights().getFile());
    SafeTensors file = readWeights(manifestAt, manifest.getWeights());
    if (!file.int64Tensors().isEmpty()) {
      String name = file.int64Tensors().keySet().iterator().next();
      throw new InvalidModelPackageException(
          Problem.MALFORMED, weightsAt, "tensor '" + name + "' has dtype I64; weights are F32");
    }
    verifyTensors(file.tensors(), new OdeltNetwork(config).parameterShapes(), weightsAt);
    InputLimits.checkFinite(weightsAt, file.tensors());
    return new ModelPackage(manifestAt, manifest, config, file.tensors());
  }

  /**
   * Reads and checks the weights file a manifest names: format, existence, size, sha256 and the
   * safetensors structure (not the tensor names, which depend on the architecture).
   *
   * <p>The file is streamed once, of any size ({@link SafeTensors#read(InputStream, String,
   * long)}): tensors are read straight into their arrays while the bytes are counted and hashed, so
   * memory is the tensors plus a small buffer. Problems are reported as if the size and sha256 were
   * checked first: a file that differs from the manifest's is {@link Problem#TRUNCATED} or {@link
   * Problem#CHECKSUM_MISMATCH} whatever its structure, and a structural problem of the manifest's
   * own file is reported after the whole file was hashed.
   *
   * @param manifestAt the manifest's location; the file is resolved beside it
   */
  static SafeTensors readWeights(String manifestAt, WeightsFile weights) throws IOException {
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

    InputLimits.checkPackageRelative(manifestAt, "weights.file", weights.getFile());
    String weightsAt = sibling(manifestAt, weights.getFile());
    InputLimits.checkRegularFile(weightsAt, "weights file named by " + manifestAt);
    long declared = weights.getSizeBytes() > 0 ? weights.getSizeBytes() : -1;
    long local = InputLimits.localSize(weightsAt);
    if (declared < 0) {
      declared = local;
    }
    MessageDigest digest = newSha256();
    SafeTensors file = null;
    InvalidModelPackageException invalid = null;
    long size;
    try (HashingInputStream in =
        new HashingInputStream(
            ObjectStores.forLocation(weightsAt).open(weightsAt),
            digest,
            declared >= 0 ? declared + 1 : Long.MAX_VALUE)) {
      try {
        file = SafeTensors.read(in, weightsAt, declared);
      } catch (InvalidModelPackageException e) {
        // Reported only when the bytes are those the manifest names (checked below): a file
        // damaged on the way is a size or checksum problem, not a malformed package.
        invalid = e;
      }
      size = in.drain();
    } catch (FileNotFoundException | NoSuchFileException e) {
      throw new InvalidModelPackageException(
          Problem.MISSING, weightsAt, "weights file named by " + manifestAt + " does not exist", e);
    }
    if (declared >= 0 && size > declared) {
      throw new InvalidModelPackageException(
          Problem.CHECKSUM_MISMATCH,
          weightsAt,
          "has more than the " + declared + " bytes the manifest says");
    }
    if (declared >= 0 && size != declared) {
      throw new InvalidModelPackageException(
          size < declared ? Problem.TRUNCATED : Problem.CHECKSUM_MISMATCH,
          weightsAt,
          "has " + size + " bytes, the manifest says " + declared);
    }
    String actual = HexFormat.of().formatHex(digest.digest());
    if (!actual.equalsIgnoreCase(weights.getSha256())) {
      throw new InvalidModelPackageException(
          Problem.CHECKSUM_MISMATCH,
          weightsAt,
          "sha256 is " + actual + ", the manifest says " + weights.getSha256());
    }
    if (invalid != null) {
      throw invalid;
    }
    return file;
  }

  /**
   * Passes a stream through while feeding every byte read into a digest and counting them; {@link
   * #skip} reads (and hashes) the bytes it skips.
   */
  private static final class HashingInputStream extends FilterInputStream {
    private final MessageDigest digest;
    private final long limit;
    private long count;

    /** Reads at most {@code limit} bytes: a file longer than its manifest says is not read on. */
    HashingInputStream(InputStream in, MessageDigest digest, long limit) {
      super(in);
      this.digest = digest;
      this.limit = limit;
    }

    @Override
    public int read() throws IOException {
      if (count >= limit) {
        return -1;
      }
      int b = in.read();
      if (b >= 0) {
        digest.update((byte) b);
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (count >= limit) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, limit - count));
      if (n > 0) {
        digest.update(b, off, n);
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      byte[] buffer = new byte[(int) Math.min(Math.max(n, 0), 1 << 16)];
      long skipped = 0;
      while (skipped < n) {
        int got = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
        if (got < 0) {
          break;
        }
        skipped += got;
      }
      return skipped;
    }

    @Override
    public boolean markSupported() {
      return false;
    }

    /** Reads (and hashes) to the end; returns the number of bytes read in all. */
    long drain() throws IOException {
      byte[] buffer = new byte[1 << 20];
      while (read(buffer, 0, buffer.length) >= 0) {
        // hashed by read
      }
      return count;
    }
  }

  /** Reads and parses a manifest without touching the weights. */
  public static ModelManifest readManifest(String location) throws IOException {
    String manifestAt = manifestLocation(location);
    byte[] json = readOrMissing(manifestAt, "model manifest");
    StrictJson.parse(json, manifestAt);
    ModelManifest.Builder builder = ModelManifest.newBuilder();
    try {
      JsonFormat.parser().merge(new String(json, StandardCharsets.UTF_8), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, manifestAt, "not a valid ModelManifest: " + e.getMessage(), e);
    }
    return builder.build();
  }

  /**
   * Reads a small JSON file of a package (a manifest): only a regular file (or a store object), at
   * most {@link InputLimits#MAX_JSON_BYTES} bytes.
   *
   * @throws InvalidModelPackageException when it is missing, not a regular file, or too large
   */
  public static byte[] readOrMissing(String location, String what) throws IOException {
    return readBounded(location, what, InputLimits.MAX_JSON_BYTES);
  }

  /**
   * Reads a whole file from outside: only a regular file (or a store object), at most {@code limit}
   * bytes (checked against a local file's size before reading, and while reading).
   *
   * @throws InvalidModelPackageException when it is missing, not a regular file, or too large
   */
  public static byte[] readBounded(String location, String what, int limit) throws IOException {
    InputLimits.checkRegularFile(location, what);
    long size = InputLimits.localSize(location);
    if (size > limit) {
      throw new InvalidModelPackageException(
          Problem.MALFORMED, location, what + " has " + size + " bytes, the limit is " + limit);
    }
    try {
      byte[] bytes;
      try (InputStream in = ObjectStores.forLocation(location).open(location)) {
        bytes = in.readNBytes(limit + 1);
      }
      if (bytes.length > limit) {
        throw new InvalidModelPackageException(
            Problem.MALFORMED, location, what + " has more than the limit of " + limit + " bytes");
      }
      return bytes;
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
    String manifestAt = ObjectStore.resolve(dir, MANIFEST);
    ModelManifest complete =
        manifest.toBuilder()
            .setWeights(writeWeights(manifestAt, manifest.getWeights().getFile(), tensors))
            .build();
    writeManifest(manifestAt, JsonFormat.printer().print(complete));
    return complete;
  }

  /**
   * Writes a package into a local directory with the weights streamed one tensor at a time (no 2
   * GiB limit; memory of one tensor): {@code weights.safetensors} holding the tensors of {@code
   * shapes} in that order, then {@code manifest.json} with {@code weights} (file, sha256, size,
   * format) filled in. The bytes equal what {@link #write(String, ModelManifest, Map)} writes for
   * the same tensors.
   *
   * @param manifest must hold the architecture; {@code shapes} must be exactly its parameters
   * @throws IllegalArgumentException when the shapes are not the architecture's parameters
   * @return the manifest as written
   */
  public static ModelManifest write(
      Path dir, ModelManifest manifest, Map<String, long[]> shapes, SafeTensors.TensorValues values)
      throws IOException {
    Map<String, Shape> expected =
        new OdeltNetwork(ModelConfig.fromProto(manifest.getArchitecture())).parameterShapes();
    if (!expected.keySet().equals(shapes.keySet())) {
      throw new IllegalArgumentException(
          "tensors " + shapes.keySet() + " are not the architecture's parameters");
    }
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      if (!Arrays.equals(expected.get(e.getKey()).getShape(), e.getValue())) {
        throw new IllegalArgumentException(
            "tensor '"
                + e.getKey()
                + "' has shape "
                + Arrays.toString(e.getValue())
                + ", the architecture needs "
                + expected.get(e.getKey()));
      }
    }
    String file =
        manifest.getWeights().getFile().isEmpty() ? WEIGHTS : manifest.getWeights().getFile();
    Files.createDirectories(dir);
    MessageDigest digest = newSha256();
    long size;
    try (OutputStream out =
        new DigestOutputStream(
            new BufferedOutputStream(Files.newOutputStream(dir.resolve(file)), 1 << 20), digest)) {
      size = SafeTensors.write(out, shapes, Map.of("format", "pt"), values);
    }
    ModelManifest complete =
        manifest.toBuilder()
            .setWeights(
                WeightsFile.newBuilder()
                    .setFile(file)
                    .setFormat("safetensors")
                    .setSha256(HexFormat.of().formatHex(digest.digest()))
                    .setSizeBytes(size))
            .build();
    Files.writeString(
        dir.resolve(MANIFEST), JsonFormat.printer().print(complete), StandardCharsets.UTF_8);
    return complete;
  }

  /**
   * Writes tensors as a safetensors file beside a manifest (atomically, replacing any previous one)
   * and describes it.
   *
   * @param file the file name; empty means {@value #WEIGHTS}
   */
  static WeightsFile writeWeights(String manifestAt, String file, Map<String, Tensor> tensors)
      throws IOException {
    byte[] weights = SafeTensors.write(tensors, Map.of("format", "pt"));
    String name = file.isEmpty() ? WEIGHTS : file;
    ObjectStores.forLocation(manifestAt)
        .write(sibling(manifestAt, name), weights, "application/octet-stream", Map.of());
    return WeightsFile.newBuilder()
        .setFile(name)
        .setFormat("safetensors")
        .setSha256(sha256(weights))
        .setSizeBytes(weights.length)
        .build();
  }

  /** Writes a manifest's JSON text atomically. */
  static void writeManifest(String manifestAt, String json) throws IOException {
    ObjectStores.forLocation(manifestAt)
        .write(manifestAt, json.getBytes(StandardCharsets.UTF_8), "application/json", Map.of());
  }

  /** The location of the manifest {@link #write} produces in a local directory. */
  public static String manifestIn(Path dir) {
    return dir.resolve(MANIFEST).toString();
  }

  /** Lowercase hex sha256. */
  public static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(newSha256().digest(bytes));
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java platform", e);
    }
  }
}
