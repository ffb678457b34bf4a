/**
 * Inference: the DoFn that runs the shared model's sampler on tier batches, splitting a batch that
 * runs the device out of memory, and the PyTorch thread settings.
 */
package dev.odelt.transforms.inference;
