package dev.odelt.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Read-only resources on the class path: {@code classpath:/dev/odelt/models/mnist/manifest.json}.
 * Used for the model package shipped inside the jar. Listing is not supported (class path resources
 * cannot be enumerated portably); only exact names are read.
 */
public final class ClasspathObjectStore implements ObjectStore {

  private static final String PREFIX = "classpath:";

  @Override
  public String scheme() {
    return "classpath";
  }

  private static String resourceName(String location) {
    String name = location.startsWith(PREFIX) ? location.substring(PREFIX.length()) : location;
    while (name.startsWith("/")) {
      name = name.substring(1);
    }
    return name;
  }

  @Override
  public InputStream open(String location) throws IOException {
    InputStream in = loader().getResourceAsStream(resourceName(location));
    if (in == null) {
      throw new FileNotFoundException("No class path resource: " + location);
    }
    return in;
  }

  @Override
  public void write(String location, byte[] bytes, String contentType, Map<String, String> metadata)
      throws IOException {
    throw new IOException("The class path is read-only: cannot write " + location);
  }

  @Override
  public boolean exists(String location) {
    return loader().getResource(resourceName(location)) != null;
  }

  /** Reads need the named resource to exist; writes always fail (the class path is read-only). */
  @Override
  public void checkAccess(String location, boolean forWrite) throws IOException {
    if (forWrite) {
      throw new IOException("The class path is read-only: cannot write under " + location);
    }
    if (!Globs.hasWildcard(location) && !exists(location)) {
      throw new FileNotFoundException("No class path resource: " + location);
    }
  }

  @Override
  public Stream<String> list(String glob) {
    if (Globs.hasWildcard(glob)) {
      throw new IllegalArgumentException(
          "Globs are not supported on the class path: " + glob + " (name one resource)");
    }
    return exists(glob) ? Stream.of(glob) : Stream.empty();
  }

  private static ClassLoader loader() {
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    return context != null ? context : ClasspathObjectStore.class.getClassLoader();
  }
}
