package dev.odelt.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ObjectStoresTest {

  @Test
  void schemes() {
    assertEquals("gs", ObjectStores.schemeOf("gs://bucket/x"));
    assertEquals("file", ObjectStores.schemeOf("/tmp/x"));
    assertEquals("file", ObjectStores.schemeOf("relative/x"));
    assertEquals("file", ObjectStores.schemeOf("file:///tmp/x"));
    assertEquals("classpath", ObjectStores.schemeOf("classpath:/dev/odelt/x"));
    assertEquals("s3", ObjectStores.schemeOf("S3://bucket/x"));
  }

  @Test
  void picksBuiltInStoresAndExplainsMissingOnes() {
    assertInstanceOf(LocalObjectStore.class, ObjectStores.forLocation("/tmp/x"));
    assertInstanceOf(ClasspathObjectStore.class, ObjectStores.forLocation("classpath:/x"));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ObjectStores.forLocation("nosuch://b/x"));
    assertTrue(e.getMessage().contains("nosuch://"), e.getMessage());
  }

  @Test
  void registeredStoresReplaceAndCanBeForgotten() {
    ObjectStore mine = new LocalObjectStore();
    ObjectStore before = ObjectStores.forScheme("file");
    try {
      assertSame(before, ObjectStores.register(mine));
      assertSame(mine, ObjectStores.forLocation("/tmp/x"));
      ObjectStores.unregister("file");
      ObjectStore fresh = ObjectStores.forLocation("/tmp/x");
      assertInstanceOf(LocalObjectStore.class, fresh);
      assertNotSame(mine, fresh);
    } finally {
      ObjectStores.register(before);
    }
  }

  @Test
  void checkAccessGoesToTheStoreOfEachLocation() throws IOException {
    assertThrows(
        FileNotFoundException.class,
        () -> ObjectStores.checkAccess("classpath:/dev/odelt/Nope.class", false));
    assertThrows(IOException.class, () -> ObjectStores.checkAccess("classpath:/out", true));
    ObjectStores.checkAccess(System.getProperty("java.io.tmpdir") + "/odelt-check/out", true);
    assertThrows(
        IllegalArgumentException.class, () -> ObjectStores.checkAccess("nosuch://b/x", true));
  }

  @Test
  void resolveJoinsWithOneSlash() {
    assertEquals("gs://b/out/x.png", ObjectStore.resolve("gs://b/out", "x.png"));
    assertEquals("gs://b/out/x.png", ObjectStore.resolve("gs://b/out/", "x.png"));
  }

  @Test
  void classpathStoreReadsResourcesAndIsReadOnly() throws IOException {
    ObjectStore classpath = ObjectStores.forLocation("classpath:/x");
    String self = "classpath:/dev/odelt/storage/ObjectStoresTest.class";
    assertTrue(classpath.exists(self));
    assertTrue(classpath.readAllBytes(self).length > 0);
    assertFalse(classpath.exists("classpath:/dev/odelt/storage/Nope.class"));
    try (Stream<String> one = classpath.list(self)) {
      assertEquals(List.of(self), one.collect(Collectors.toList()));
    }
    assertThrows(IllegalArgumentException.class, () -> classpath.list("classpath:/dev/*.class"));
    assertThrows(
        FileNotFoundException.class, () -> classpath.open("classpath:/dev/odelt/Nope.class"));
    assertThrows(IOException.class, () -> classpath.write("classpath:/x", new byte[1]));
    classpath.checkAccess(self, false);
    assertThrows(
        FileNotFoundException.class,
        () -> classpath.checkAccess("classpath:/dev/odelt/Nope.class", false));
    assertThrows(IOException.class, () -> classpath.checkAccess("classpath:/x", true));
  }
}
