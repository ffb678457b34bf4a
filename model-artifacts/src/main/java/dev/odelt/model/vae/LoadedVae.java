package dev.odelt.model.vae;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.odelt.model.Precision;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.io.VaePackage;
import dev.odelt.proto.v1.VaeManifest;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A VAE package loaded onto one device: manifest and decoder with its weights, which never require
 * gradients. {@link #decode} is thread-safe.
 *
 * <p>Closing frees the device memory. Instances from {@link Vaes#shared} belong to the JVM-wide
 * cache and ignore {@link #close()}; instances from {@link Vaes#load} belong to the caller.
 */
public final class LoadedVae implements AutoCloseable {

  private final String location;
  private final VaeManifest manifest;
  private final NDManager manager;
  private final ImageDecoder decoder;
  private final boolean shared;

  private LoadedVae(
      String location,
      VaeManifest manifest,
      NDManager manager,
      ImageDecoder decoder,
      boolean shared) {
    this.location = location;
    this.manifest = manifest;
    this.manager = manager;
    this.decoder = decoder;
    this.shared = shared;
  }

  /** Copies a verified package onto {@code device}, in {@code precision}. */
  static LoadedVae create(VaePackage pkg, Device device, boolean shared, Precision precision) {
    NDManager manager = NDManager.newBaseManager(device);
    manager.setName("odelt-vae:" + pkg.location() + "@" + device);
    try {
      ImageDecoder decoder = ImageDecoder.create(pkg.config());
      Map<String, NDArray> arrays = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : pkg.tensors().entrySet()) {
        NDArray array = manager.create(e.getValue().data(), new Shape(e.getValue().shape()));
        array.setRequiresGradient(false);
        arrays.put(e.getKey(), array);
      }
      decoder.setParameters(arrays, precision);
      return new LoadedVae(pkg.location(), pkg.manifest(), manager, decoder, shared);
    } catch (RuntimeException e) {
      manager.close();
      throw e;
    }
  }

  /**
   * Decodes latents as the DiT outputs them (scaled by s) into raw images (about [−1, 1], not
   * clipped). See {@link ImageDecoder#decode}.
   *
   * @param latents (B, L, h, w) float32 NCHW on {@link #device()}, e.g. created in a sub-manager of
   *     {@link #manager()}; left intact
   * @return (B, out_channels, f·h, f·w) on {@code latents}' manager
   */
  public NDArray decode(NDArray latents) {
    return decoder.decode(latents);
  }

  /** Where the manifest was read from. */
  public String location() {
    return location;
  }

  public VaeManifest manifest() {
    return manifest;
  }

  public VaeConfig config() {
    return decoder.config();
  }

  public Device device() {
    return manager.getDevice();
  }

  /** The decoder, read-only: for tools that call it directly. */
  public ImageDecoder decoder() {
    return decoder;
  }

  /** The manager holding the weights; callers open per-call sub-managers of it. */
  public NDManager manager() {
    return manager;
  }

  /** Bytes of the parameters on the device (float32: 4 per value; bfloat16 weights: 2). */
  public long parameterBytes() {
    return decoder.parameterBytes();
  }

  /** The precision the decoder computes in (see {@link ImageDecoder}). */
  public Precision precision() {
    return decoder.precision();
  }

  /** Native arrays alive under this VAE's manager (weights and any open calls), for leak tests. */
  public int liveArrayCount() {
    return manager.getManagedArrays().size();
  }

  /** Frees the weights, unless this instance is shared ({@link Vaes#shared}). */
  @Override
  public void close() {
    if (!shared) {
      manager.close();
    }
  }

  /** Frees the weights of a shared instance; only {@link Vaes} calls this. */
  void release() {
    manager.close();
  }

  @Override
  public String toString() {
    return "LoadedVae["
        + manifest.getName()
        + " "
        + manifest.getVersion()
        + " @ "
        + device()
        + ", "
        + precision()
        + "]";
  }
}
