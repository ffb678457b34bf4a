package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.storage.LocalObjectStore;
import dev.odelt.storage.ObjectStore;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetryingStoreTest {

  @TempDir Path dir;

  /** A local store whose writes and reads fail the first {@code failures} times. */
  static final class FlakyStore implements ObjectStore {
    private final ObjectStore real = new LocalObjectStore();
    private int failures;
    int calls;

    FlakyStore(int failures) {
      this.failures = failures;
    }

    private void maybeFail(String location) throws IOException {
      calls++;
      if (failures > 0) {
        failures--;
        throw new IOException("transient fault at " + location);
      }
    }

    @Override
    public String scheme() {
      return real.scheme();
    }

    @Override
    public InputStream open(String location) throws IOException {
      maybeFail(location);
      return real.open(location);
    }

    @Override
    public void write(String location, byte[] bytes, String type, Map<String, String> metadata)
        throws IOException {
      maybeFail(location);
      real.write(location, bytes, type, metadata);
    }

    @Override
    public boolean exists(String location) throws IOException {
      maybeFail(location);
      return real.exists(location);
    }

    @Override
    public Stream<String> list(String glob) throws IOException {
      maybeFail(glob);
      return real.list(glob);
    }
  }

  @Test
  void transientFaultsAreRetriedWithBackoff() throws IOException {
    FlakyStore flaky = new FlakyStore(3);
    List<Long> sleeps = new ArrayList<>();
    ObjectStore store = RetryingStore.of(flaky, 5, sleeps::add);
    String location = dir.resolve("a.bin").toString();
    store.write(location, new byte[] {1, 2, 3});
    assertEquals(4, flaky.calls);
    assertEquals(3, sleeps.size());
    assertTrue(sleeps.get(2) > 0, sleeps.toString());
    assertArrayEquals(new byte[] {1, 2, 3}, store.readAllBytes(location));
  }

  @Test
  void persistentFaultsAreThrownAfterTheLastAttempt() {
    FlakyStore flaky = new FlakyStore(100);
    ObjectStore store = RetryingStore.of(flaky, 3, millis -> {});
    IOException e =
        assertThrows(IOException.class, () -> store.exists(dir.resolve("x").toString()));
    assertEquals(3, flaky.calls);
    assertTrue(e.getSuppressed()[0].getMessage().contains("gave up after 3 attempt(s)"));
  }

  @Test
  void missingObjectsAreNotRetried() {
    FlakyStore flaky = new FlakyStore(0);
    ObjectStore store = RetryingStore.of(flaky, 5, millis -> {});
    assertThrows(
        FileNotFoundException.class, () -> store.readAllBytes(dir.resolve("none").toString()));
    assertEquals(1, flaky.calls);
  }

  @Test
  void attemptsMustBePositive() {
    assertThrows(
        IllegalArgumentException.class,
        () -> RetryingStore.of(new LocalObjectStore(), 0, millis -> {}));
  }
}
