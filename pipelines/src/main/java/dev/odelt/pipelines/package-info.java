/**
 * The runnable generation job: {@link dev.odelt.pipelines.GenerateJob} (CLI, exit codes), its
 * {@link dev.odelt.pipelines.GenerateOptions} and the wiring in {@link
 * dev.odelt.pipelines.GeneratePipeline}.
 */
package dev.odelt.pipelines;
