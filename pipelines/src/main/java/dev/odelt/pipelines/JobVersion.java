package dev.odelt.pipelines;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The job's version as recorded in {@code run.json} and every image record: the Maven project
 * version, written into {@code dev/odelt/pipelines/version.properties} when the module is built
 * (resource filtering), so it is the same from the jar and from the build's classes.
 */
public final class JobVersion {

  private static final String RESOURCE = "version.properties";

  private JobVersion() {}

  /** The version, e.g. {@code 0.1.0-SNAPSHOT}; {@code unknown} when the resource is missing. */
  public static String get() {
    try (InputStream in = JobVersion.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      String version = p.getProperty("version", "").trim();
      return version.isEmpty() || version.startsWith("${") ? "unknown" : version;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + RESOURCE + " from the job's classes", e);
    }
  }
}
