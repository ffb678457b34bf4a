package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The output lease's cases, for any output location whose store has conditional writes: run on
 * local files ({@link OutputLeaseTest}) and on {@code gs://} ({@code OutputLeaseOnGcsTest}).
 */
public final class OutputLeaseCases {

  private OutputLeaseCases() {}

  public static final Duration STALE = Duration.ofSeconds(600);
  public static final Instant T0 = Instant.parse("2026-12-08T01:00:00Z");

  static Clock at(Instant t) {
    return Clock.fixed(t, ZoneOffset.UTC);
  }

  /** The lease cases, for any output location whose store has conditional writes. */
  public static void secondJobIsRefusedUntilTheLeaseIsReleased(String output) throws Exception {
    OutputLease first = OutputLease.acquire(output, "run-a", "host-a", STALE, at(T0));
    assertTrue(first.tookOverFrom().isEmpty());
    OutputConflictException refused =
        assertThrows(
            OutputConflictException.class,
            () ->
                OutputLease.acquire(
                    output, "run-b", "host-b", STALE, at(T0.plus(Duration.ofSeconds(599)))));
    assertTrue(refused.getMessage().contains("run run-a on host-a"), refused.getMessage());
    assertTrue(refused.getMessage().contains("--output"), refused.getMessage());
    first.close();
    assertFalse(store(output).exists(OutputLayout.location(output, OutputLease.LEASE_JSON)));
    OutputLease second = OutputLease.acquire(output, "run-b", "host-b", STALE, at(T0));
    second.close();
  }

  public static void staleLeaseIsTakenOverAndItsHolderLosesIt(String output) throws Exception {
    Clock clock = at(T0);
    OutputLease dead = OutputLease.acquire(output, "run-a", "host-a", STALE, clock);
    OutputLease next = OutputLease.acquire(output, "run-b", "host-b", STALE, at(T0.plus(STALE)));
    assertEquals("run-a", next.tookOverFrom().orElseThrow().runId());
    assertFalse(dead.refresh(), "the old holder learns it lost the lease");
    dead.close();
    assertTrue(
        store(output).exists(next.location()), "the old holder leaves the new lease in place");
    assertTrue(next.refresh());
    next.close();
    assertFalse(store(output).exists(next.location()));
  }

  public static void twoJobsTakingOverAtOnceOneWins(String output) throws Exception {
    OutputLease.acquire(output, "run-dead", "host-a", STALE, at(T0));
    Clock later = at(T0.plus(STALE).plusSeconds(1));
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Optional<OutputLease>>> jobs = new ArrayList<>();
      for (String run : List.of("run-x", "run-y")) {
        Callable<Optional<OutputLease>> job =
            () -> {
              start.await();
              try {
                return Optional.of(OutputLease.acquire(output, run, "host", STALE, later));
              } catch (OutputConflictException e) {
                return Optional.empty();
              }
            };
        jobs.add(pool.submit(job));
      }
      List<OutputLease> winners = new ArrayList<>();
      for (Future<Optional<OutputLease>> job : jobs) {
        job.get().ifPresent(winners::add);
      }
      // Released only once both tried: a lease released early would be free for the other.
      winners.forEach(OutputLease::close);
      assertEquals(1, winners.size());
    } finally {
      pool.shutdownNow();
    }
  }

  static ObjectStore store(String output) {
    return ObjectStores.forLocation(output);
  }
}
