package dev.odelt.model.sample;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.model.net.OdeltNetwork;
import dev.odelt.model.noise.GaussianNoise;
import dev.odelt.model.solver.ClassifierFreeGuidance;
import dev.odelt.model.solver.ConditionalVelocity;
import dev.odelt.model.solver.OdeSolution;
import dev.odelt.model.solver.OdeSolver;
import dev.odelt.model.solver.OdeSolvers;
import dev.odelt.proto.v1.Normalization;
import java.util.ArrayList;
import java.util.List;

/**
 * Generates images with a loaded network: per-seed noise at t = 0, the tier's solver on the
 * (guided) velocity up to t = 1, then pixels = round(255 · clamp(x·scale + shift, 0, 1)). For a
 * latent model the solution first goes through its {@link LatentDecoder}, in slices of at most
 * {@link #decodeBatch()} images, and pixels are round(255 · clamp(0.5·y + 0.5, 0, 1)) of the
 * decoder's output y.
 *
 * <p>Guarantees:
 *
 * <ul>
 *   <li>An image depends only on (seed, class, tier, model): noise is computed in Java per seed
 *       ({@link GaussianNoise}), the solvers keep items independent, so batch composition, thread
 *       count and device change it only by float rounding.
 *   <li>Thread-safe: any number of threads may call {@link #sample} at once on one shared copy of
 *       the weights. Each call runs in its own {@link NDManager} sub-scope of the model's manager,
 *       freed when the call returns, so native memory does not grow with calls.
 *   <li>No autograd graph is recorded: the weights never require gradients, and each call turns
 *       PyTorch's (thread-local) grad mode off for its thread, restoring it afterwards.
 * </ul>
 *
 * <p>Pixels: values outside [0, 1] after normalisation are clamped; a NaN (a diverged model) maps
 * to 0.
 *
 * <p>Bad input (empty batch, unknown class, a block count the model does not allow) throws {@link
 * IllegalArgumentException} before any work; callers turn that into a dead letter.
 */
public final class Sampler {

  private final OdeltNetwork network;
  private final NDManager manager;
  private final Normalization normalization;
  private final ModelConfig config;
  private final boolean pytorch;
  private final LatentDecoder decoder;
  private final int decodeBatch;

  /**
   * @param network a network whose parameters are set, on {@code manager}'s device
   * @param manager the manager holding the parameters; calls open sub-managers of it
   * @param normalization model space → pixels
   */
  public Sampler(OdeltNetwork network, NDManager manager, Normalization normalization) {
    this(network, manager, normalization, null, 1);
    if (normalization.getScale() == 0f) {
      throw new IllegalArgumentException("normalization.scale must be set (non-zero)");
    }
  }

  /**
   * A sampler for a latent model: each solved batch goes through {@code decoder} in slices of at
   * most {@code decodeBatch} images (halved again on a device out-of-memory failure), and pixels
   * are round(255 · clamp(0.5·x + 0.5, 0, 1)) of the decoder's output; the manifest's normalization
   * is not used.
   *
   * @throws IllegalArgumentException when the decoder's latent channels are not the network's
   */
  public Sampler(OdeltNetwork network, NDManager manager, LatentDecoder decoder, int decodeBatch) {
    this(network, manager, LATENT_PIXELS, decoder, decodeBatch);
    if (decoder.latentChannels() != config.channels()) {
      throw new IllegalArgumentException(
          "decoder "
              + decoder.id()
              + " expects "
              + decoder.latentChannels()
              + " latent channels; the network makes "
              + config.channels());
    }
  }

  /** A decoder's output x ≈ [−1, 1] → pixel01 = 0.5·x + 0.5. */
  private static final Normalization LATENT_PIXELS =
      Normalization.newBuilder().setSpace("latent").setScale(0.5f).setShift(0.5f).build();

  private Sampler(
      OdeltNetwork network,
      NDManager manager,
      Normalization normalization,
      LatentDecoder decoder,
      int decodeBatch) {
    if (decodeBatch < 1) {
      throw new IllegalArgumentException("decodeBatch must be >= 1, got " + decodeBatch);
    }
    this.network = network;
    this.manager = manager;
    this.normalization = normalization;
    this.config = network.config();
    this.pytorch = "PyTorch".equals(manager.getEngine().getEngineName());
    this.decoder = decoder;
    this.decodeBatch = decodeBatch;
  }

  /** The same sampler decoding in slices of at most {@code images} (latent models only). */
  public Sampler withDecodeBatch(int images) {
    return decoder == null || images == decodeBatch
        ? this
        : new Sampler(network, manager, normalization, decoder, images);
  }

  /** The decoder of a latent model; empty for a pixel model. */
  public java.util.Optional<LatentDecoder> decoder() {
    return java.util.Optional.ofNullable(decoder);
  }

