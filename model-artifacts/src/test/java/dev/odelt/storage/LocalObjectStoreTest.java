package dev.odelt.storage;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalObjectStoreTest {

  @TempDir Path dir;

  private final LocalObjectStore store = new LocalObjectStore();

  private String at(String relative) {
    return dir.resolve(relative).toString();
  }

  @Test
  void streamedUploadAppearsWholeOnlyWhenCommittedAndAnAbandonedOneLeavesNothing()
      throws IOException {
    String location = at("dataset/s1-b2/00000.tar");
    try (ObjectStore.Upload upload = store.upload(location, null, Map.of())) {
      upload.stream().write(new byte[100_000]);
      assertFalse(Files.exists(Path.of(location)), "nothing at the name before the commit");
      upload.commit();
    }
    assertEquals(100_000, Files.size(Path.of(location)));
    try (ObjectStore.Upload upload = store.upload(location, null, Map.of())) {
      upload.stream().write(new byte[5]);
    }
    assertEquals(100_000, Files.size(Path.of(location)), "the earlier object stays");
    try (var files = Files.list(dir.resolve("dataset/s1-b2"))) {
      assertEquals(1, files.count(), "no temporary file is left behind");
    }
  }

  private void touch(String... relatives) throws IOException {
    for (String relative : relatives) {
      store.write(at(relative), relative.getBytes(UTF_8));
    }
  }

  private List<String> list(String glob) throws IOException {
    try (Stream<String> names = store.list(glob)) {
      return names.collect(Collectors.toList());
    }
  }

  @Test
  void writeCreatesDirectoriesAndReadsBack() throws IOException {
    String location = at("out/images/r1-0.png");
    byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
    store.write(location, png, "image/png", Map.of("requestId", "r1"));
    assertArrayEquals(png, store.readAllBytes(location));
    try (InputStream in = store.open(location)) {
      assertArrayEquals(png, in.readAllBytes());
    }
    assertTrue(store.exists(location));
    assertFalse(store.exists(at("out/images")));
    assertFalse(store.exists(at("out/images/other.png")));
  }

  @Test
  void metadataIsKeptWithTheObjectAndReplacedByTheNextWrite() throws IOException {
    Assumptions.assumeTrue(
        Files.getFileStore(dir).supportsFileAttributeView(UserDefinedFileAttributeView.class),
        "the temporary folder's file system keeps no user extended attributes");
    String location = at("out/images/r1-0.png");
    store.write(location, new byte[] {1, 2}, "image/png", Map.of("run", "a", "seconds", "0.5"));
    ObjectStore.Stat stat = store.stat(location).orElseThrow();
    assertEquals(Map.of("run", "a", "seconds", "0.5"), stat.metadata());
    assertEquals(
        Files.getLastModifiedTime(dir.resolve("out/images/r1-0.png")).toInstant(), stat.modified());
    store.write(location, new byte[] {1, 2});
    assertEquals(Map.of(), store.stat(location).orElseThrow().metadata());
    store.write(location, new byte[] {1, 2}, "image/png", Map.of("run", "b"));
    assertEquals(Map.of("run", "b"), store.stat(location).orElseThrow().metadata());
    assertEquals(List.of(location), list(at("out/images/*")));
    assertTrue(store.stat(at("out/images/none.png")).isEmpty());
  }

  @Test
  void damagedMetadataIsAnErrorNamingTheFile() throws IOException {
    Assumptions.assumeTrue(
        Files.getFileStore(dir).supportsFileAttributeView(UserDefinedFileAttributeView.class),
        "the temporary folder's file system keeps no user extended attributes");
    Path file = dir.resolve("x.png");
    Files.write(file, new byte[] {1});
    Files.getFileAttributeView(file, UserDefinedFileAttributeView.class)
        .write(LocalObjectStore.METADATA_ATTRIBUTE, ByteBuffer.wrap("{\"a\":1}".getBytes(UTF_8)));
    IOException e = assertThrows(IOException.class, () -> store.stat(file.toString()));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void overwriteWithIdenticalBytesLeavesOneFileAndNoTemporaries() throws IOException {
    String location = at("out/records.jsonl");
    store.write(location, "a\n".getBytes(UTF_8));
    store.write(location, "a\n".getBytes(UTF_8));
    assertEquals("a\n", Files.readString(dir.resolve("out/records.jsonl")));
    try (Stream<Path> files = Files.list(dir.resolve("out"))) {
      assertEquals(List.of(dir.resolve("out/records.jsonl")), files.collect(Collectors.toList()));
    }
    store.write(location, "b\n".getBytes(UTF_8));
    assertEquals("b\n", Files.readString(dir.resolve("out/records.jsonl")));
  }

  @Test
  void writeIsAtomicRename() throws IOException {
    // A reader holding the old file keeps seeing complete old contents: the new file replaces the
    // directory entry in one step instead of being written in place.
    String location = at("x.bin");
    store.write(location, "old contents".getBytes(UTF_8));
    try (InputStream old = store.open(location)) {
      store.write(location, "new".getBytes(UTF_8));
      assertEquals("old contents", new String(old.readAllBytes(), UTF_8));
    }
    assertEquals("new", new String(store.readAllBytes(location), UTF_8));
  }

  @Test
  void missingFilesAndDirectoriesAreFileNotFound() {
    FileNotFoundException missing =
        assertThrows(FileNotFoundException.class, () -> store.open(at("nope.json")));
    assertTrue(missing.getMessage().contains("nope.json"));
    assertThrows(FileNotFoundException.class, () -> store.readAllBytes(at("nope.json")));
    assertThrows(FileNotFoundException.class, () -> store.open(dir.toString()));
  }

  @Test
  void listsByGlobInLexicographicOrder() throws IOException {
    touch(
        "req/b.jsonl",
        "req/a.jsonl",
        "req/a.csv",
        "req/c.jsonl.bak",
        "req/sub/d.jsonl",
        "req/sub/deeper/e.jsonl",
        "req.jsonl",
        "reqs/f.jsonl");
    assertEquals(List.of(at("req/a.jsonl"), at("req/b.jsonl")), list(at("req/*.jsonl")));
    assertEquals(
        List.of(
            at("req/a.jsonl"),
            at("req/b.jsonl"),
            at("req/sub/d.jsonl"),
            at("req/sub/deeper/e.jsonl")),
        list(at("req/**.jsonl")));
    assertEquals(
        List.of(
            at("req/a.jsonl"),
            at("req/b.jsonl"),
            at("req/sub/d.jsonl"),
            at("req/sub/deeper/e.jsonl")),
        list(at("req/**/*.jsonl")));
    assertEquals(List.of(at("req/sub/d.jsonl")), list(at("req/*/?.jsonl")));
    assertEquals(List.of(at("req/a.csv"), at("req/b.jsonl")), list(at("req/{a.csv,b.jsonl}")));
    assertEquals(
        List.of(at("req/a.jsonl"), at("req/b.jsonl"), at("reqs/f.jsonl")),
        list(at("req*/*.jsonl")));
    // '.' sorts before '/': the file req.jsonl comes before everything under req/.
    assertEquals(
        List.of(
            at("req.jsonl"),
            at("req/a.jsonl"),
            at("req/b.jsonl"),
            at("req/sub/d.jsonl"),
            at("req/sub/deeper/e.jsonl"),
            at("reqs/f.jsonl")),
        list(at("**.jsonl")));
  }

  @Test
  void listWithoutWildcardsNamesOneFileOrNothing() throws IOException {
    touch("req/a.jsonl");
    assertEquals(List.of(at("req/a.jsonl")), list(at("req/a.jsonl")));
    assertEquals(List.of(), list(at("req/missing.jsonl")));
    assertEquals(List.of(), list(at("req")));
  }

  @Test
  void listUnderMissingDirectoriesIsEmpty() throws IOException {
    assertEquals(List.of(), list(at("nothing/here/*.jsonl")));
    assertEquals(List.of(), list(at("nothing/**")));
  }

  @Test
  void temporaryFilesOfUnfinishedWritesAreHidden() throws IOException {
    touch("out/a.png");
    Files.write(dir.resolve("out/.b.png.0f8fad5b-d9cb-469f-a165-70867728950e.tmp"), new byte[1]);
    Files.write(dir.resolve("out/user-file.tmp"), new byte[1]);
    assertEquals(List.of(at("out/a.png"), at("out/user-file.tmp")), list(at("out/*")));
  }

  @Test
  void fileUrisListAsFileUris() throws IOException {
    touch("req/a.jsonl", "req/b.jsonl");
    String base = dir.toUri().toString();
    assertEquals(
        List.of(base + "req/a.jsonl", base + "req/b.jsonl"), list(base + "req/{a,b}.jsonl"));
    assertEquals("req/a.jsonl", new String(store.readAllBytes(base + "req/a.jsonl"), UTF_8));
    assertTrue(store.exists(base + "req/b.jsonl"));
  }

  @Test
  void checkAccessForReadAndWrite() throws IOException {
    touch("models/m/manifest.json");
    store.checkAccess(at("models/m/manifest.json"), false);
    store.checkAccess(at("requests/*.jsonl"), false);
    assertThrows(
        FileNotFoundException.class, () -> store.checkAccess(at("models/m/nope.json"), false));

    store.checkAccess(at("new/output"), true);
    assertFalse(Files.exists(dir.resolve("new")), "the check creates nothing");
    store.checkAccess(at("models"), true);
    assertThrows(
        NotDirectoryException.class, () -> store.checkAccess(at("models/m/manifest.json"), true));
    assertThrows(
        NotDirectoryException.class,
        () -> store.checkAccess(at("models/m/manifest.json/out"), true));
  }

  @Test
  void checkAccessForWriteRejectsReadOnlyDirectories() throws IOException {
    Path readOnly = Files.createDirectory(dir.resolve("ro"));
    Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      Assumptions.assumeFalse(Files.isWritable(readOnly), "running as a user that ignores modes");
      assertThrows(AccessDeniedException.class, () -> store.checkAccess(readOnly.toString(), true));
    } finally {
      Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }
}
