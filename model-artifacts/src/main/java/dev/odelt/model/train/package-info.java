/**
 * The ODE_t(ODE_l) trainer on DJL autograd: flow matching at the finest step level, time
 * self-consistency and length consistency against an EMA teacher, label dropout for guidance,
 * AdamW with warm-up, checkpoints that resume bit-for-bit, and a model package at the end.
 */
package dev.odelt.model.train;
