/**
 * The Stable Diffusion VAE decoder (diffusers AutoencoderKL) as DJL blocks, for latent models:
 * configuration, blocks under their diffusers names, a shared per-JVM loader and the decode tool
 * logic. Inference only; knows nothing about samplers or tiers.
 */
package dev.odelt.model.vae;
