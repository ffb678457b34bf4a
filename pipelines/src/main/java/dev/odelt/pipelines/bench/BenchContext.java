package dev.odelt.pipelines.bench;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.proto.v1.ModelManifest;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Settings shared by every benchmark of one run.
 *
 * @param shortMode smoke-test sizes (seconds, for CI) instead of the full report's sizes
 * @param modelLocation the model package under test (default: the bundled model)
 * @param reportDir where the report, the JSON and the plots are written
 * @param workDir scratch space for job outputs and manifests (deleted by nobody: under target/)
 * @param threads PyTorch intra-op threads for every measured call (same for both sides of a
 *     comparison)
 * @param repoRoot the repository root (for model-artifacts/tools and the shaded jar)
 */
public record BenchContext(
    boolean shortMode,
    String modelLocation,
    Path reportDir,
    Path workDir,
    int threads,
    Path repoRoot) {

  /** The manifest of the model under test, read from {@link #modelLocation}. */
  public ModelManifest manifest() throws IOException {
    return ModelPackages.readManifest(modelLocation);
  }

  /** The architecture of the model under test. */
  public ModelConfig modelConfig() throws IOException {
    return ModelConfig.fromProto(manifest().getArchitecture());
  }
}
