/**
 * The hostile-input suite's runner: many generated bad files through the command line in one JVM,
 * each with a time limit, checking for a clean refusal.
 */
package dev.odelt.pipelines.fuzz;
