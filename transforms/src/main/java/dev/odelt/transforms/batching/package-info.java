/** Batching: image tasks grouped into device batches of one tier, spread over sharded keys. */
package dev.odelt.transforms.batching;
