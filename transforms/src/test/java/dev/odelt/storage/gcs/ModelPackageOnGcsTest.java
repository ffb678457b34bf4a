package dev.odelt.storage.gcs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.ModelPackage;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.testing.TestModels;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --model=gs://…}: a model package read from Cloud Storage equals the local one. */
class ModelPackageOnGcsTest {

  private static final String MODEL = "gs://odelt-models/tiny/v1";

  @TempDir Path dir;

  private GcsObjectStore store;
  private ObjectStore previous;

  @BeforeEach
  void installInMemoryGcs() {
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

  private void upload(Path local, String file) throws IOException {
    store.write(
        ObjectStore.resolve(MODEL, file),
        Files.readAllBytes(local.resolve(file)),
        file.endsWith(".json") ? "application/json" : "application/octet-stream",
        Map.of());
  }

  @Test
  void readsTheSamePackageFromABucket() throws IOException {
    String localManifest = TestModels.writeRandomPackage(dir, TestModels.TINY, 5);
    upload(dir, ModelPackages.MANIFEST);
    upload(dir, ModelPackages.WEIGHTS);

    ModelPackage local = ModelPackages.read(localManifest);
    ModelPackage remote = ModelPackages.read(MODEL);
    assertEquals(MODEL + "/" + ModelPackages.MANIFEST, remote.location());
    assertEquals(local.manifest(), remote.manifest());
    assertEquals(local.config(), remote.config());
    assertEquals(local.tensors(), remote.tensors());

    store.checkAccess(ModelPackages.manifestLocation(MODEL), false);
  }

  @Test
  void aMissingWeightsObjectIsAClearModelError() throws IOException {
    TestModels.writeRandomPackage(dir, TestModels.TINY, 5);
    upload(dir, ModelPackages.MANIFEST);
    InvalidModelPackageException e =
        assertThrows(InvalidModelPackageException.class, () -> ModelPackages.read(MODEL));
    assertTrue(e.getMessage().contains(MODEL + "/" + ModelPackages.WEIGHTS), e.getMessage());
  }
}
