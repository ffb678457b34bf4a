package dev.odelt.model.sample;

import java.util.List;

/**
 * The images of one sampler call, in the order of the items, and the call's cost.
 *
 * @param images one per item
 * @param stats the call's cost
 */
public record SampleBatch(List<GeneratedImage> images, SampleStats stats) {

  public SampleBatch {
    images = List.copyOf(images);
  }
}
