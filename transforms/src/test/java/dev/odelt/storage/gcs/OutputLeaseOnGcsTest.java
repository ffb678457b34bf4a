package dev.odelt.storage.gcs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import dev.odelt.transforms.io.OutputLeaseCases;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The output lease on {@code gs://} (Google's in-memory service): the conditional writes it rests
 * on (create only if absent, replace and delete only from a known generation) are enforced by the
 * in-memory service as by Cloud Storage, and the lease cases of the local test hold on a bucket.
 */
class OutputLeaseOnGcsTest {

  private static final String OUTPUT = "gs://odelt-out/runs/r1";

  private ObjectStore previous;
  private GcsObjectStore store;

  @BeforeEach
  void register() {
    store = GcsObjectStore.using(new InMemoryGcs().storage());
    previous = ObjectStores.register(store);
  }

  @AfterEach
  void restore() {
    if (previous != null) {
      ObjectStores.register(previous);
    } else {
      ObjectStores.unregister("gs");
    }
  }

  @Test
  void generationPreconditionsAreEnforced() throws Exception {
    String at = OUTPUT + "/x.json";
    Optional<String> created = store.writeIfGeneration(at, "a".getBytes(UTF_8), null);
    assertTrue(created.isPresent());
    assertEquals(
        Optional.empty(),
        store.writeIfGeneration(at, "b".getBytes(UTF_8), null),
        "create-if-absent fails on an existing object");
    Optional<String> replaced = store.writeIfGeneration(at, "c".getBytes(UTF_8), created.get());
    assertTrue(replaced.isPresent());
    assertFalse(replaced.get().equals(created.get()), "a write makes a new generation");
    assertEquals(
        Optional.empty(),
        store.writeIfGeneration(at, "d".getBytes(UTF_8), created.get()),
        "a replace from an old generation fails");
    assertFalse(store.deleteIfGeneration(at, created.get()));
    ObjectStore.Versioned now = store.readVersioned(at).orElseThrow();
    assertEquals("c", new String(now.bytes(), UTF_8));
    assertEquals(replaced.get(), now.generation());
    assertTrue(store.deleteIfGeneration(at, replaced.get()));
    assertEquals(Optional.empty(), store.readVersioned(at));
  }

  @Test
  void secondJobIsRefusedUntilTheLeaseIsReleased() throws Exception {
    OutputLeaseCases.secondJobIsRefusedUntilTheLeaseIsReleased(OUTPUT);
  }

  @Test
  void staleLeaseIsTakenOverAndItsHolderLosesIt() throws Exception {
    OutputLeaseCases.staleLeaseIsTakenOverAndItsHolderLosesIt(OUTPUT);
  }

  @Test
  void twoJobsTakingOverAtOnceOneWins() throws Exception {
    OutputLeaseCases.twoJobsTakingOverAtOnceOneWins(OUTPUT);
  }
}
