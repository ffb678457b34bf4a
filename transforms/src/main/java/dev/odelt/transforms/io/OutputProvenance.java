package dev.odelt.transforms.io;

import com.google.protobuf.util.JsonFormat;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.storage.ObjectStore;
import dev.odelt.storage.ObjectStores;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What an existing output was made with, and the check {@code --resume} runs before it writes: the
 * provenance in the output's {@code run.json} (the last run that finished there) or, when there is
 * none (a first run that never finished), in the metadata of the first images found under {@code
 * images/}. An output made with another model digest, decoder digest or precision is refused
 * ({@link OutputConflictException}), since its images and the new ones would not be one dataset.
 */
public final class OutputProvenance {

  /** Images whose metadata is read when the output has no {@code run.json}. */
  static final int IMAGES_SAMPLED = 3;

  private OutputProvenance() {}

  /**
   * The provenance the output was made with, and where it was read ({@code run.json} or an image);
   * empty when the output holds neither, or only images without provenance metadata.
   */
  public static Optional<Found> madeWith(String output) throws IOException {
    String runJson = OutputLayout.location(output, OutputLayout.RUN_JSON);
    ObjectStore store = ObjectStores.forLocation(runJson);
    byte[] bytes;
    try {
      bytes = store.readAllBytes(runJson);
    } catch (FileNotFoundException | NoSuchFileException e) {
      bytes = null;
    }
    if (bytes != null) {
      RunSummary.Builder run = RunSummary.newBuilder();
      JsonFormat.parser()
          .ignoringUnknownFields()
          .merge(new String(bytes, StandardCharsets.UTF_8), run);
      return Optional.of(new Found(ImageProvenance.of(run.build()), runJson));
    }
    try (Stream<String> images = store.list(ObjectStore.resolve(output, "images/**.png"))) {
      Iterator<String> it = images.iterator();
      for (int i = 0; i < IMAGES_SAMPLED && it.hasNext(); i++) {
        String image = it.next();
        Optional<ObjectStore.Stat> stat = store.stat(image);
        if (stat.isPresent()) {
          Optional<ImageProvenance> made = ImageProvenance.fromMetadata(stat.get().metadata());
          if (made.isPresent()) {
            return Optional.of(new Found(made.get(), image));
          }
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Refuses to resume into {@code output} when it was made with another model digest, decoder
   * digest or precision than {@code current}. Reads only; writes nothing.
   *
   * @throws OutputConflictException naming both sides and what to do
   */
  public static void checkResume(String output, ImageProvenance current)
      throws IOException, OutputConflictException {
    Optional<Found> found = madeWith(output);
    if (found.isEmpty()) {
      return;
    }
    List<String> conflicts = current.conflicts(found.get().provenance());
    if (conflicts.isEmpty()) {
      return;
    }
    throw new OutputConflictException(
        "--resume: "
            + output
            + " was made with "
            + found.get().provenance().describe()
            + " (read from "
            + found.get().where()
            + "), this run would use "
            + current.describe()
            + ": "
            + String.join("; ", conflicts)
            + ". Nothing was written. Its images and this run's would not be one dataset: write"
            + " to a new --output, or resume with the --model and --precision that made it.");
  }

  /** Provenance read from an output, and the object it was read from. */
  public record Found(ImageProvenance provenance, String where) {}
}
