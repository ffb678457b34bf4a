package dev.odelt.transforms.io;

import static dev.odelt.transforms.io.OutputLeaseCases.STALE;
import static dev.odelt.transforms.io.OutputLeaseCases.T0;
import static dev.odelt.transforms.io.OutputLeaseCases.at;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The output lease on local files: one holder at a time, the second job told who holds it, a stale
 * lease taken over (once, by one of two racing jobs), refresh and release only by the holder. The
 * same cases on {@code gs://} are in {@code dev.odelt.storage.gcs.OutputLeaseOnGcsTest}.
 */
class OutputLeaseTest {

  @TempDir Path dir;

  @Test
  void secondJobIsRefusedUntilTheLeaseIsReleased() throws Exception {
    OutputLeaseCases.secondJobIsRefusedUntilTheLeaseIsReleased(dir.resolve("out").toString());
  }

  @Test
  void staleLeaseIsTakenOverAndItsHolderLosesIt() throws Exception {
    OutputLeaseCases.staleLeaseIsTakenOverAndItsHolderLosesIt(dir.resolve("out").toString());
  }

  @Test
  void twoJobsTakingOverAtOnceOneWins() throws Exception {
    OutputLeaseCases.twoJobsTakingOverAtOnceOneWins(dir.resolve("out").toString());
  }

  @Test
  void anUnreadableLeaseCountsAsStale() throws Exception {
    Path out = Files.createDirectories(dir.resolve("out"));
    Files.writeString(out.resolve(OutputLease.LEASE_JSON), "not json");
    OutputLease lease = OutputLease.acquire(out.toString(), "run-a", "h", STALE, at(T0));
    assertTrue(lease.tookOverFrom().isEmpty());
    String json =
        new String(Files.readAllBytes(out.resolve(OutputLease.LEASE_JSON)), StandardCharsets.UTF_8);
    assertTrue(json.contains("\"run_id\":\"run-a\""), json);
    lease.close();
  }

  @Test
  void aRefreshedLeaseIsNotStale() throws Exception {
    String out = dir.resolve("out").toString();
    MutableClock clock = new MutableClock(T0);
    OutputLease lease = OutputLease.acquire(out, "run-a", "h", STALE, clock);
    clock.now = T0.plus(STALE).minusSeconds(1);
    assertTrue(lease.refresh());
    OutputConflictException refused =
        assertThrows(
            OutputConflictException.class,
            () -> OutputLease.acquire(out, "run-b", "h", STALE, at(T0.plus(STALE).plusSeconds(1))));
    assertTrue(refused.getMessage().contains("run run-a"), refused.getMessage());
    lease.close();
  }

  @Test
  void aShortStaleTimeHonoursTheHoldersLongerOne() throws Exception {
    String out = dir.resolve("out").toString();
    OutputLease held = OutputLease.acquire(out, "run-a", "h", STALE, at(T0));
    OutputConflictException refused =
        assertThrows(
            OutputConflictException.class,
            () ->
                OutputLease.acquire(
                    out, "run-b", "h", java.time.Duration.ofSeconds(5), at(T0.plusSeconds(60))));
    assertTrue(refused.getMessage().contains("run run-a"), refused.getMessage());
    held.close();
  }

  /** A clock the test moves. */
  static final class MutableClock extends Clock {
    volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
