package dev.odelt.pipelines;

/**
 * The job's entry point for Flink's application mode (the Flink Kubernetes Operator's {@code
 * FlinkDeployment} with {@code job.entryClass}, see deploy/k8s/): there the JobManager itself calls
 * {@code main}, so it must never call {@link System#exit} — that would kill the JobManager. The
 * job runs exactly as on the command line ({@link GenerateJob#runCli}); its outcome becomes the
 * application's: a normal return for a finished run (exit codes {@value GenerateJob#EXIT_OK} and
 * {@value GenerateJob#EXIT_REJECTS}, rejected input being in {@code errors/dead-letters-*.jsonl}),
 * an exception for bad options or a failed job, so the deployment reports it as failed.
 */
public final class ApplicationMain {

  private ApplicationMain() {}

  /**
   * Runs the job; returns normally when it finished.
   *
   * @throws IllegalArgumentException for bad options (exit code {@value GenerateJob#EXIT_USAGE})
   * @throws IllegalStateException when the job failed (exit code {@value GenerateJob#EXIT_FAILED})
   */
  public static void main(String[] args) {
    int code = GenerateJob.runCli(args, System.out);
    switch (code) {
      case GenerateJob.EXIT_OK, GenerateJob.EXIT_REJECTS -> {}
      case GenerateJob.EXIT_USAGE ->
          throw new IllegalArgumentException(
              "odelt: bad options or unreadable input/model (exit code " + code + "); see the log");
      default -> throw new IllegalStateException("odelt: the generation job failed (exit code " + code + ")");
    }
  }
}
