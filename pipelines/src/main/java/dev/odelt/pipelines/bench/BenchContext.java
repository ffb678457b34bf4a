package dev.odelt.pipelines.bench;

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
    Path repoRoot) {}