  /** Images per decoder call (1 for pixel models). */
  public int decodeBatch() {
    return decodeBatch;
  }

  /** The clock a call made now on the calling thread would be charged by ({@link DeviceClock}). */
  public DeviceClock deviceClock() {
    return DeviceClock.forCall(device(), pytorch);
  }

  /** The device the sampler runs on. */
  public Device device() {
    return manager.getDevice();
  }

  /**
   * Generates one image per item. Its stats charge the call's device time from the {@link
   * DeviceClock} that applies on the calling thread.
   *
   * @param items the images to make, in output order; not empty
   * @param tier steps, solver, blocks and guidance; its blocks must be allowed by the model
   * @throws IllegalArgumentException for bad items or a tier the model cannot run
   */
  public SampleBatch sample(List<SampleItem> items, Tier tier) {
    return run(items, tier, items.size());
  }

  /**
   * A thread's warm-up call ({@link dev.odelt.model.cost.WarmUp}): {@link #sample} with the same
   * network work, but only the first decoder call's images ({@link #decodeBatch()}, one on the CPU
   * by default) are decoded. Every decode of the run is a call of at most that many images, so one
   * such call warms what the decoder needs; the other images' decoding would repeat the same call
   * (on the CPU a full-decoder call costs as much as 13 velocity calls of DiT-B/2).
   *
   * @return the call's stats ({@link SampleStats#batchSize()} counts every item; {@link
   *     SampleStats#decodeNanos()} the one decoder call)
   */
  public SampleStats warmUp(List<SampleItem> items, Tier tier) {
    return run(items, tier, Math.min(items.size(), decodeBatch)).stats();
  }

  /** Samples every item and makes images of the first {@code decoded} (all without a decoder). */
  private SampleBatch run(List<SampleItem> items, Tier tier, int decoded) {
    long start = System.nanoTime();
    DeviceClock clock = deviceClock();
    long deviceStart = clock.now();
    int batch = items.size();
    int channels = config.channels();
    int side = config.imageSize();
    float[] values;
    long evaluations;
    long decodeNanos = 0;
    try (NDManager call = manager.newSubManager()) {
      OdeSolution solution = solve(call, items, tier);
      evaluations = solution.totalEvaluations();
      if (decoder == null) {
        values = solution.x().toFloatArray();
      } else {
        long decodeStart = clock.now();
        NDArray latents = solution.x();
        if (decoded < batch) {
          latents = latents.get("0:" + decoded); // (decoded, C, h, w), on the call's manager
        }
        values = decode(latents);
        decodeNanos = clock.now() - decodeStart;
        channels = decoder.imageChannels();
        side = side * decoder.upsampling();
      }
    }
    int perImage = channels * side * side;
    int made = decoder == null ? batch : decoded;
    List<GeneratedImage> images = new ArrayList<>(made);
    for (int i = 0; i < made; i++) {
      images.add(toImage(values, i * perImage, channels, side));
    }
    long deviceEnd = clock.now(); // read first: the device interval lies within the wall one
    long wallNanos = System.nanoTime() - start;
    SampleStats stats =
        new SampleStats(
            evaluations,
            evaluations * config.blocksRun(tier.blocks()) * tier.guidanceFactor(),
            wallNanos,
            batch,
            device().toString(),
            decodeNanos,
            clock == DeviceClock.WALL ? wallNanos : deviceEnd - deviceStart);
    return new SampleBatch(images, stats);
  }

  /**
   * Solves the time ODE for the items and returns the model-space result, before conversion to
   * pixels: x(1) of shape (B, C, H, W), owned by {@code scope}, with per-item evaluation counts.
   * Same guarantees as {@link #sample}; for evaluation code that needs float outputs.
   *
   * @param scope a manager on this sampler's device (for example a sub-manager of {@link
   *     dev.odelt.model.LoadedModel#manager()}); intermediate arrays are freed before returning
   */
  public OdeSolution solve(NDManager scope, List<SampleItem> items, Tier tier) {
    validate(items, tier);
    int batch = items.size();
    int c = config.channels();
    int side = config.imageSize();
    int perImage = c * side * side;
    int[] labels = new int[batch];
    float[] noise = new float[batch * perImage];
    for (int i = 0; i < batch; i++) {
      labels[i] = items.get(i).classId();
      GaussianNoise.fill(
          items.get(i).seed(), GaussianNoise.INITIAL_NOISE_STREAM, noise, i * perImage, perImage);
    }
    boolean gradMode = pytorch && JniUtils.isGradMode();
    if (gradMode) {
      JniUtils.setGradMode(false);
    }
    try (NDManager work = scope.newSubManager()) {
      ParameterStore parameters = new ParameterStore(work, false);
      int blocks = tier.blocks();
      ConditionalVelocity velocity =
          (x, t, stepLevel, classes) -> {
            NDManager m = x.getManager();
            long n = x.getShape().get(0);
            NDArray d = m.full(new Shape(n), (float) stepLevel); // (B)
            NDArray y = m.create(classes); // (B)
            return network.velocity(parameters, x, t, d, y, blocks, false); // (B, C, H, W)
          };
      OdeSolver solver = OdeSolvers.forTier(tier, config.maxStepLevel());
      NDArray x0 = work.create(noise, new Shape(batch, c, side, side)); // (B, C, H, W)
      OdeSolution solution =
          solver.solve(
              ClassifierFreeGuidance.of(velocity, labels, config.nullClass(), tier.guidance()), x0);
      solution.x().attach(scope);
      return solution;
    } finally {
      if (gradMode) {
        JniUtils.setGradMode(true);
      }
    }
  }

