package dev.odelt.storage;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Local files. Writes go to a hidden temporary file in the target directory and are then moved into
 * place atomically, so readers never see half a file and a rerun replaces the same name. Content
 * type and metadata are not stored (the file system has nowhere standard to put them).
 */
public final class LocalObjectStore implements ObjectStore {

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
    Path dir = target.getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    try {
      Files.write(tmp, bytes);
      try {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  @Override
  public boolean exists(String location) {
    return Files.isRegularFile(toPath(location));
  }

  @Override
  public Stream<String> list(String glob) throws IOException {
    boolean fileUri = glob.startsWith("file:");
    String plain = fileUri ? toPath(glob).toString() : glob;
    if (!Globs.hasWildcard(plain)) {
      return Files.isRegularFile(Paths.get(plain)) ? Stream.of(glob) : Stream.empty();
    }
    String prefix = Globs.literalPrefix(plain);
    Path root = Paths.get(prefix.isEmpty() ? "." : prefix);
    if (!Files.isDirectory(root)) {
      return Stream.empty();
    }
    Pattern pattern = Globs.toPattern(plain);
    String rootText = prefix.isEmpty() ? "" : prefix;
    Stream<Path> walk = Files.walk(root);
    return walk.filter(Files::isRegularFile)
        .map(p -> rootText + root.relativize(p).toString())
        .filter(s -> pattern.matcher(s).matches())
        .filter(s -> !Paths.get(s).getFileName().toString().endsWith(".tmp"))
        .sorted()
        .map(s -> fileUri ? Paths.get(s).toUri().toString() : s)
        .onClose(walk::close);
  }
}
