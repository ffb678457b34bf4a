package dev.odelt.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.odelt.model.io.ModelPackage;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.sample.Sampler;
import dev.odelt.model.vae.LoadedVae;
import dev.odelt.proto.v1.ModelManifest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A model package loaded onto one device: manifest, network with its weights, and a thread-safe
 * {@link Sampler}. The weights never require gradients.
 *
 * <p>Closing frees the device memory. Instances from {@link Models#shared} belong to the JVM-wide
 * cache and ignore {@link #close()} (other threads may be using them); instances from {@link
 * Models#load} belong to the caller.
 */
public final class LoadedModel implements AutoCloseable {

  private final String location;
  private final ModelManifest manifest;
  private final ModelConfig config;
  private final NDManager manager;
  private final OdeltNetwork network;
  private final Sampler sampler;
  private final boolean shared;
  private final LoadedVae vae;

  private LoadedModel(
      String location,
      ModelManifest manifest,
      ModelConfig config,
      NDManager manager,
      OdeltNetwork network,
      boolean shared,
      LoadedVae vae) {
    this.location = location;
    this.manifest = manifest;
    this.config = config;
    this.manager = manager;
    this.network = network;
    this.sampler =
        vae == null
            ? new Sampler(network, manager, manifest.getNormalization())
            : new Sampler(
                network,
                manager,
                LatentModels.decoder(vae),
                defaultDecodeBatch(manager.getDevice()));
    this.shared = shared;
    this.vae = vae;
  }

  /**
   * Images per decoder call: one on a CPU, where a bigger call is no faster per image and holds
   * more memory (a 256×256 SD decode, one thread: 3.47 s per image at batch 1 with 1.08 GB peak
   * RSS against 3.78 s at batch 4 with 1.75 GB, model-artifacts/README.md), 32 on a GPU, whose
   * throughput needs batches; an out-of-memory failure halves a slice anyway.
   */
  static int defaultDecodeBatch(Device device) {
    return device.isGpu() ? 32 : 1;
  }

  /** Copies a verified package onto {@code device}, in the precision the package recommends. */
  static LoadedModel create(ModelPackage pkg, Device device, boolean shared) {
    return create(pkg, device, shared, pkg.config().depth(), pkg.recommendedPrecision(), null);
  }

  /**
   * Copies the tensors of a verified package that running at most {@code maxBlocks} blocks needs
   * onto {@code device} (see {@link OdeltNetwork#neededFor}), converted to {@code precision}.
   */
  static LoadedModel create(
      ModelPackage pkg,
      Device device,
      boolean shared,
      int maxBlocks,
      Precision precision,
      LoadedVae vae) {
    if (!pkg.config().isAllowedBlocks(maxBlocks)) {
      throw new IllegalArgumentException(
          "maxBlocks="
              + maxBlocks
              + " is not a block count of "
              + pkg.location()
              + "; allowed: "
              + pkg.config().allowedBlocks());
    }
    NDManager manager = NDManager.newBaseManager(device);
    manager.setName("odelt-model:" + pkg.location() + "@" + device);
    try {
      OdeltNetwork network = new OdeltNetwork(pkg.config());
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : pkg.tensors().entrySet()) {
        if (!OdeltNetwork.neededFor(e.getKey(), maxBlocks)) {
          continue;
        }
        NDArray array = manager.create(e.getValue().data(), new Shape(e.getValue().shape()));
        array.setRequiresGradient(false);
        arrays.put(e.getKey(), array);
      }
      network.setParameters(arrays, maxBlocks, precision);
      return new LoadedModel(
          pkg.location(), pkg.manifest(), pkg.config(), manager, network, shared, vae);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /** Where the manifest was read from. */
  public String location() {
    return location;
  }

  public ModelManifest manifest() {
    return manifest;
  }

  public ModelConfig config() {
    return config;
  }

  public Device device() {
    return manager.getDevice();
  }

  /** The shared, thread-safe sampler of this model. */
  public Sampler sampler() {
    if (vae == null && LatentModels.LATENT.equals(manifest.getNormalization().getSpace())) {
      throw new IllegalStateException(
          location
              + " is a latent model loaded without its decoder (Models.loadNetwork): it cannot"
              + " make images; load it with Models.load or Models.shared");
    }
    return sampler;
  }

  /** The decoder of a latent model; empty for a pixel model. */
  public java.util.Optional<LoadedVae> vae() {
    return java.util.Optional.ofNullable(vae);
  }

  /** The network, read-only: for tools (timing, parity) that call it directly. */
  public OdeltNetwork network() {
    return network;
  }

  /**
   * The largest block count this copy runs: the depth, or the {@code maxBlocks} it was loaded with
   * ({@link Models#load(String, String, int)}); deeper tiers are rejected.
   */
  public int maxBlocks() {
    return network.loadedBlocks();
  }

  /** Bytes of the parameters this copy holds on its device (float32: 4 per value, bf16: 2). */
  public long parameterBytes() {
    return (long) network.precision().bytesPerValue()
        * network.parameterCount(network.loadedBlocks());
  }

  /** The number format the weights are held and computed in. */
  public Precision precision() {
    return network.precision();
  }

  /** The manager holding the weights; callers of {@link #network()} open sub-managers of it. */
  public NDManager manager() {
    return manager;
  }

  /**
   * Native arrays alive under this model's manager (weights, constants and any open calls). Stable
   * between calls; for monitoring and leak tests.
   */
  public int liveArrayCount() {
    return manager.getManagedArrays().size();
  }

  /** Frees the weights, unless this instance is shared ({@link Models#shared}). */
  @Override
  public void close() {
    if (!shared) {
      manager.close();
      if (vae != null) {
        vae.close();
      }
    }
  }

  /** Frees the weights of a shared instance; only {@link Models} calls this. */
  void release() {
    manager.close();
  }

  @Override
  public String toString() {
    return "LoadedModel["
        + manifest.getName()
        + " "
        + manifest.getVersion()
        + " @ "
        + device()
        + " "
        + precision()
        + "]";
  }
}
