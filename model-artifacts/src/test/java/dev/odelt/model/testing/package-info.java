/**
 * Test helpers shipped in the model-artifacts test-jar: tiny random model packages and VAE packages
 * (and diffusers folders) for tests of this and downstream modules.
 */
package dev.odelt.model.testing;
