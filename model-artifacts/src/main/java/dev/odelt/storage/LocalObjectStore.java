package dev.odelt.storage;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.BufferedOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Local files. Writes go to a hidden temporary file ({@code .<name>.<uuid>.tmp}) in the target
 * directory and are then moved into place atomically, so readers never see half a file and a rerun
 * replaces the same name; listings never show those temporary files. User metadata is stored as one
 * user extended attribute ({@value #METADATA_ATTRIBUTE}, JSON) set on the temporary file before the
 * move, so an object and its metadata appear together; on a file system without user extended
 * attributes it is not stored (logged once). The content type is not stored.
 *
 * <p>Listing walks directories depth-first, reading one directory at a time in sorted order, so
 * locations come out in lexicographic order while memory grows only with the largest directory.
 * Directories deeper than the glob can reach are not entered.
 */
public final class LocalObjectStore implements ObjectStore {

  private static final String TMP_SUFFIX = ".tmp";

  /** The user extended attribute that holds an object's metadata (JSON object of strings). */
  public static final String METADATA_ATTRIBUTE = "odelt.metadata";

  private static final Logger LOG = LoggerFactory.getLogger(LocalObjectStore.class);
  private static final AtomicBoolean WARNED_NO_XATTR = new AtomicBoolean();

  /** Held around conditional operations: file locks do not separate threads of one JVM. */
  private static final Object LOCKS = new Object();

  @Override
  public String scheme() {
    return "file";
  }

  /** The path of a local location ({@code /a/b}, {@code a/b} or {@code file:///a/b}). */
  public static Path toPath(String location) {
    if (location.startsWith("file:")) {
      return Paths.get(URI.create(location));
    }
    return Paths.get(location);
  }

  @Override
  public InputStream open(String location) throws IOException {
    Path path = toPath(location);
    if (Files.isDirectory(path)) {
      throw new FileNotFoundException(location + " is a directory, not a file");
    }
    try {
      return Files.newInputStream(path);
    } catch (NoSuchFileException e) {
      throw new FileNotFoundException("No such file: " + location);
    }
  }

  @Override
  public void write(String location, byte[] bytes, String contentType, Map<String, String> metadata)
      throws IOException {
    Path target = toPath(location).toAbsolutePath();
    Path tmp = temporaryBeside(target);
    try {
      Files.write(tmp, bytes);
      publish(tmp, target, metadata);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** A new hidden temporary name in the target's folder (created when missing). */
  private static Path temporaryBeside(Path target) throws IOException {
    Path dir = target.getParent();
    Files.createDirectories(dir);
    return dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + TMP_SUFFIX);
  }

  /** Sets the metadata on a complete temporary file and moves it into place atomically. */
  private static void publish(Path tmp, Path target, Map<String, String> metadata)
      throws IOException {
    if (metadata != null && !metadata.isEmpty()) {
      writeMetadata(tmp, metadata);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * Streams into a hidden temporary file next to the target; commit sets the metadata and moves it
   * into place atomically; close without commit deletes it.
   */
  @Override
  public Upload upload(String location, String contentType, Map<String, String> metadata)
      throws IOException {
    Path target = toPath(location).toAbsolutePath();
    Path tmp = temporaryBeside(target);
    OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
    return new Upload() {
      private boolean open = true;

      @Override
      public OutputStream stream() {
        return out;
      }

      @Override
      public void commit() throws IOException {
        if (!open) {
          throw new IOException("Upload of " + location + " is already closed");
        }
        out.close();
        open = false;
        try {
          publish(tmp, target, metadata);
        } finally {
          Files.deleteIfExists(tmp);
        }
      }

      @Override
      public void close() throws IOException {
        if (open) {
          open = false;
          try {
            out.close();
          } finally {
            Files.deleteIfExists(tmp);
          }
        }
      }
    };
  }

  private static void writeMetadata(Path file, Map<String, String> metadata) throws IOException {
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
    if (view == null) {
      warnNoXattr(file, null);
      return;
    }
    byte[] json = new Gson().toJson(new TreeMap<>(metadata)).getBytes(StandardCharsets.UTF_8);
    try {
      view.write(METADATA_ATTRIBUTE, ByteBuffer.wrap(json));
    } catch (UnsupportedOperationException | FileSystemException e) {
      warnNoXattr(file, e);
    }
  }

  private static void warnNoXattr(Path file, Exception e) {
    if (WARNED_NO_XATTR.compareAndSet(false, true)) {
      LOG.warn(
          "The file system of {} keeps no user extended attributes: object metadata is not"
              + " stored{}",
          file.getParent(),
          e == null ? "" : " (" + e + ")");
    }
  }

  /** The metadata written with a file; empty when none was (or cannot be) stored. */
  static Map<String, String> readMetadata(Path file) throws IOException {
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(file, UserDefinedFileAttributeView.class);
    if (view == null) {
      return Map.of();
    }
    ByteBuffer buffer;
    try {
      if (!view.list().contains(METADATA_ATTRIBUTE)) {
        return Map.of();
      }
      buffer = ByteBuffer.allocate(view.size(METADATA_ATTRIBUTE));
      view.read(METADATA_ATTRIBUTE, buffer);
    } catch (UnsupportedOperationException | FileSystemException e) {
      if (e instanceof NoSuchFileException missing) {
        throw missing;
      }
      return Map.of();
    }
    String json = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
    Map<String, String> out = new TreeMap<>();
    try {
      JsonElement parsed = JsonParser.parseString(json);
      if (!parsed.isJsonObject()) {
        throw new IOException("metadata of " + file + " is not a JSON object");
      }
      for (Map.Entry<String, JsonElement> e : parsed.getAsJsonObject().entrySet()) {
        if (!e.getValue().isJsonPrimitive() || !e.getValue().getAsJsonPrimitive().isString()) {
          throw new IOException("metadata '" + e.getKey() + "' of " + file + " is not a string");
        }
        out.put(e.getKey(), e.getValue().getAsString());
      }
    } catch (JsonParseException e) {
      throw new IOException("metadata of " + file + " is not JSON: " + e.getMessage(), e);
    }
    return out;
  }

  @Override
  public Optional<Stat> stat(String location) throws IOException {
    Path path = toPath(location);
    try {
      if (!Files.isRegularFile(path)) {
        return Optional.empty();
      }
      Instant modified = Files.getLastModifiedTime(path).toInstant();
      return Optional.of(new Stat(modified, readMetadata(path)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public boolean exists(String location) {
    return Files.isRegularFile(toPath(location));
  }

  @Override
  public Optional<Instant> lastModified(String location) throws IOException {
    Path path = toPath(location);
    try {
      if (!Files.isRegularFile(path)) {
        return Optional.empty();
      }
      return Optional.of(Files.getLastModifiedTime(path).toInstant());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /**
   * Conditional operations run under an exclusive lock on {@code .<name>.lock} beside the object (a
   * {@link FileChannel#lock} between processes, a monitor between threads of this JVM, which file
   * locks do not separate), so compare and replace is one step for every process that uses them.
   * The generation is the sha256 of the bytes. The lock file stays (empty) after a delete: removing
   * it could let two processes lock different files.
   */
  @Override
  public Optional<Versioned> readVersioned(String location) throws IOException {
    Path target = toPath(location).toAbsolutePath();
    return underLock(target, () -> readVersionedUnlocked(target));
  }

  @Override
  public Optional<String> writeIfGeneration(String location, byte[] bytes, String generation)
      throws IOException {
    Path target = toPath(location).toAbsolutePath();
    return underLock(
        target,
        () -> {
          Optional<Versioned> now = readVersionedUnlocked(target);
          boolean matches =
              generation == null
                  ? now.isEmpty()
                  : now.isPresent() && now.get().generation().equals(generation);
          if (!matches) {
            return Optional.empty();
          }
          write(location, bytes);
          return Optional.of(sha256(bytes));
        });
  }

  @Override
  public boolean deleteIfGeneration(String location, String generation) throws IOException {
    Path target = toPath(location).toAbsolutePath();
    return underLock(
        target,
        () -> {
          Optional<Versioned> now = readVersionedUnlocked(target);
          if (now.isEmpty() || !now.get().generation().equals(generation)) {
            return false;
          }
          Files.deleteIfExists(target);
          return true;
        });
  }

  /** An operation on files that may fail. */
  @FunctionalInterface
  private interface IoOperation<T> {
    T run() throws IOException;
  }

  /** Runs {@code body} holding the JVM's monitor and the file lock beside {@code target}. */
  private static <T> T underLock(Path target, IoOperation<T> body) throws IOException {
    Path dir = target.getParent();
    Files.createDirectories(dir);
    synchronized (LOCKS) {
      try (FileChannel channel =
          FileChannel.open(
              dir.resolve("." + target.getFileName() + ".lock"),
              StandardOpenOption.CREATE,
              StandardOpenOption.WRITE)) {
        channel.lock(); // released when the channel closes
        return body.run();
      }
    }
  }

  private static Optional<Versioned> readVersionedUnlocked(Path target) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(target);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    return Optional.of(new Versioned(bytes, sha256(bytes)));
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  /**
   * For reads: a location without wildcards must be a readable file; for a glob, the directory
   * before its first wildcard must be readable if it exists. For writes: the location must be a
   * directory or not exist yet, and the nearest existing directory above it must be writable.
   * Nothing is created.
   */
  @Override
  public void checkAccess(String location, boolean forWrite) throws IOException {
    if (forWrite) {
      Path dir = toPath(location).toAbsolutePath();
      Path existing = dir;
      while (existing != null && !Files.exists(existing)) {
        existing = existing.getParent();
      }
      if (existing == null || !Files.isDirectory(existing)) {
        throw new NotDirectoryException(
            (existing == null ? dir : existing) + " (needed for writing under " + location + ")");
      }
      if (!Files.isWritable(existing)) {
        throw new AccessDeniedException(
            existing.toString(), null, "directory is not writable (needed for " + location + ")");
      }
      return;
    }
    String plain = withoutFileScheme(location);
    if (Globs.hasWildcard(plain)) {
      String prefix = Globs.literalPrefix(plain);
      Path root = Paths.get(prefix.isEmpty() ? "." : prefix);
      if (Files.isDirectory(root) && !Files.isReadable(root)) {
        throw new AccessDeniedException(root.toString(), null, "directory is not readable");
      }
      return;
    }
    Path path = toPath(location);
    if (!Files.isRegularFile(path)) {
      throw new FileNotFoundException("No such file: " + location);
    }
    if (!Files.isReadable(path)) {
      throw new AccessDeniedException(location, null, "file is not readable");
    }
  }

  @Override
  public Stream<String> list(String glob) throws IOException {
    boolean fileUri = glob.startsWith("file:");
    String plain = withoutFileScheme(glob);
    if (!Globs.hasWildcard(plain)) {
      return Files.isRegularFile(Paths.get(plain)) ? Stream.of(glob) : Stream.empty();
    }
    String prefix = Globs.literalPrefix(plain);
    Path root = Paths.get(prefix.isEmpty() ? "." : prefix);
    if (!Files.isDirectory(root)) {
      return Stream.empty();
    }
    String rest = plain.substring(prefix.length());
    int maxDepth =
        rest.contains("**") ? Integer.MAX_VALUE : (int) rest.chars().filter(c -> c == '/').count();
    Pattern pattern = Globs.toPattern(plain);
    Iterator<String> files = new SortedWalk(root, prefix, maxDepth);
    return StreamSupport.stream(
            Spliterators.spliteratorUnknownSize(
                files, Spliterator.ORDERED | Spliterator.NONNULL | Spliterator.DISTINCT),
            false)
        .filter(s -> pattern.matcher(s).matches())
        .map(s -> fileUri ? Paths.get(s).toUri().toString() : s);
  }

  /**
   * {@code file:///a/b*} → {@code /a/b*}, without URI parsing (globs are not valid URIs); other
   * text unchanged.
   */
  private static String withoutFileScheme(String location) {
    if (!location.startsWith("file:")) {
      return location;
    }
    String rest = location.substring("file:".length());
    if (rest.startsWith("//")) {
      rest = rest.substring(2);
      int slash = rest.indexOf('/');
      rest = slash < 0 ? "/" : rest.substring(slash);
    }
    return rest;
  }

  private static boolean isTemporary(Path file) {
    String name = file.getFileName().toString();
    return name.startsWith(".") && name.endsWith(TMP_SUFFIX);
  }

  /**
   * Regular files below a root, depth-first in lexicographic order of their location text (a
   * directory sorts as its name plus {@code /}, which is how its files' locations begin).
   */
  private static final class SortedWalk implements Iterator<String> {
    private final Deque<Iterator<Path>> stack = new ArrayDeque<>();
    private final Deque<String> prefixes = new ArrayDeque<>();
    private final int maxDepth;
    private String next;

    SortedWalk(Path root, String rootText, int maxDepth) {
      this.maxDepth = maxDepth;
      push(root, rootText);
    }

    private void push(Path dir, String text) {
      List<Path> entries = new ArrayList<>();
      try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
        children.forEach(entries::add);
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot list directory " + dir, e);
      }
      entries.sort(Comparator.comparing(SortedWalk::sortKey));
      stack.push(entries.iterator());
      prefixes.push(text);
    }

    private static String sortKey(Path p) {
      String name = p.getFileName().toString();
      return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? name + "/" : name;
    }

    @Override
    public boolean hasNext() {
      while (next == null && !stack.isEmpty()) {
        Iterator<Path> top = stack.peek();
        if (!top.hasNext()) {
          stack.pop();
          prefixes.pop();
          continue;
        }
        Path entry = top.next();
        String text = prefixes.peek() + entry.getFileName();
        if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
          if (stack.size() <= maxDepth) {
            push(entry, text + "/");
          }
        } else if (Files.isRegularFile(entry) && !isTemporary(entry)) {
          next = text;
        }
      }
      return next != null;
    }

    @Override
    public String next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      String result = next;
      next = null;
      return result;
    }
  }
}
