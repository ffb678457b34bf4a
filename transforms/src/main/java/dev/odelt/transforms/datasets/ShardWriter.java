package dev.odelt.transforms.datasets;

import java.io.IOException;

/**
 * Writes one shard of one format to a stream, a sample at a time (img2dataset's writer shape: open
 * a shard, write samples, close). Nothing of a shard is held in memory beyond the sample being
 * written (Parquet: one row group of a few hundred rows). The bytes are a pure function of the
 * samples in order: no time, user or host of the run.
 */
public interface ShardWriter {

  /** Appends one sample. */
  void write(Sample sample) throws IOException;

  /**
   * Writes the format's trailer (tar end blocks, Parquet footer) and flushes; does not close the
   * underlying stream.
   */
  void finish() throws IOException;
}
