/**
 * Model packages on any object store: a proto3-JSON {@code manifest.json} beside a safetensors
 * weights file, with a verifying reader (size, sha256, tensor names and shapes) and a writer; the
 * same for VAE decoder packages, and the importer of diffusers AutoencoderKL folders.
 */
package dev.odelt.model.io;
