package dev.odelt.model.imports;

import dev.odelt.model.ModelConfig;
import dev.odelt.proto.v1.ModelManifest;
import java.nio.file.Path;

/**
 * What {@link CheckpointImporter#importCheckpoint} wrote.
 *
 * @param output the package directory
 * @param manifestFile its {@code manifest.json}
 * @param manifest the manifest as written (architecture, weights sha256 and size filled in)
 * @param config the architecture
 * @param sourceSha256 lowercase hex SHA-256 of the checkpoint file
 * @param weights the slot imported
 * @param step the checkpoint's training step, or -1 when it records none
 * @param tensors tensors written
 * @param parameters scalar parameters written
 */
public record ImportResult(
    Path output,
    Path manifestFile,
    ModelManifest manifest,
    ModelConfig config,
    String sourceSha256,
    ImportOptions.Weights weights,
    long step,
    int tensors,
    long parameters) {}
