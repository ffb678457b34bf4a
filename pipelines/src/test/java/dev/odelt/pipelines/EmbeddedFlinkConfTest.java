package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.flink.configuration.BatchExecutionOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Embedded Flink runs every stage, generation included, at the job's parallelism. */
class EmbeddedFlinkConfTest {

  @TempDir static Path sandbox;
  static String model;
  static Path requests;

  @BeforeAll
  static void fixtures() throws Exception {
    model = JobFixtures.model(sandbox.resolve("model"));
    requests = JobFixtures.manifests(sandbox.resolve("requests"));
  }

  private static GenerateOptions options(String... more) {
    String[] base = {
      "--requests=" + requests + "/*.jsonl",
      "--output=" + sandbox.resolve("out"),
      "--model=" + model,
      "--device=cpu",
      "--parallelism=3"
    };
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return PipelineOptionsFactory.fromArgs(GenerateJob.withDefaults(args))
        .as(GenerateOptions.class);
  }

  @Test
  void flinkReadsTheWrittenConfiguration() throws Exception {
    Path dir = EmbeddedFlinkConf.write(3);
    Configuration conf = GlobalConfiguration.loadConfiguration(dir.toString());
    assertEquals(3, conf.get(CoreOptions.DEFAULT_PARALLELISM));
    assertEquals(3, conf.get(TaskManagerOptions.NUM_TASK_SLOTS));
    assertEquals(
        3, conf.get(BatchExecutionOptions.ADAPTIVE_AUTO_PARALLELISM_MIN_PARALLELISM).intValue());
    assertThrows(IllegalArgumentException.class, () -> EmbeddedFlinkConf.text(0));
  }

  @Test
  void anEmbeddedRunGetsItUnlessTheUserGaveAConfigurationDirectory() throws Exception {
    GenerateOptions embedded = options();
    GenerateJob.settings(embedded);
    String dir = embedded.as(FlinkPipelineOptions.class).getFlinkConfDir();
    Configuration conf = GlobalConfiguration.loadConfiguration(dir);
    assertEquals(
        3, conf.get(BatchExecutionOptions.ADAPTIVE_AUTO_PARALLELISM_MIN_PARALLELISM).intValue());

    Path own = Files.createDirectories(sandbox.resolve("own-conf"));
    GenerateOptions user = options("--flinkConfDir=" + own);
    GenerateJob.settings(user);
    assertEquals(own.toString(), user.as(FlinkPipelineOptions.class).getFlinkConfDir());

    GenerateOptions cluster = options("--flinkMaster=localhost:18999");
    GenerateJob.settings(cluster);
    assertEquals(null, cluster.as(FlinkPipelineOptions.class).getFlinkConfDir(), "a cluster's own");
  }
}
