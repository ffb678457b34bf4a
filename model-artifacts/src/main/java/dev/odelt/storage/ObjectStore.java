package dev.odelt.storage;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A minimal object store addressed by location strings ({@code /tmp/out/x.png}, {@code
 * gs://bucket/prefix/x.png}, {@code classpath:/dev/odelt/models/x/manifest.json}).
 *
 * <p>Guarantees every implementation gives:
 *
 * <ul>
 *   <li>{@link #write} is atomic: a reader sees the old object, or the whole new one, never a part;
 *       writing the same bytes again to the same location is harmless (idempotent).
 *   <li>{@link #list} streams lazily, so a prefix with millions of objects does not need memory
 *       proportional to its size. The caller closes the stream.
 *   <li>Missing objects raise {@link java.io.FileNotFoundException} (or {@link
 *       java.nio.file.NoSuchFileException}) naming the location; other failures raise {@link
 *       IOException} after the implementation's own retries ran out.
 * </ul>
 */
public interface ObjectStore {

  /** The URI scheme this store serves: {@code file}, {@code classpath}, {@code gs}. */
  String scheme();

  /** Opens an object for reading. */
  InputStream open(String location) throws IOException;

  /** Reads a whole object. */
  default byte[] readAllBytes(String location) throws IOException {
    try (InputStream in = open(location)) {
      return in.readAllBytes();
    }
  }

  /**
   * Writes a whole object atomically, replacing any previous one.
   *
   * @param contentType MIME type, e.g. {@code image/png}; may be null
   * @param metadata user metadata stored with the object where the store supports it
   */
  void write(String location, byte[] bytes, String contentType, Map<String, String> metadata)
      throws IOException;

  /**
   * Starts writing an object as a stream, for objects too large to hold in memory (dataset shards).
   * The object appears under {@code location} only when {@link Upload#commit} returns, whole;
   * closing an upload that was not committed abandons it and leaves nothing at the location (an
   * earlier object there stays). The default buffers in memory and {@link #write}s on commit;
   * stores that can stream override it.
   */
  default Upload upload(String location, String contentType, Map<String, String> metadata)
      throws IOException {
    ObjectStore store = this;
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    return new Upload() {
      @Override
      public OutputStream stream() {
        return buffer;
      }

      @Override
      public void commit() throws IOException {
        store.write(location, buffer.toByteArray(), contentType, metadata);
      }

      @Override
      public void close() {}
    };
  }

  /**
   * An object being written by {@link #upload}: write to {@link #stream()}, then {@link #commit()};
   * {@link #close()} without a commit abandons it. Not thread-safe.
   */
  interface Upload extends Closeable {
    /** Where the bytes go; do not close it (commit or close the upload instead). */
    OutputStream stream();

    /** Publishes the object whole under its location. */
    void commit() throws IOException;
  }

  /** Writes a whole object atomically with no content type or metadata. */
  default void write(String location, byte[] bytes) throws IOException {
    write(location, bytes, null, Map.of());
  }

  /** Whether an object exists at exactly this location. */
  boolean exists(String location) throws IOException;

  /**
   * When the object at exactly this location was last written; empty when there is no object there,
   * or when the store cannot tell (the default). Jobs use it to recognise objects that an earlier
   * attempt of the same run wrote (written at or after the run started).
   */
  default Optional<Instant> lastModified(String location) throws IOException {
    return Optional.empty();
  }

  /**
   * What {@link #stat} tells of an object.
   *
   * @param modified when it was last written
   * @param metadata the user metadata it was written with; empty where the store keeps none
   */
  record Stat(Instant modified, Map<String, String> metadata) {
    public Stat {
      if (modified == null) {
        throw new IllegalArgumentException("modified must not be null");
      }
      metadata = Map.copyOf(metadata);
    }
  }

  /**
   * The modification time and user metadata of the object at exactly this location, in one look-up
   * where the store allows; empty when there is no object there or the store cannot tell its time.
   * The default is {@link #lastModified} with no metadata. Jobs use the metadata to read back what
   * an earlier attempt of the same run recorded with an object it wrote.
   */
  default Optional<Stat> stat(String location) throws IOException {
    return lastModified(location).map(t -> new Stat(t, Map.of()));
  }

  /**
   * Lists the objects matching a glob ({@code *} within one path segment, {@code **} across
   * segments, {@code ?} one character), in lexicographic order of location. A glob without
   * wildcards matches the one object of that name, or, when it names a directory/prefix, nothing.
   */
  Stream<String> list(String glob) throws IOException;

  /**
   * Fails fast, before any work is done, when this process can certainly not read ({@code forWrite
   * == false}) or write ({@code forWrite == true}) at a location: missing credentials, a missing
   * bucket or root, or no permission. Jobs call it once per input and output location at start-up
   * so that such faults surface in seconds, not after an hour of generation.
   *
   * <p>For reads, {@code location} is an object or a glob; a location without wildcards that names
   * no object raises {@link java.io.FileNotFoundException}. For writes, {@code location} is the
   * directory or prefix under which objects will be written. The check may create and remove a
   * small probe object under that prefix. Stores without access control (the default) check
   * nothing.
   *
   * @throws java.io.FileNotFoundException a missing object, bucket or root
   * @throws java.nio.file.AccessDeniedException no permission for the operation
   * @throws IOException missing credentials, or another failure, with the location in the message
   */
  default void checkAccess(String location, boolean forWrite) throws IOException {}

  /**
   * An object's bytes and its generation: a token that changes whenever the object is written (the
   * object generation on GCS; a hash of the bytes for local files). For {@link #writeIfGeneration}
   * and {@link #deleteIfGeneration}.
   */
  record Versioned(byte[] bytes, String generation) {}

  /**
   * Reads an object with its generation; empty when there is none.
   *
   * @throws UnsupportedOperationException where the store has no conditional writes (the default)
   */
  default Optional<Versioned> readVersioned(String location) throws IOException {
    throw new UnsupportedOperationException(scheme() + ": stores have no conditional writes");
  }

  /**
   * Writes an object only if it is still at {@code generation}, or, with {@code generation} null,
   * only if there is none: atomically, so of two writers racing from the same generation exactly
   * one succeeds (a GCS generation-match precondition; an exclusive file lock around compare and
   * replace for local files). Returns the new generation, or empty when the precondition failed.
   *
   * @throws UnsupportedOperationException where the store has no conditional writes (the default)
   */
  default Optional<String> writeIfGeneration(String location, byte[] bytes, String generation)
      throws IOException {
    throw new UnsupportedOperationException(scheme() + ": stores have no conditional writes");
  }

  /**
   * Deletes an object only if it is still at {@code generation}; false when it is not (another
   * writer replaced or removed it).
   *
   * @throws UnsupportedOperationException where the store has no conditional writes (the default)
   */
  default boolean deleteIfGeneration(String location, String generation) throws IOException {
    throw new UnsupportedOperationException(scheme() + ": stores have no conditional writes");
  }

  /** Joins a base location (directory or prefix) and a relative path with one {@code /}. */
  static String resolve(String base, String relative) {
    if (base.endsWith("/")) {
      return base + relative;
    }
    return base + "/" + relative;
  }
}
