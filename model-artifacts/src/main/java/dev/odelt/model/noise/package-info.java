/**
 * Initial noise for sampling: a counter-based generator (Philox4x32-10 with Box–Muller) that gives
 * every seed its own standard-normal tensor, independent of batch, thread and device.
 */
package dev.odelt.model.noise;
