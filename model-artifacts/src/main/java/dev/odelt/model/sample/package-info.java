/**
 * Sampling: turns (class id, seed) items and a cost tier into 8-bit images with cost statistics, by
 * solving the time ODE of a loaded ODE_t(ODE_l) model from per-seed noise.
 */
package dev.odelt.model.sample;
