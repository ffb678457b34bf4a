package dev.odelt.model.sample;

import ai.djl.ndarray.NDArray;

/**
 * Maps a latent model's samples to images (for example the Stable Diffusion VAE's decoder). The
 * {@link Sampler} knows nothing else about it: model-family specifics stay out of the sampler.
 *
 * <p>Symbols: B batch, L latent channels, h × w latent side, f the upsampling factor.
 */
public interface LatentDecoder {

  /**
   * Decodes latents as the network outputs them into raw images, about [−1, 1] (not clipped).
   * Must be thread-safe and record no autograd graph; results belong to {@code latents}' manager.
   *
   * @param latents (B, L, h, w) float32 on the sampler's device
   * @return (B, {@link #imageChannels()}, f·h, f·w)
   */
  NDArray decode(NDArray latents);

  /** L, the channels it expects: the network's channels. */
  int latentChannels();

  /** Channels of a decoded image (3 for RGB). */
  int imageChannels();

  /** f: decoded side = f × latent side. */
  int upsampling();

  /** Identifies the decoder in records and errors, e.g. its package name, version and location. */
  String id();
}
