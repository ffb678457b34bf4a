package dev.odelt.storage.gcs;

import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStoreProvider;

/**
 * Serves {@code gs://} through {@link java.util.ServiceLoader}: with the transforms module on the
 * class path, {@code ObjectStores.forLocation("gs://…")} finds this provider. The store it makes
 * looks for credentials only when first used.
 */
public final class GcsObjectStoreProvider implements ObjectStoreProvider {

  /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
  public GcsObjectStoreProvider() {}

  @Override
  public String scheme() {
    return "gs";
  }

  @Override
  public ObjectStore create() {
    return GcsObjectStore.fromEnvironment();
  }
}
