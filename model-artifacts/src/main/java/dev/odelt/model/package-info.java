/**
 * The ODE_t(ODE_l) model library (arXiv 2506.21714), Beam-free: configuration, tiers, loaded
 * models and the sampler entry points. Sub-packages hold the network, solvers, noise, weights I/O,
 * the trainer and evaluation.
 */
package dev.odelt.model;
