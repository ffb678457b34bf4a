package dev.odelt.transforms.datasets;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * A WebDataset shard: a POSIX tar whose members are grouped into samples by the name up to the
 * first dot, each sample's members adjacent: {@code <key>.png}, {@code <key>.cls} (class id as
 * ASCII digits; absent for an unconditional model), {@code <key>.txt} (the prompt, or the class
 * label) and {@code <key>.json} (the image record without its run-specific costs). Headers carry a
 * fixed time (the epoch), uid/gid 0, no user or group names and mode 0644, so the same samples give
 * the same bytes on every run and host.
 */
final class WebDatasetWriter implements ShardWriter {

  private final TarArchiveOutputStream tar;
  private final boolean conditional;

  WebDatasetWriter(OutputStream out, DatasetFeatures features) {
    this.tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
    // PAX headers for long names and large numbers: POSIX, and only where needed.
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    tar.setAddPaxHeadersForNonAsciiNames(true);
    this.conditional = features.conditional();
  }

  @Override
  public void write(Sample sample) throws IOException {
    member(sample.key() + ".png", sample.png());
    if (conditional && sample.record().hasClassId()) {
      member(
          sample.key() + ".cls",
          Integer.toString(sample.record().getClassId()).getBytes(StandardCharsets.US_ASCII));
    }
    member(sample.key() + ".txt", sample.text().getBytes(StandardCharsets.UTF_8));
    member(sample.key() + ".json", SampleRecords.json(sample.record()));
  }

  private void member(String name, byte[] bytes) throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name, true);
    entry.setSize(bytes.length);
    entry.setModTime(0L);
    entry.setIds(0, 0);
    entry.setUserName("");
    entry.setGroupName("");
    entry.setMode(TarArchiveEntry.DEFAULT_FILE_MODE);
    tar.putArchiveEntry(entry);
    tar.write(bytes);
    tar.closeArchiveEntry();
  }

  @Override
  public void finish() throws IOException {
    tar.finish();
    tar.flush();
  }
}
