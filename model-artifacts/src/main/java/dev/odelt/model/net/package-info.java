/**
 * The ODE_t(ODE_l) transformer as DJL blocks: patch embedding with fixed 2-D sin-cos positions,
 * time / step-level / label / block-count conditioning, adaLN-zero DiT blocks in the rewired group
 * loop (the inner, length ODE), and the final layer. Knows nothing about solvers or tiers.
 */
package dev.odelt.model.net;
