package dev.odelt.storage;

/** A {@link java.util.ServiceLoader} service that makes the store for one URI scheme. */
public interface ObjectStoreProvider {

  /** The scheme served, e.g. {@code gs}. */
  String scheme();

  /** Creates the store; called once per JVM. */
  ObjectStore create();
}