  /**
   * Decodes (B, C, h, w) latents in slices of at most {@link #decodeBatch} images, halving a slice
   * that runs the device out of memory ({@link BatchSplitter}); returns the images' values, (B, 3,
   * H, W) row-major. Each image depends only on its own latent, so slicing never changes the
   * result.
   */
  private float[] decode(NDArray latents) {
    int batch = Math.toIntExact(latents.getShape().get(0));
    float[] out = null;
    for (int from = 0; from < batch; from += decodeBatch) {
      List<Integer> rows = new ArrayList<>();
      for (int i = from; i < Math.min(batch, from + decodeBatch); i++) {
        rows.add(i);
      }
      for (BatchSplitter.Part<Integer, float[]> part :
          BatchSplitter.run(rows, sub -> decodeRows(latents, sub))) {
        float[] values = part.result();
        int perImage = values.length / part.items().size();
        if (out == null) {
          out = new float[Math.multiplyExact(perImage, batch)];
        }
        System.arraycopy(values, 0, out, part.items().get(0) * perImage, values.length);
      }
    }
    return out;
  }

  /** Decodes a contiguous run of rows of {@code latents} in a scope of its own. */
  private float[] decodeRows(NDArray latents, List<Integer> rows) {
    boolean gradMode = pytorch && JniUtils.isGradMode();
    if (gradMode) {
      JniUtils.setGradMode(false);
    }
    try (NDManager work = latents.getManager().newSubManager()) {
      NDArray slice = latents.get(rows.get(0) + ":" + (rows.get(rows.size() - 1) + 1));
      slice.attach(work); // (b, C, h, w)
      return decoder.decode(slice).toFloatArray(); // (b, 3, H, W)
    } finally {
      if (gradMode) {
        JniUtils.setGradMode(true);
      }
    }
  }

  private void validate(List<SampleItem> items, Tier tier) {
    if (items.isEmpty()) {
      throw new IllegalArgumentException("no items to sample");
    }
    if (!config.isAllowedBlocks(tier.blocks())) {
      throw new IllegalArgumentException(
          "tier "
              + tier.label()
              + " runs "
              + tier.blocks()
              + " blocks; this model allows "
              + config.allowedBlocks());
    }
    if (tier.blocks() > network.loadedBlocks()) {
      throw new IllegalArgumentException(
          "tier "
              + tier.label()
              + " runs "
              + tier.blocks()
              + " blocks; this copy of the model holds only the first "
              + network.loadedBlocks()
              + " (loaded with maxBlocks)");
    }
    for (SampleItem item : items) {
      if (item.classId() < 0 || item.classId() > config.nullClass()) {
        throw new IllegalArgumentException(
            "class id "
                + item.classId()
                + " is outside this model's classes 0.."
                + (config.numClasses() - 1)
                + " and its null label "
                + config.nullClass());
      }
    }
  }

  /** (C, H, W) model-space values at {@code offset} → 8-bit HWC pixels. */
  private GeneratedImage toImage(float[] values, int offset, int channels, int side) {
    float scale = normalization.getScale();
    float shift = normalization.getShift();
    byte[] pixels = new byte[channels * side * side];
    for (int ch = 0; ch < channels; ch++) {
      for (int row = 0; row < side; row++) {
        for (int col = 0; col < side; col++) {
          float v = values[offset + (ch * side + row) * side + col] * scale + shift;
          float clamped = Float.isNaN(v) ? 0f : Math.min(1f, Math.max(0f, v));
          pixels[(row * side + col) * channels + ch] = (byte) Math.round(255f * clamped);
        }
      }
    }
    return new GeneratedImage(side, side, channels, pixels);
  }

  @Override
  public String toString() {
    return "Sampler[" + device() + (decoder == null ? "" : ", decoder " + decoder.id()) + "]";
  }
}
