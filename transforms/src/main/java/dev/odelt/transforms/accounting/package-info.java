/**
 * Cost accounting: per-tier and per-request totals from batch statistics and image records, the run
 * summary, and the console progress of this JVM.
 */
package dev.odelt.transforms.accounting;
