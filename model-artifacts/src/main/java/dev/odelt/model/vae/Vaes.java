package dev.odelt.model.vae;

import ai.djl.Device;
import dev.odelt.model.Models;
import dev.odelt.model.Precision;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.io.VaePackage;
import dev.odelt.model.io.VaePackages;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads VAE packages onto devices, as {@link Models} does for networks: {@link #shared} keeps one
 * loaded copy per (manifest location, device) per JVM, loaded once on first use; devices are named
 * as for {@link Models#resolveDevice} ({@code auto}, {@code cpu}, {@code gpu}, {@code gpu:N}).
 * Without a precision a VAE loads in float32; a latent model's decoder loads in the model's.
 */
public final class Vaes {

  private static final Logger LOG = LoggerFactory.getLogger(Vaes.class);
  private static final Map<String, LoadedVae> SHARED = new ConcurrentHashMap<>();

  private Vaes() {}

  /**
   * The JVM-wide copy of a VAE package on a device, loaded on first use. Its {@code close()} does
   * nothing; see {@link #releaseShared()}.
   *
   * @param location the package directory or its {@code manifest.json} (any store location)
   * @throws UncheckedIOException wrapping {@link dev.odelt.model.io.InvalidModelPackageException}
   *     for a bad package, or the store's {@link IOException}
   * @throws IllegalArgumentException for an unknown device
   */
  public static LoadedVae shared(String location, String device) {
    return shared(location, Models.resolveDevice(device), Precision.FP32);
  }

  /**
   * As {@link #shared(String, String)} on a resolved device (a latent model's own device), in a
   * precision; each (location, device, precision) has its own copy.
   */
  public static LoadedVae shared(String location, Device resolved, Precision precision) {
    String key = ModelPackages.manifestLocation(location) + "|" + resolved + "|" + precision;
    return SHARED.computeIfAbsent(
        key,
        k -> {
          try {
            return load(location, resolved, true, precision);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /**
   * A private copy of a VAE package on a device; the caller closes it.
   *
   * @throws dev.odelt.model.io.InvalidModelPackageException for a bad package
   */
  public static LoadedVae load(String location, String device) throws IOException {
    return load(location, Models.resolveDevice(device), false, Precision.FP32);
  }

  /** As {@link #load(String, String)} in a precision. */
  public static LoadedVae load(String location, String device, Precision precision)
      throws IOException {
    return load(location, Models.resolveDevice(device), false, precision);
  }

  /** As {@link #load(String, String, Precision)} on a resolved device (a latent model's own). */
  public static LoadedVae load(String location, Device device, Precision precision)
      throws IOException {
    return load(location, device, false, precision);
  }

  private static LoadedVae load(String location, Device device, boolean shared, Precision precision)
      throws IOException {
    long start = System.nanoTime();
    VaePackage pkg = VaePackages.read(location);
    LoadedVae vae = LoadedVae.create(pkg, device, shared, precision);
    LOG.info(
        "Loaded VAE decoder {} {} from {} on {} ({} parameters, {}) in {} ms",
        pkg.manifest().getName(),
        pkg.manifest().getVersion(),
        pkg.location(),
        device,
        vae.decoder().parameterCount(),
        precision,
        (System.nanoTime() - start) / 1_000_000);
    return vae;
  }

  /** Frees every shared VAE (tests, orderly shutdown). Later calls load again. */
  public static void releaseShared() {
    for (String key : SHARED.keySet()) {
      LoadedVae vae = SHARED.remove(key);
      if (vae != null) {
        vae.release();
      }
    }
  }
}
