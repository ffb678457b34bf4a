package dev.odelt.model.sample;

/**
 * Cost of one sampler call. Counts are additive across calls, so per-tier totals are sums.
 *
 * @param velocityEvaluations velocity evaluations per image, summed over the batch's images
 *     (fixed-step solvers: images × NFE(solver, S); Dormand–Prince: each image's own count)
 * @param blockEvaluations transformer-block evaluations: velocityEvaluations × {@link
 *     dev.odelt.model.ModelConfig#blocksRun(int) blocksRun(L)} × guidance factor (2 when both
 *     guidance halves run, else 1); blocksRun(L) = L unless depth_min is not a multiple of G
 * @param wallNanos wall time of the call, decoding included
 * @param batchSize images in the call
 * @param device the DJL device that ran it, e.g. {@code cpu()} or {@code gpu(0)}
 * @param decodeNanos the part of {@code deviceNanos} spent decoding latents (0 for pixel models)
 * @param deviceNanos the device time the call is charged, read from its {@link DeviceClock}
 *     (decoding included): the calling thread's CPU time on a CPU with one PyTorch thread per call,
 *     else equal to {@code wallNanos}
 */
public record SampleStats(
    long velocityEvaluations,
    long blockEvaluations,
    long wallNanos,
    int batchSize,
    String device,
    long decodeNanos,
    long deviceNanos) {

  /** Stats of a call that decoded nothing (a pixel model), charged its wall time. */
  public SampleStats(
      long velocityEvaluations,
      long blockEvaluations,
      long wallNanos,
      int batchSize,
      String device) {
    this(velocityEvaluations, blockEvaluations, wallNanos, batchSize, device, 0L, wallNanos);
  }
}
