/**
 * Test helpers shipped in the model-artifacts test-jar: tiny random model packages for tests of
 * this and downstream modules.
 */
package dev.odelt.model.testing;
