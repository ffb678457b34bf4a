package dev.odelt.transforms.io;

import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.beam.sdk.util.BackOff;
import org.apache.beam.sdk.util.BackOffUtils;
import org.apache.beam.sdk.util.FluentBackoff;
import org.apache.beam.sdk.util.Sleeper;
import org.joda.time.Duration;

/**
 * An {@link ObjectStore} that retries a failed operation a bounded number of times with exponential
 * backoff before it throws, so that a transient storage fault costs a DoFn a few seconds instead of
 * a task failure, which restarts a whole Flink region. What retrying cannot fix is thrown at once:
 * a missing object ({@link FileNotFoundException}, {@link NoSuchFileException}) and a denied
 * permission ({@link AccessDeniedException}). After the last attempt the last fault is thrown, with
 * the number of attempts in a suppressed exception. Every operation it retries is idempotent
 * (writes are whole and atomic).
 */
public final class RetryingStore implements ObjectStore {

  /** Attempts per operation by default (the first try and four retries). */
  public static final int DEFAULT_ATTEMPTS = 5;

  private static final Duration INITIAL_BACKOFF = Duration.millis(200);
  private static final Duration MAX_BACKOFF = Duration.standardSeconds(10);

  private final ObjectStore store;
  private final int attempts;
  private final Sleeper sleeper;

  private RetryingStore(ObjectStore store, int attempts, Sleeper sleeper) {
    this.store = store;
    this.attempts = attempts;
    this.sleeper = sleeper;
  }

  /** The store for a location, retrying {@value #DEFAULT_ATTEMPTS} times. */
  public static ObjectStore forLocation(String location) {
    return of(ObjectStores.forLocation(location), DEFAULT_ATTEMPTS, Sleeper.DEFAULT);
  }

  /**
   * Wraps {@code store}; {@code attempts} >= 1 tries per operation, waiting with {@code sleeper}.
   */
  public static RetryingStore of(ObjectStore store, int attempts, Sleeper sleeper) {
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be >= 1, got " + attempts);
    }
    return new RetryingStore(store, attempts, sleeper);
  }

  /** One storage operation. */
  @FunctionalInterface
  interface Operation<T> {
    T run() throws IOException;
  }

  <T> T retry(String what, String location, Operation<T> operation) throws IOException {
    BackOff backoff =
        FluentBackoff.DEFAULT
            .withMaxRetries(attempts - 1)
            .withInitialBackoff(INITIAL_BACKOFF)
            .withMaxBackoff(MAX_BACKOFF)
            .backoff();
    int attempt = 0;
    while (true) {
      attempt++;
      try {
        return operation.run();
      } catch (FileNotFoundException | NoSuchFileException | AccessDeniedException e) {
        throw e;
      } catch (IOException e) {
        boolean again;
        try {
          again = BackOffUtils.next(sleeper, backoff);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          InterruptedIOException stop =
              new InterruptedIOException("interrupted while retrying to " + what + " " + location);
          stop.initCause(e);
          throw stop;
        }
        if (!again) {
          e.addSuppressed(
              new IOException(
                  "gave up after " + attempt + " attempt(s) to " + what + " " + location));
          throw e;
        }
      }
    }
  }

  @Override
  public String scheme() {
    return store.scheme();
  }

  @Override
  public InputStream open(String location) throws IOException {
    return retry("open", location, () -> store.open(location));
  }

  @Override
  public byte[] readAllBytes(String location) throws IOException {
    return retry("read", location, () -> store.readAllBytes(location));
  }

  @Override
  public void write(String location, byte[] bytes, String contentType, Map<String, String> metadata)
      throws IOException {
    retry(
        "write",
        location,
        () -> {
          store.write(location, bytes, contentType, metadata);
          return null;
        });
  }

  /** Opening is retried; a failure while streaming is not (the caller's bundle is). */
  @Override
  public Upload upload(String location, String contentType, Map<String, String> metadata)
      throws IOException {
    return retry("write", location, () -> store.upload(location, contentType, metadata));
  }

  @Override
  public boolean exists(String location) throws IOException {
    return retry("check", location, () -> store.exists(location));
  }

  @Override
  public Optional<Instant> lastModified(String location) throws IOException {
    return retry("check", location, () -> store.lastModified(location));
  }

  @Override
  public Optional<Stat> stat(String location) throws IOException {
    return retry("check", location, () -> store.stat(location));
  }

  @Override
  public Stream<String> list(String glob) throws IOException {
    return retry("list", glob, () -> store.list(glob));
  }

  @Override
  public void checkAccess(String location, boolean forWrite) throws IOException {
    store.checkAccess(location, forWrite);
  }
}
