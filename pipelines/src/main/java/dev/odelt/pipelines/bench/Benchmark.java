package dev.odelt.pipelines.bench;

/** One benchmark of the performance report. Implementations are stateless. */
public interface Benchmark {

  /** Stable key, e.g. {@code tier-scaling}; also the prefix of its plot files. */
  String id();

  /** Runs the measurement and returns its section of the report. */
  Section run(BenchContext context) throws Exception;
}
