package dev.odelt.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.odelt.model.io.ModelPackage;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.sample.NativeHeap;
import dev.odelt.model.vae.LoadedVae;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads model packages onto devices.
 *
 * <p>{@link #shared} keeps one loaded copy per (manifest location, device) per JVM: every thread
 * and every DoFn instance that asks for the same pair gets the same {@link LoadedModel}, loaded
 * once. Devices: {@code auto} (the first GPU when DJL sees one, else the CPU), {@code cpu}, {@code
 * gpu} (= {@code gpu:0}), {@code gpu:N}. Precision: the one asked for, or, when none ({@code
 * null}), the package's recommendation ({@link ModelPackage#recommendedPrecision()}, float32 when
 * it names none).
 */
public final class Models {

  /** The model shipped in the jar. */
  public static final String DEFAULT_MODEL = "classpath:/dev/odelt/models/mnist/manifest.json";

  private static final Logger LOG = LoggerFactory.getLogger(Models.class);
  private static final Map<String, LoadedModel> SHARED = new ConcurrentHashMap<>();

  private Models() {}

  /**
   * The JVM-wide copy of a package on a device, loaded on first use. Its {@code close()} does
   * nothing; see {@link #releaseShared()}.
   *
   * @throws UncheckedIOException wrapping {@link dev.odelt.model.io.InvalidModelPackageException}
   *     for a bad package, or the store's {@link IOException}
   * @throws IllegalArgumentException for an unknown device
   */
  public static LoadedModel shared(String location, String device) {
    return shared(location, device, null);
  }

  /**
   * {@link #shared(String, String)} in a precision ({@code null}: the package's recommendation);
   * each (location, device, precision) has its own copy.
   */
  public static LoadedModel shared(String location, String device, Precision precision) {
    Device resolved = resolveDevice(device);
    String key =
        ModelPackages.manifestLocation(location)
            + "|"
            + resolved
            + "|"
            + (precision == null ? "package" : precision.label());
    return SHARED.computeIfAbsent(
        key,
        k -> {
          try {
            return load(location, resolved, true, -1, precision);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /** A private copy of a package on a device; the caller closes it. */
  public static LoadedModel load(String location, String device) throws IOException {
    return load(location, device, (Precision) null);
  }

  /**
   * A private copy in a precision ({@code null}: the package's recommendation); the caller closes
   * it.
   */
  public static LoadedModel load(String location, String device, Precision precision)
      throws IOException {
    return load(location, resolveDevice(device), false, -1, precision);
  }

  /**
   * A private copy holding only the first {@code maxBlocks} blocks: a worker dedicated to cheap
   * tiers needs less memory. Its sampler and network reject tiers deeper than {@code maxBlocks}
   * with {@link IllegalArgumentException}; the caller closes it.
   *
   * @param maxBlocks one of the model's allowed block counts
   * @throws IllegalArgumentException for a {@code maxBlocks} the model does not allow
   */
  public static LoadedModel load(String location, String device, int maxBlocks) throws IOException {
    return load(location, resolveDevice(device), false, maxBlocks, null);
  }

  /**
   * The network alone, as {@link #load(String, String, int)} but without a latent model's decoder
   * (it is neither required nor loaded): for tools that call the network directly ({@code
   * velocity}, timing). The sampler of a latent model loaded this way refuses to make images.
   */
  public static LoadedModel loadNetwork(String location, String device, int maxBlocks)
      throws IOException {
    return load(location, resolveDevice(device), false, maxBlocks, null, false);
  }

  private static LoadedModel load(
      String location, Device device, boolean shared, int maxBlocks, Precision precision)
      throws IOException {
    return load(location, device, shared, maxBlocks, precision, true);
  }

  private static LoadedModel load(
      String location,
      Device device,
      boolean shared,
      int maxBlocks,
      Precision precision,
      boolean withDecoder)
      throws IOException {
    long start = System.nanoTime();
    ModelPackage pkg = ModelPackages.read(location);
    int blocks = maxBlocks < 0 ? pkg.config().depth() : maxBlocks;
    Precision format = precision == null ? pkg.recommendedPrecision() : precision;
    if (!device.isGpu()) {
      // Before the first call's tensors: see NativeHeap for what the first calls cost otherwise.
      NativeHeap.keepPages();
    }
    LoadedVae vae =
        withDecoder && LatentModels.isLatent(pkg)
            ? LatentModels.load(pkg, device, shared, format)
            : null;
    LoadedModel model;
    try {
      model = LoadedModel.create(pkg, device, shared, blocks, format, vae);
    } catch (RuntimeException e) {
      if (vae != null && !shared) {
        vae.close();
      }
      throw e;
    }
    LOG.info(
        "Loaded model {} {} from {} on {} ({} of {} blocks, {}) in {} ms",
        pkg.manifest().getName(),
        pkg.manifest().getVersion(),
        pkg.location(),
        device,
        blocks,
        pkg.config().depth(),
        format,
        (System.nanoTime() - start) / 1_000_000);
    return model;
  }

  /**
   * Reads and verifies a package as {@link #load} would, without an engine: the manifest (strict
   * JSON, architecture, presets and default tier within {@link dev.odelt.model.io.InputLimits}),
   * the weights (inside the package, size, sha256, names, shapes, finite values) and, for a latent
   * model, its decoder (location, manifest sha256, weights, latent channels). For a job's check
   * before its pipeline starts.
   *
   * @throws dev.odelt.model.io.InvalidModelPackageException naming the file and the problem
   * @throws IOException when the store fails
   */
  public static ModelPackage verify(String location) throws IOException {
    ModelPackage pkg = ModelPackages.read(location);
    if (LatentModels.isLatent(pkg)) {
      LatentModels.verify(pkg);
    }
    return pkg;
  }

  /** Frees every shared model (tests, orderly shutdown). Later calls load again. */
  public static void releaseShared() {
    for (String key : SHARED.keySet()) {
      LoadedModel model = SHARED.remove(key);
      if (model != null) {
        model.release();
      }
    }
  }

  /**
   * Parses a device name: {@code auto}, {@code cpu}, {@code gpu}, {@code gpu:N} (case-insensitive).
   *
   * @throws IllegalArgumentException for other names or a GPU index DJL does not see
   */
  public static Device resolveDevice(String device) {
    String name = device == null ? "auto" : device.trim().toLowerCase(Locale.ROOT);
    int gpus = Engine.getInstance().getGpuCount();
    if (name.equals("auto")) {
      return gpus > 0 ? Device.gpu(0) : Device.cpu();
    }
    if (name.equals("cpu")) {
      return Device.cpu();
    }
    int index;
    if (name.equals("gpu")) {
      index = 0;
    } else if (name.startsWith("gpu:")) {
      try {
        index = Integer.parseInt(name.substring(4));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("Bad device '" + device + "': use gpu:N", e);
      }
    } else {
      throw new IllegalArgumentException(
          "Unknown device '" + device + "': use auto, cpu, gpu or gpu:N");
    }
    if (index < 0 || index >= gpus) {
      throw new IllegalArgumentException(
          "Device '" + device + "' is not available: DJL sees " + gpus + " GPU(s)");
    }
    return Device.gpu(index);
  }
}
