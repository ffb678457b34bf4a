package dev.odelt.pipelines;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Flink configuration of an embedded run: every stage at the job's parallelism.
 *
 * <p>Why: Flink 1.19 runs batch jobs with its adaptive batch scheduler, which sizes each stage by
 * the bytes it reads (16 MiB per subtask by default). This job reads few bytes and computes a lot,
 * so on embedded Flink the generation stage of any run under roughly 100,000 images ran on one
 * thread however many cores there were (seen as "(1/1)" in its task name: the examples' 45 images
 * and a 3,000-image mixed run both used one of two cores). Setting the scheduler's minimum
 * parallelism to the job's parallelism makes generation use every slot, as {@code
 * deploy/local-cluster.sh} and the Kubernetes deployments already do for clusters.
 *
 * <p>The embedded cluster's slots are set too. Without them Flink sizes its mini cluster by the job
 * graph's largest parallelism, which the adaptive scheduler leaves undecided, and started one slot:
 * the two generation subtasks then ran one after the other (thread dumps of a 30,000-request run
 * show one generation thread at a time, {@code (1/2)} and later {@code (2/2)}), 975 images/s; with
 * two slots they run together, 1,560 images/s (deploy/README.md, "Scale runs").
 *
 * <p>Beam's Flink runner reads an embedded cluster's configuration only from a directory ({@code
 * --flinkConfDir}, else {@code FLINK_CONF_DIR}); when the user gave neither, the job writes this
 * one into a temporary directory removed when the JVM exits. A user's own directory is used as it
 * is.
 */
final class EmbeddedFlinkConf {

  private EmbeddedFlinkConf() {}

  /** The {@code config.yaml} text for {@code parallelism} slots. */
  static String text(int parallelism) {
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be >= 1, got " + parallelism);
    }
    return "# Written by odelt-beam for embedded Flink (EmbeddedFlinkConf): every stage uses all"
        + " slots.\n"
        + "parallelism.default: "
        + parallelism
        + "\n"
        + "execution.batch.adaptive.auto-parallelism.min-parallelism: "
        + parallelism
        + "\n"
        + "taskmanager.numberOfTaskSlots: "
        + parallelism
        + "\n";
  }

  /** Writes the configuration into a new temporary directory and returns the directory. */
  static Path write(int parallelism) throws IOException {
    Path dir = Files.createTempDirectory("odelt-flink-conf-");
    dir.toFile().deleteOnExit();
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, text(parallelism), StandardCharsets.UTF_8);
    // deleteOnExit runs in reverse order of registration: the file goes before its directory.
    file.toFile().deleteOnExit();
    return dir;
  }
}
