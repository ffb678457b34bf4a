/**
 * Cost accounting: per-tier and per-request totals from batch statistics and image records, the run
 * summary, the quote of a plan (predicted from calibrated batch shapes), and the console progress
 * of this JVM.
 */
package dev.odelt.transforms.accounting;
