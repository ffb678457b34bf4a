/**
 * Evaluation of generated digits: a small MNIST classifier whose accuracy and penultimate-layer
 * Fréchet distance to held-out real digits measure each cost tier, and the tools that train it and
 * evaluate tiers.
 */
package dev.odelt.model.eval;
