package dev.odelt.storage;

import java.io.IOException;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Picks the {@link ObjectStore} for a location by its scheme. {@code file} and {@code classpath}
 * are built in; other schemes ({@code gs}) come from {@link ObjectStoreProvider}s on the class
 * path, found with {@link ServiceLoader}.
 */
public final class ObjectStores {

  private static final Map<String, ObjectStore> STORES = new ConcurrentHashMap<>();

  private ObjectStores() {}

  /** The scheme of a location: {@code gs} for {@code gs://b/k}, {@code file} for plain paths. */
  public static String schemeOf(String location) {
    int colon = location.indexOf(':');
    if (colon > 1) {
      String scheme = location.substring(0, colon);
      if (scheme.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '+' || c == '-')) {
        return scheme.toLowerCase(java.util.Locale.ROOT);
      }
    }
    return "file";
  }

  /** The store that serves this location. */
  public static ObjectStore forLocation(String location) {
    return forScheme(schemeOf(location));
  }

  /**
   * Checks, before any work, that this process can read ({@code forWrite == false}) or write under
   * ({@code forWrite == true}) a location, with the store that serves it: see {@link
   * ObjectStore#checkAccess}.
   */
  public static void checkAccess(String location, boolean forWrite) throws IOException {
    forLocation(location).checkAccess(location, forWrite);
  }

  /** The store for a scheme; fails with a message naming the scheme when none is installed. */
  public static ObjectStore forScheme(String scheme) {
    return STORES.computeIfAbsent(scheme, ObjectStores::create);
  }

  /**
   * Installs a store for its scheme in this JVM, replacing any other (tests, custom clients).
   *
   * @return the store it replaced, or null
   */
  public static ObjectStore register(ObjectStore store) {
    return STORES.put(store.scheme(), store);
  }

  /**
   * Forgets the store for a scheme, so the next lookup makes a fresh one (built in, or from its
   * provider).
   */
  public static void unregister(String scheme) {
    STORES.remove(scheme);
  }

  private static ObjectStore create(String scheme) {
    switch (scheme) {
      case "file":
        return new LocalObjectStore();
      case "classpath":
        return new ClasspathObjectStore();
      default:
        for (ObjectStoreProvider provider : ServiceLoader.load(ObjectStoreProvider.class)) {
          if (provider.scheme().equals(scheme)) {
            return provider.create();
          }
        }
        throw new IllegalArgumentException(
            "No object store for scheme '"
                + scheme
                + "://'. Supported: local paths, file://, classpath:, and any scheme whose"
                + " provider is on the class path (gs:// with the transforms module).");
    }
  }
}
