package dev.odelt.transforms.datasets;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.odelt.proto.v1.ClassLabel;
import dev.odelt.proto.v1.ModelManifest;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * What a dataset's columns hold, shared by every writer and the index: the model's class names
 * (class id = position; a class without a label in the package is named by its id) or none for an
 * unconditional model, and the Hugging Face {@code datasets} features that Parquet files carry in
 * their {@code huggingface} key-value metadata ({@code image} as {@code Image}, {@code label} as
 * {@code ClassLabel}), so that {@code load_dataset("parquet", ...)} decodes images and labels with
 * no script.
 */
public final class DatasetFeatures implements Serializable {

  private static final long serialVersionUID = 1L;

  private final List<String> classNames;
  private final boolean conditional;

  private DatasetFeatures(List<String> classNames, boolean conditional) {
    this.classNames = List.copyOf(classNames);
    this.conditional = conditional;
  }

  /** The features of a model's images. */
  public static DatasetFeatures of(ModelManifest manifest) {
    if (manifest.getUnconditional()) {
      return new DatasetFeatures(List.of(), false);
    }
    int n = Math.max(0, manifest.getArchitecture().getNumClasses());
    List<String> names = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      names.add(Integer.toString(i));
    }
    for (ClassLabel c : manifest.getClassesList()) {
      if (c.getId() >= 0 && c.getId() < n && !c.getLabel().isEmpty()) {
        names.set(c.getId(), c.getLabel());
      }
    }
    return new DatasetFeatures(names, true);
  }

  /** Class names by id; empty for an unconditional model. */
  public List<String> classNames() {
    return classNames;
  }

  /** False for an unconditional model: samples have no class ({@code label} is null). */
  public boolean conditional() {
    return conditional;
  }

  /** The {@code datasets} features of the columns, as a JSON object. */
  public JsonObject features() {
    JsonObject f = new JsonObject();
    f.add("key", value("string"));
    JsonObject image = new JsonObject();
    image.addProperty("_type", "Image");
    f.add("image", image);
    if (conditional) {
      JsonObject label = new JsonObject();
      JsonArray names = new JsonArray();
      classNames.forEach(names::add);
      label.add("names", names);
      label.addProperty("_type", "ClassLabel");
      f.add("label", label);
    } else {
      f.add("label", value("int64"));
    }
    f.add("label_name", value("string"));
    f.add("prompt", value("string"));
    f.add("request_id", value("string"));
    f.add("index", value("int64"));
    f.add("seed", value("int64"));
    f.add("tier", value("string"));
    return f;
  }

  /** The Parquet key-value metadata {@code huggingface}: {@code {"info": {"features": ...}}}. */
  public String huggingFaceMetadata() {
    JsonObject info = new JsonObject();
    info.add("features", features());
    JsonObject root = new JsonObject();
    root.add("info", info);
    return new GsonBuilder().disableHtmlEscaping().create().toJson(root);
  }

  private static JsonObject value(String dtype) {
    JsonObject v = new JsonObject();
    v.addProperty("dtype", dtype);
    v.addProperty("_type", "Value");
    return v;
  }
}
