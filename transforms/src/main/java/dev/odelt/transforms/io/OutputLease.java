package dev.odelt.transforms.io;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job per output at a time: {@value #LEASE_JSON} under the output, created only if absent (a
 * GCS generation-match precondition on {@code gs://}, a compare-and-replace under an exclusive file
 * lock locally: {@link ObjectStore#writeIfGeneration}), holding the run id, host, start and the
 * time of its last refresh. The holder refreshes it while it runs ({@link #keepRefreshed}) and
 * removes it at the end ({@link #close}), also when the job fails.
 *
 * <p>A second job finds the lease and stops ({@link OutputConflictException} naming the holder),
 * unless the lease was not refreshed for the stale time: its holder is taken to be dead (killed,
 * its machine lost) and the lease is taken over, with a warning. The take-over is the same
 * conditional write, from the stale lease's generation, so of two jobs taking over at once exactly
 * one wins. Staleness compares the lease's recorded refresh time with this machine's clock (the
 * hosts' clocks must agree to well within the stale time), against the longer of this job's stale
 * time and the holder's (recorded in the lease), so a job started with a short stale time does not
 * take the lease of one that refreshes by a longer one.
 *
 * <p>A holder whose lease was taken over (it stalled longer than the stale time) learns it at its
 * next refresh: it logs an error, stops refreshing and leaves the new holder's lease in place.
 */
public final class OutputLease implements AutoCloseable {

  /** The lease's name under the output. */
  public static final String LEASE_JSON = "lease.json";

  /** The default stale time: longer than a Flink region restart (seconds to a few minutes). */
  public static final Duration DEFAULT_STALE = Duration.ofMinutes(10);

  private static final Logger LOG = LoggerFactory.getLogger(OutputLease.class);

  private final ObjectStore store;
  private final String location;
  private final Holder holder;
  private final Clock clock;
  private final Optional<Holder> tookOverFrom;
  private String generation;
  private boolean lost;
  private ScheduledExecutorService refresher;

  private OutputLease(
      ObjectStore store,
      String location,
      Holder holder,
      Clock clock,
      String generation,
      Optional<Holder> tookOverFrom) {
    this.store = store;
    this.location = location;
    this.holder = holder;
    this.clock = clock;
    this.generation = generation;
    this.tookOverFrom = tookOverFrom;
  }

  /** Who holds a lease, since when, and when it was last refreshed. */
  public record Holder(
      String runId, String host, Instant started, Instant refreshed, Duration stale) {

    String toJson() {
      JsonObject o = new JsonObject();
      o.addProperty("run_id", runId);
      o.addProperty("host", host);
      o.addProperty("started", started.toString());
      o.addProperty("refreshed", refreshed.toString());
      o.addProperty("stale_seconds", stale.toSeconds());
      return o + "\n";
    }

    static Optional<Holder> parse(byte[] json) {
      try {
        JsonObject o =
            JsonParser.parseString(new String(json, StandardCharsets.UTF_8)).getAsJsonObject();
        return Optional.of(
            new Holder(
                o.get("run_id").getAsString(),
                o.get("host").getAsString(),
                Instant.parse(o.get("started").getAsString()),
                Instant.parse(o.get("refreshed").getAsString()),
                Duration.ofSeconds(
                    o.has("stale_seconds") ? o.get("stale_seconds").getAsLong() : 0)));
      } catch (JsonParseException
          | IllegalStateException
          | NullPointerException
          | NumberFormatException
          | UnsupportedOperationException
          | DateTimeParseException e) {
        return Optional.empty();
      }
    }

    /** {@code run 1f2e… on host-a, started …, last refreshed …}. */
    public String describe() {
      return "run "
          + runId
          + " on "
          + host
          + " (started "
          + started
          + ", last refreshed "
          + refreshed
          + ")";
    }
  }

  /**
   * Takes the lease on {@code output} for run {@code runId} on {@code host}.
   *
   * @param stale how long an unrefreshed lease is honoured
   * @throws OutputConflictException another job holds a lease refreshed within {@code stale}
   * @throws IOException the store failed
   */
  public static OutputLease acquire(
      String output, String runId, String host, Duration stale, Clock clock)
      throws IOException, OutputConflictException {
    if (stale.isNegative() || stale.isZero()) {
      throw new IllegalArgumentException("the stale time must be > 0, got " + stale);
    }
    String location = OutputLayout.location(output, LEASE_JSON);
    ObjectStore store = ObjectStores.forLocation(location);
    Instant now = clock.instant();
    Holder me = new Holder(runId, host, now, now, stale);
    byte[] mine = me.toJson().getBytes(StandardCharsets.UTF_8);
    // A lost race (the lease appeared or changed between our read and write) is read again: the
    // winner is then named, or is itself stale.
    for (int attempt = 0; attempt < 3; attempt++) {
      Optional<ObjectStore.Versioned> existing = store.readVersioned(location);
      if (existing.isEmpty()) {
        Optional<String> created = store.writeIfGeneration(location, mine, null);
        if (created.isPresent()) {
          return new OutputLease(store, location, me, clock, created.get(), Optional.empty());
        }
        continue;
      }
      Optional<Holder> other = Holder.parse(existing.get().bytes());
      if (other.isPresent()) {
        // The holder refreshes by its own stale time: honour the longer of the two.
        Duration honoured = other.get().stale().compareTo(stale) > 0 ? other.get().stale() : stale;
        Duration silent = Duration.between(other.get().refreshed(), clock.instant());
        if (silent.compareTo(honoured) < 0) {
          throw new OutputConflictException(
              output
                  + " is in use by "
                  + other.get().describe()
                  + " (lease "
                  + location
                  + "). One job per output at a time: wait for it to end, or write to another"
                  + " --output. A lease not refreshed for "
                  + honoured.toSeconds()
                  + " s (the longer of both jobs' --leaseStaleSeconds) is taken over.");
        }
      }
      Optional<String> taken = store.writeIfGeneration(location, mine, existing.get().generation());
      if (taken.isPresent()) {
        LOG.warn(
            "Took over the stale lease {} of {}: not refreshed for more than {} s; that job is"
                + " taken to be dead",
            location,
            other.map(Holder::describe).orElse("an unreadable holder"),
            stale.toSeconds());
        return new OutputLease(store, location, me, clock, taken.get(), other);
      }
    }
    throw new OutputConflictException(
        output + ": other jobs keep taking its lease " + location + "; try again later");
  }

  /** The holder a stale lease was taken over from; empty when the lease was free. */
  public Optional<Holder> tookOverFrom() {
    return tookOverFrom;
  }

  /** Where the lease lives. */
  public String location() {
    return location;
  }

  /**
   * Writes a new refresh time if this job still holds the lease; false (and an error logged once)
   * when another job took it over.
   */
  public synchronized boolean refresh() throws IOException {
    if (lost) {
      return false;
    }
    Holder now =
        new Holder(
            holder.runId(), holder.host(), holder.started(), clock.instant(), holder.stale());
    Optional<String> next =
        store.writeIfGeneration(
            location, now.toJson().getBytes(StandardCharsets.UTF_8), generation);
    if (next.isEmpty()) {
      lost = true;
      LOG.error(
          "The lease {} was taken over by another job (this one was not heard of for longer than"
              + " the stale time): two jobs may now write this output",
          location);
      return false;
    }
    generation = next.get();
    return true;
  }

  /** Refreshes every {@code every} on a daemon thread until {@link #close}. */
  public synchronized OutputLease keepRefreshed(Duration every) {
    if (refresher != null) {
      throw new IllegalStateException("already refreshing");
    }
    refresher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "odelt-lease-refresh");
              t.setDaemon(true);
              return t;
            });
    long millis = Math.max(1, every.toMillis());
    refresher.scheduleWithFixedDelay(this::refreshLogged, millis, millis, TimeUnit.MILLISECONDS);
    return this;
  }

  private void refreshLogged() {
    try {
      if (!refresh()) {
        refresher.shutdown();
      }
    } catch (IOException | RuntimeException e) {
      // A store hiccup: the next refresh tries again, long before the lease goes stale.
      LOG.warn("Cannot refresh the lease {}: {}", location, e.toString());
    }
  }

  /** Stops refreshing and removes the lease, unless another job took it over. */
  @Override
  public synchronized void close() {
    if (refresher != null) {
      refresher.shutdownNow();
    }
    if (lost) {
      return;
    }
    try {
      if (!store.deleteIfGeneration(location, generation)) {
        LOG.warn("The lease {} was taken over by another job; left in place", location);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot remove the lease " + location, e);
    }
  }
}
