package dev.odelt.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.proto.v1.PositionLayout;
import java.util.Map;

/**
 * Training checkpoints: {@code checkpoint.ndlist} (student, EMA, AdamW moments, in the network's
 * parameter order, DJL's NDList encoding) and {@code checkpoint.json} (step, parameter count, the
 * network's position layout; checkpoints without it were trained row-first). Both
 * are written to temporary names and moved into place, JSON last, so a crash mid-write leaves the
 * previous checkpoint usable. Because every random draw derives from (seed, step), resuming from a
 * checkpoint reproduces the uninterrupted run.
 */
public final class Checkpoints {

  static final String ARRAYS = "checkpoint.ndlist";
  static final String STATE = "checkpoint.json";

  private Checkpoints() {}

  public static boolean exists(Path dir) {
    return Files.isRegularFile(dir.resolve(STATE)) && Files.isRegularFile(dir.resolve(ARRAYS));
  }

  private static List<Map<String, NDArray>> groups(Trainer trainer) {
    return List.of(
        trainer.studentArrays(),
        trainer.teacherArrays(),
        trainer.optimizer().firstMoments(),
        trainer.optimizer().secondMoments());
  }

  public static void save(Trainer trainer, Path dir) throws IOException {
    Files.createDirectories(dir);
    NDList list = new NDList();
    for (Map<String, NDArray> group : groups(trainer)) {
      list.addAll(group.values());
    }
    Path tmp = dir.resolve(ARRAYS + ".tmp");
    Files.write(tmp, list.encode());
    Files.move(tmp, dir.resolve(ARRAYS), StandardCopyOption.REPLACE_EXISTING);
    JsonObject state = new JsonObject();
    state.addProperty("step", trainer.step());
    state.addProperty("arrays", list.size());
    state.addProperty("positionLayout", trainer.student().config().positionLayout().name());
    Path tmpState = dir.resolve(STATE + ".tmp");
    Files.writeString(tmpState, new Gson().toJson(state), StandardCharsets.UTF_8);
    Files.move(tmpState, dir.resolve(STATE), StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Reads the EMA weights of a checkpoint into an empty network of the same architecture (the
   * weights that get shipped), creating arrays on {@code manager}.
   */
  public static void readTeacher(Path dir, OdeltNetwork network, NDManager manager)
      throws IOException {
    int n = network.namedParameters().size();
    NDList list = NDList.decode(manager, Files.readAllBytes(dir.resolve(ARRAYS)));
    if (list.size() != 4 * n) {
      throw new IOException(
          "Checkpoint " + dir + " holds " + list.size() + " arrays, expected " + 4 * n
              + " for this architecture");
    }
    Map<String, NDArray> arrays = new java.util.LinkedHashMap<>();
    int i = n; // group order: student, teacher (EMA), first moments, second moments
    for (String name : network.namedParameters().keySet()) {
      arrays.put(name, list.get(i++));
    }
    network.setParameters(arrays);
  }

  /**
   * The position layout the checkpoint's network was trained with: {@link
   * PositionLayout#ROW_FIRST} for checkpoints written before the layout was recorded.
   *
   * @throws IOException when the checkpoint names a layout other than ROW_FIRST or COLUMN_FIRST
   */
  public static PositionLayout positionLayoutOf(Path dir) throws IOException {
    JsonObject state = readState(dir);
    if (!state.has("positionLayout")) {
      return PositionLayout.ROW_FIRST;
    }
    String name = state.get("positionLayout").getAsString();
    if (!name.equals(PositionLayout.ROW_FIRST.name())
        && !name.equals(PositionLayout.COLUMN_FIRST.name())) {
      throw new IOException(
          "Checkpoint " + dir + " has an unknown positionLayout '" + name + "'");
    }
    return PositionLayout.valueOf(name);
  }

  /** The step a checkpoint was taken at. */
  public static int stepOf(Path dir) throws IOException {
    return readState(dir).get("step").getAsInt();
  }

  private static JsonObject readState(Path dir) throws IOException {
    return new Gson()
        .fromJson(Files.readString(dir.resolve(STATE), StandardCharsets.UTF_8), JsonObject.class);
  }

  /**
   * Restores arrays in place and the step counter; fails if the array layout or the position
   * layout does not match.
   */
  public static void load(Trainer trainer, Path dir, NDManager scratch) throws IOException {
    JsonObject state = readState(dir);
    PositionLayout trained = positionLayoutOf(dir);
    PositionLayout wanted = trainer.student().config().positionLayout();
    if (trained != wanted) {
      throw new IOException(
          "Checkpoint "
              + dir
              + " was trained with positionLayout "
              + trained
              + ", this run uses "
              + wanted
              + ": resume with --positionLayout="
              + trained);
    }
    List<NDArray> targets = new ArrayList<>();
    for (Map<String, NDArray> group : groups(trainer)) {
      targets.addAll(group.values());
    }
    try (NDManager m = scratch.newSubManager()) {
      NDList list = NDList.decode(m, Files.readAllBytes(dir.resolve(ARRAYS)));
      if (list.size() != targets.size() || state.get("arrays").getAsInt() != targets.size()) {
        throw new IOException(
            "Checkpoint " + dir + " holds " + list.size() + " arrays, this model needs "
                + targets.size() + ": different architecture?");
      }
      for (int i = 0; i < targets.size(); i++) {
        NDArray target = targets.get(i);
        NDArray source = list.get(i);
        if (!source.getShape().equals(target.getShape())) {
          throw new IOException(
              "Checkpoint " + dir + " array " + i + " has shape " + source.getShape()
                  + ", expected " + target.getShape());
        }
        target.set(source.toFloatArray());
      }
    }
    trainer.setStep(state.get("step").getAsInt());
  }
}
