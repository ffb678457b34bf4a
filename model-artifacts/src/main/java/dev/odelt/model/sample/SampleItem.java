package dev.odelt.model.sample;

/**
 * One image to generate: its class and the seed of its initial noise. The image depends only on
 * this item, the tier and the model.
 *
 * @param classId a class of the model, 0 ≤ classId &lt; num_classes, or num_classes (the null
 *     label: an unconditional sample, the only kind an unconditional model makes)
 * @param seed keys the initial noise ({@link dev.odelt.model.noise.GaussianNoise})
 */
public record SampleItem(int classId, long seed) {}
