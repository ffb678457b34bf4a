/**
 * Cost prediction: what one sampler call of a tier and batch size costs on the device at hand,
 * measured by short calibration solves with the real sampler (used by the job's {@code --plan}).
 */
package dev.odelt.model.cost;
