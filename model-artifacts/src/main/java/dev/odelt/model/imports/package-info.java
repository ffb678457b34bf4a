/**
 * Importers of outside formats into model packages, one class per format: {@link
 * dev.odelt.model.imports.PickleReader} (a safe, streaming reader of Python pickles), {@link
 * dev.odelt.model.imports.CheckpointImporter} (the paper's Flax checkpoints) and {@link
 * dev.odelt.model.imports.ImageNetLabels} (the reference's class-name file). Beam-free.
 */
package dev.odelt.model.imports;
