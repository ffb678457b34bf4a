/**
 * The performance report ({@code BENCHMARKS.md}): each {@link dev.odelt.pipelines.bench.Benchmark}
 * measures one question side by side in one JVM run and returns a {@link
 * dev.odelt.pipelines.bench.Section}.
 */
package dev.odelt.pipelines.bench;
