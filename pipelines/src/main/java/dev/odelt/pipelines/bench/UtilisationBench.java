package dev.odelt.pipelines.bench;

import static dev.odelt.pipelines.bench.Timing.fmt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.odelt.model.LoadedModel;
import dev.odelt.model.ModelConfig;
import dev.odelt.model.Models;
import dev.odelt.model.Tier;
import dev.odelt.model.net.DitBlock;
import dev.odelt.model.net.Ops;
import dev.odelt.model.sample.SampleItem;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hardware utilisation: the sampler's FLOP/s at the top tier (FLOPs counted by {@link FlopCount})
 * against the best float32 matrix-multiply FLOP/s DJL reaches in the same JVM, and a per-op time
 * breakdown of one transformer block at the real shapes.
 */
public final class UtilisationBench implements Benchmark {

  private static final Logger LOG = LoggerFactory.getLogger(UtilisationBench.class);

  @Override
  public String id() {
    return "utilisation";
  }

  /** An op of the block breakdown: a name, how often a block runs it, its FLOPs, the call. */
  private record Op(
      String name, int perBlock, long flops, Function<Map<String, NDArray>, Object> call) {}

  @Override
  public Section run(BenchContext ctx) throws Exception {
    LoadedModel model = Models.shared(ctx.modelLocation(), "cpu");
    ModelConfig config = model.config();
    FlopCount flops = new FlopCount(config);
    boolean quick = ctx.shortMode();
    int batch = quick ? 8 : 64;
    int steps = quick ? 2 : 16;
    int blocks = config.depth();
    int repeats = quick ? 2 : 5;
    int n = config.tokens();
    int d = config.hiddenSize();
    int m = config.mlpHidden();
    boolean gradMode = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    try {
      // 1. Best matmul FLOP/s.
      List<long[]> shapes = new ArrayList<>();
      int square = quick ? 256 : 1024;
      shapes.add(new long[] {square / 2, square / 2, square / 2});
      shapes.add(new long[] {square, square, square});
      shapes.add(new long[] {(long) 64 * n, d, m});
      shapes.add(new long[] {(long) 64 * n, m, d});
      shapes.add(new long[] {(long) 64 * n, d, d});
      List<List<String>> mmRows = new ArrayList<>();
      Map<String, Object> rawMatmul = new LinkedHashMap<>();
      double peak = 0;
      String peakShape = "";
      for (long[] s : shapes) {
        double best = Double.MAX_VALUE;
        try (NDManager mm = model.manager().newSubManager()) {
          NDArray a = mm.randomUniform(-1, 1, new Shape(s[0], s[1]));
          NDArray b = mm.randomUniform(-1, 1, new Shape(s[1], s[2]));
          for (int r = -2; r < repeats * 2; r++) {
            double t = Timing.seconds(() -> a.matMul(b).close());
            if (r >= 0) {
              best = Math.min(best, t);
            }
          }
        }
        double gflops = 2.0 * s[0] * s[1] * s[2] / best / 1e9;
        String label = "(" + s[0] + "×" + s[1] + ")·(" + s[1] + "×" + s[2] + ")";
        mmRows.add(List.of(label, fmt(best * 1000, 3), fmt(gflops, 1)));
        rawMatmul.put(label, Map.of("bestSeconds", best, "gflops", gflops));
        if (gflops > peak) {
          peak = gflops;
          peakShape = label;
        }
        LOG.info("utilisation: matmul {} best {} GFLOP/s", label, fmt(gflops, 1));
      }

      // 2. Sampler and bare velocity FLOP/s at the top tier.
      List<SampleItem> items = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        items.add(new SampleItem(i % config.numClasses(), 5_000 + i));
      }
      Tier tier = Tier.of(steps, blocks);
      double samplerSeconds =
          Timing.medianSeconds(1, quick ? 1 : 3, () -> model.sampler().sample(items, tier));
      double samplerFlops = (double) steps * flops.perCall(batch, blocks);
      double samplerGflops = samplerFlops / samplerSeconds / 1e9;
      double velocitySeconds;
      try (NDManager vm = model.manager().newSubManager()) {
        NDArray x =
            vm.randomNormal(
                new Shape(batch, config.channels(), config.imageSize(), config.imageSize()));
        NDArray t = vm.full(new Shape(batch), 0.5f);
        NDArray lv = vm.full(new Shape(batch), 4f);
        NDArray y = vm.create(new int[batch]);
        velocitySeconds =
            Timing.medianSeconds(
                2,
                repeats * 2,
                () -> {
                  try (NDManager call = vm.newSubManager()) {
                    NDArray xs = x.duplicate();
                    xs.attach(call);
                    model
                        .network()
                        .velocity(new ParameterStore(call, false), xs, t, lv, y, blocks, false)
                        .toFloatArray();
                  }
                });
      }
      double velocityGflops = flops.perCall(batch, blocks) / velocitySeconds / 1e9;
      double utilisation = samplerGflops / peak;
      LOG.info(
          "utilisation: sampler {} GFLOP/s, velocity {} GFLOP/s, peak {} GFLOP/s",
          fmt(samplerGflops, 1),
          fmt(velocityGflops, 1),
          fmt(peak, 1));

      // 3. Per-op breakdown of one block at the real shapes.
      Breakdown breakdown = breakdown(model, batch, repeats);

      List<Section.Table> tables = new ArrayList<>();
      tables.add(
          new Section.Table(
              "Matrix multiply, float32, best of " + (repeats * 2),
              List.of("Shape", "ms", "GFLOP/s"),
              mmRows));
      tables.add(
          new Section.Table(
              "Achieved FLOP/s at the top tier (s"
                  + steps
                  + "-b"
                  + blocks
                  + ", batch "
                  + batch
                  + ")",
              List.of("What", "FLOPs", "Seconds (median)", "GFLOP/s", "Share of best matmul"),
              List.of(
                  List.of(
                      "sampler (whole batch)",
                      String.format("%.3e", samplerFlops),
                      fmt(samplerSeconds, 3),
                      fmt(samplerGflops, 1),
                      fmt(100 * utilisation, 1) + "%"),
                  List.of(
                      "one velocity call",
                      String.format("%.3e", (double) flops.perCall(batch, blocks)),
                      fmt(velocitySeconds, 4),
                      fmt(velocityGflops, 1),
                      fmt(100 * velocityGflops / peak, 1) + "%"))));
      tables.add(breakdown.table(peak));

      List<Section.Goal> goals =
          List.of(
              new Section.Goal(
                  "sampler FLOP/s at the top tier / best matmul FLOP/s",
                  "≥ 50%",
                  fmt(100 * utilisation, 1) + "%",
                  utilisation >= 0.5));
      List<String> findings = new ArrayList<>();
      findings.add(
          "Best matmul: "
              + fmt(peak, 1)
              + " GFLOP/s at "
              + peakShape
              + "; the sampler reaches "
              + fmt(samplerGflops, 1)
              + " GFLOP/s ("
              + fmt(100 * utilisation, 1)
              + "%), a bare velocity call "
              + fmt(velocityGflops, 1)
              + " GFLOP/s ("
              + fmt(100 * velocityGflops / peak, 1)
              + "%). The sampler's extra time over S bare calls is noise, Euler updates and pixel"
              + " conversion: "
              + fmt(100 * (1 - steps * velocitySeconds / samplerSeconds), 1)
              + "% of the batch.");
      findings.addAll(breakdown.findings(peak));
      Map<String, Object> raw = new LinkedHashMap<>();
      raw.put("flopsPerImagePerCall", flops.perImage(blocks));
      raw.put("flopsFormula", FlopCount.FORMULA);
      raw.put("matmul", rawMatmul);
      raw.put("peakGflops", peak);
      raw.put(
          "sampler",
          Map.of(
              "steps",
              steps,
              "blocks",
              blocks,
              "batch",
              batch,
              "seconds",
              samplerSeconds,
              "gflops",
              samplerGflops));
      raw.put("velocity", Map.of("seconds", velocitySeconds, "gflops", velocityGflops));
      raw.put("utilisation", utilisation);
      raw.put("blockBreakdown", breakdown.raw());
      String method =
          "FLOPs counted analytically from the architecture: "
              + FlopCount.FORMULA
              + "; for this model "
              + String.format("%.3e", (double) flops.perImage(blocks))
              + " FLOPs per image per velocity call at L="
              + blocks
              + ". Best matmul: float32 NDArray.matMul of square and model-shaped products (B·N ×"
              + " D)·(D × 4D) at B=64, best of repeats after 2 warm-ups, in this JVM with the same"
              + " PyTorch threads ("
              + ctx.threads()
              + "). Sampler: median of "
              + (quick ? 1 : 3)
              + " batches after one warm-up; the FLOPs of the sampler are S × the velocity call's."
              + " Breakdown: each op of one DiT block timed alone on inputs of the real shapes"
              + " (median of "
              + repeats * 2
              + "), against the whole block (DitBlock.apply) on the same input.";
      return new Section(
          id(), "Hardware utilisation", method, tables, goals, findings, raw, List.of());
    } finally {
      JniUtils.setGradMode(gradMode);
    }
  }

  /** Times of each op of a block and of the whole block. */
  private record Breakdown(
      List<Op> ops,
      List<Double> seconds,
      double blockSeconds,
      double tinyOpSeconds,
      int batch,
      Ab kqv,
      Ab gelu,
      Ab inPlace) {

    double sum() {
      double total = 0;
      for (int i = 0; i < ops.size(); i++) {
        total += seconds.get(i) * ops.get(i).perBlock();
      }
      return total;
    }

    Section.Table table(double peak) {
      List<List<String>> rows = new ArrayList<>();
      double sum = sum();
      for (int i = 0; i < ops.size(); i++) {
        Op op = ops.get(i);
        double total = seconds.get(i) * op.perBlock();
        rows.add(
            List.of(
                op.name(),
                Integer.toString(op.perBlock()),
                fmt(seconds.get(i) * 1000, 3),
                fmt(100 * total / sum, 1) + "%",
                op.flops() == 0 ? "-" : fmt(op.flops() / seconds.get(i) / 1e9, 1)));
      }
      rows.add(List.of("sum of the ops", "", fmt(sum * 1000, 3), "100%", ""));
      rows.add(
          List.of(
              "whole block (DitBlock.apply)",
              "1",
              fmt(blockSeconds * 1000, 3),
              fmt(100 * blockSeconds / sum, 1) + "% of the sum",
              ""));
      return new Section.Table(
          "One DiT block at batch " + batch + ", per op (median ms per call)",
          List.of("Op", "Per block", "ms per call", "Share of the sum", "GFLOP/s"),
          rows);
    }

    List<String> findings(double peak) {
      double sum = sum();
      double matmulTime = 0;
      long matmulFlops = 0;
      for (int i = 0; i < ops.size(); i++) {
        if (ops.get(i).flops() > 0) {
          matmulTime += seconds.get(i) * ops.get(i).perBlock();
          matmulFlops += ops.get(i).flops() * ops.get(i).perBlock();
        }
      }
      List<Integer> order = new ArrayList<>();
      for (int i = 0; i < ops.size(); i++) {
        order.add(i);
      }
      order.sort(Comparator.comparingDouble(i -> -seconds.get(i) * ops.get(i).perBlock()));
      StringBuilder top = new StringBuilder();
      for (int k = 0; k < Math.min(4, order.size()); k++) {
        int i = order.get(k);
        top.append(k == 0 ? "" : ", ")
            .append(ops.get(i).name())
            .append(' ')
            .append(fmt(100 * seconds.get(i) * ops.get(i).perBlock() / sum, 1))
            .append('%');
      }
      List<String> out = new ArrayList<>();
      out.add(
          "Block breakdown: the matrix products take "
              + fmt(100 * matmulTime / sum, 1)
              + "% of the summed op time at "
              + fmt(matmulFlops / matmulTime / 1e9, 1)
              + " GFLOP/s ("
              + fmt(100 * matmulFlops / matmulTime / 1e9 / peak, 1)
              + "% of the best matmul; GELU and the gated residuals, fused into their products' rows,"
              + " count as time of those rows); the other element-wise ops (LayerNorm, modulation,"
              + " softmax) take the remaining "
              + fmt(100 - 100 * matmulTime / sum, 1)
              + "% and do no counted FLOPs. Largest: "
              + top
              + ".");
      out.add(
          "The whole block takes "
              + fmt(blockSeconds * 1000, 3)
              + " ms vs "
              + fmt(sum * 1000, 3)
              + " ms for its ops timed alone; a minimal DJL op (1-element add) costs "
              + fmt(tinyOpSeconds * 1e6, 1)
              + " µs, so per-op JNI overhead is "
              + (tinyOpSeconds * 60 < 0.05 * blockSeconds ? "small" : "significant")
              + " at these sizes (about 60 native ops per block ≈ "
              + fmt(100 * tinyOpSeconds * 60 / blockSeconds, 1)
              + "% of the block). Slowest matrix product per FLOP: "
              + slowestMatmul()
              + ".");
      out.add(
          kqv.finding(
              "Change made in model-artifacts (DitBlock): the k, q and v projections run as one"
                  + " (D→3D) product on weights concatenated per call instead of three (D→D)"
                  + " products; the parameters, the package format and PyTorch parity are"
                  + " unchanged. Measured here, interleaved, with the head split:",
              "separate",
              "fused"));
      out.add(
          inPlace.finding(
              "Change made in model-artifacts (DitBlock, Ops, inference only): modulation, the"
                  + " tanh GELU and the gated residuals work in place on the fresh activations"
                  + " their products made: the same operations in the same order (bit-identical"
                  + " outputs), four batch-sized allocations fewer per block; on CPU a fresh"
                  + " batch-sized array costs page faults and cache misses. Measured here,"
                  + " interleaved, whole block:",
              "out of place",
              "in place"));
      out.add(
          gelu.finding(
              "Change made in model-artifacts (Ops.geluTanh): the tanh GELU is computed as"
                  + " x·σ(2√(2/π)·x·(1 + 0.044715x²)), the same function (0.5(1 + tanh z) ="
                  + " σ(2z)), with one element-wise pass fewer and no pow. Measured here,"
                  + " interleaved:",
              "before",
              "after"));
      return out;
    }

    private String slowestMatmul() {
      String name = "-";
      double worst = Double.MAX_VALUE;
      for (int i = 0; i < ops.size(); i++) {
        if (ops.get(i).flops() > 0) {
          double gflops = ops.get(i).flops() / seconds.get(i) / 1e9;
          if (gflops < worst) {
            worst = gflops;
            name = ops.get(i).name() + " at " + fmt(gflops, 1) + " GFLOP/s";
          }
        }
      }
      return name;
    }

    Map<String, Object> raw() {
      Map<String, Object> out = new LinkedHashMap<>();
      for (int i = 0; i < ops.size(); i++) {
        out.put(
            ops.get(i).name(),
            Map.of(
                "secondsPerCall",
                seconds.get(i),
                "perBlock",
                ops.get(i).perBlock(),
                "flops",
                ops.get(i).flops()));
      }
      out.put("wholeBlockSeconds", blockSeconds);
      out.put("tinyOpSeconds", tinyOpSeconds);
      out.put("separateKqvSeconds", kqv.before());
      out.put("fusedKqvSeconds", kqv.after());
      out.put("previousGeluSeconds", gelu.before());
      out.put("geluSeconds", gelu.after());
      out.put("outOfPlaceBlockSeconds", inPlace.before());
      out.put("inPlaceBlockSeconds", inPlace.after());
      return out;
    }
  }

  private static NDArray p(LoadedModel model, String name) {
    return model.network().namedParameters().get("blocks.0." + name).getArray();
  }

  private static Breakdown breakdown(LoadedModel model, int batch, int repeats) throws Exception {
    ModelConfig c = model.config();
    long b = batch;
    long n = c.tokens();
    long d = c.hiddenSize();
    long m = c.mlpHidden();
    int heads = c.numHeads();
    long hd = c.headDim();
    DitBlock block = model.network().blocks().get(0);
    try (NDManager base = model.manager().newSubManager()) {
      Map<String, NDArray> in = new LinkedHashMap<>();
      NDArray x = base.randomNormal(new Shape(b, n, d)); // (B, N, D)
      NDArray cb = base.randomNormal(new Shape(b, d)); // (B, D)
      NDArray ones = base.ones(new Shape(d));
      NDArray zeros = base.zeros(new Shape(d));
      NDList mod =
          Ops.linear(
                  Ops.silu(cb),
                  p(model, "adaLN_modulation.1.weight"),
                  p(model, "adaLN_modulation.1.bias"))
              .split(6, 1);
      NDArray h = Ops.modulate(Ops.layerNorm(x, ones, zeros), mod.get(0), mod.get(1)); // (B, N, D)
      NDArray q =
          Ops.linear(h, p(model, "attn.q.weight"), p(model, "attn.q.bias"))
              .reshape(b, n, heads, hd)
              .transpose(0, 2, 1, 3); // (B, H, N, hd)
      NDArray k =
          Ops.linear(h, p(model, "attn.k.weight"), p(model, "attn.k.bias"))
              .reshape(b, n, heads, hd)
              .transpose(0, 2, 1, 3);
      NDArray v =
          Ops.linear(h, p(model, "attn.v.weight"), p(model, "attn.v.bias"))
              .reshape(b, n, heads, hd)
              .transpose(0, 2, 1, 3);
      NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)); // (B, H, N, N)
      NDArray weights = scores.softmax(-1);
      NDArray attnOut = weights.matMul(v).transpose(0, 2, 1, 3).reshape(b, n, d); // (B, N, D)
      NDArray fc1 =
          Ops.linear(h, p(model, "mlp.fc1.weight"), p(model, "mlp.fc1.bias")); // (B, N, 4D)
      NDArray gelu = Ops.geluTanh(fc1);
      in.put("x", x);
      in.put("cb", cb);
      in.put("ones", ones);
      in.put("zeros", zeros);
      in.put("shift", mod.get(0));
      in.put("scale", mod.get(1));
      in.put("gate", mod.get(2));
      in.put("h", h);
      in.put("q", q);
      in.put("k", k);
      in.put("v", v);
      in.put("scores", scores);
      in.put("weights", weights);
      in.put("attnOut", attnOut);
      in.put("fc1", fc1);
      in.put("gelu", gelu);

      List<Op> ops = new ArrayList<>();
      ops.add(
          new Op(
              "adaLN: SiLU + Linear(D→6D) + split",
              1,
              2 * b * d * 6 * d,
              a ->
                  Ops.linear(
                          Ops.silu(a.get("cb")),
                          p(model, "adaLN_modulation.1.weight"),
                          p(model, "adaLN_modulation.1.bias"))
                      .split(6, 1)));
      ops.add(
          new Op(
              "LayerNorm + modulate (in place)",
              2,
              0,
              a ->
                  Ops.modulate(
                      Ops.layerNorm(a.get("x"), a.get("ones"), a.get("zeros")),
                      a.get("shift"),
                      a.get("scale"),
                      true)));
      ops.add(
          new Op(
              "k, q, v: concat weights, one Linear(D→3D), split heads, q scale",
              1,
              3 * 2 * b * n * d * d,
              a -> {
                NDArray w =
                    NDArrays.concat(
                        new NDList(
                            p(model, "attn.k.weight"),
                            p(model, "attn.q.weight"),
                            p(model, "attn.v.weight")),
                        0);
                w.attach(a.get("h").getManager());
                NDArray bias =
                    NDArrays.concat(
                        new NDList(
                            p(model, "attn.k.bias"),
                            p(model, "attn.q.bias"),
                            p(model, "attn.v.bias")),
                        0);
                bias.attach(a.get("h").getManager());
                NDList kqv =
                    Ops.linear(a.get("h"), w, bias)
                        .reshape(b, n, 3, heads, hd)
                        .transpose(2, 0, 3, 1, 4)
                        .split(3, 0);
                return new NDList(
                    kqv.get(0).squeeze(0),
                    kqv.get(1).squeeze(0).mul(Ops.scalar(a.get("h"), 1f / hd)),
                    kqv.get(2).squeeze(0));
              }));
      ops.add(
          new Op(
              "scores Q·Kᵀ",
              1,
              2 * b * n * n * d,
              a -> a.get("q").matMul(a.get("k").transpose(0, 1, 3, 2))));
      ops.add(new Op("softmax", 1, 0, a -> a.get("scores").softmax(-1)));
      ops.add(
          new Op(
              "weights·V + merge heads",
              1,
              2 * b * n * n * d,
              a -> a.get("weights").matMul(a.get("v")).transpose(0, 2, 1, 3).reshape(b, n, d)));
      // The in-place steps overwrite the array their producer made, so each is timed together
      // with that producer (as DitBlock runs them in inference): the inputs stay intact.
      ops.add(
          new Op(
              "output projection Linear(D→D) + gated residual (in place)",
              1,
              2 * b * n * d * d,
              a ->
                  Ops.gatedResidual(
                      a.get("x"),
                      Ops.linear(
                          a.get("attnOut"),
                          p(model, "attn.proj.weight"),
                          p(model, "attn.proj.bias")),
                      a.get("gate"),
                      true)));
      ops.add(
          new Op(
              "MLP fc1 Linear(D→4D) + GELU (tanh form as x·σ(…), in place)",
              1,
              2 * b * n * d * m,
              a ->
                  Ops.geluTanhInPlace(
                      Ops.linear(a.get("h"), p(model, "mlp.fc1.weight"), p(model, "mlp.fc1.bias")))));
      ops.add(
          new Op(
              "MLP fc2 Linear(4D→D) + gated residual (in place)",
              1,
              2 * b * n * m * d,
              a ->
                  Ops.gatedResidual(
                      a.get("x"),
                      Ops.linear(
                          a.get("gelu"), p(model, "mlp.fc2.weight"), p(model, "mlp.fc2.bias")),
                      a.get("gate"),
                      true)));

      Function<Map<String, NDArray>, Object> separate =
          a ->
              new NDList(
                  Ops.linear(a.get("h"), p(model, "attn.k.weight"), p(model, "attn.k.bias"))
                      .reshape(b, n, heads, hd)
                      .transpose(0, 2, 1, 3),
                  Ops.linear(a.get("h"), p(model, "attn.q.weight"), p(model, "attn.q.bias"))
                      .reshape(b, n, heads, hd)
                      .transpose(0, 2, 1, 3)
                      .mul(Ops.scalar(a.get("h"), 1f / hd)),
                  Ops.linear(a.get("h"), p(model, "attn.v.weight"), p(model, "attn.v.bias"))
                      .reshape(b, n, heads, hd)
                      .transpose(0, 2, 1, 3));
      Ab kqv = interleaved(base, in, separate, ops.get(2).call(), repeats * 4);
      // The tanh GELU as written before (pow, tanh; 8 ops), against Ops.geluTanh (sigmoid form).
      Function<Map<String, NDArray>, Object> previousGelu =
          a -> {
            NDArray z = a.get("fc1");
            NDArray inner =
                z.pow(Ops.scalar(z, 3))
                    .mul(Ops.scalar(z, 0.044715f))
                    .add(z)
                    .mul(Ops.scalar(z, (float) Math.sqrt(2.0 / Math.PI)));
            return inner.tanh().add(Ops.scalar(z, 1f)).mul(z).mul(Ops.scalar(z, 0.5f));
          };
      Ab geluAb =
          interleaved(base, in, previousGelu, a -> Ops.geluTanh(a.get("fc1")), repeats * 4);

      // The whole block out of place (the training path, here without autograd) against in place
      // (inference): the effect of DitBlock's in-place element-wise steps.
      Ab inPlaceAb =
          interleaved(
              base, in, a -> applyBlock(block, a, true), a -> applyBlock(block, a, false), repeats);

      List<Double> seconds = new ArrayList<>();
      for (Op op : ops) {
        seconds.add(timeOp(base, in, op.call(), repeats * 2));
      }
      double blockSeconds = timeOp(base, in, a -> applyBlock(block, a, false), repeats * 2);
      NDArray one = base.ones(new Shape(1));
      double tiny = Timing.medianSeconds(20, 200, () -> one.add(one).close());
      return new Breakdown(
          ops,
          seconds,
          blockSeconds,
          tiny,
          batch,
          kqv,
          geluAb,
          inPlaceAb);
    }
  }

  /** {@code DitBlock.apply} on the breakdown's inputs; {@code training} picks the out-of-place path. */
  private static NDArray applyBlock(DitBlock block, Map<String, NDArray> a, boolean training) {
    return block.apply(
        new ParameterStore(a.get("x").getManager(), false),
        a.get("x"),
        a.get("cb"),
        a.get("ones"),
        a.get("zeros"),
        training);
  }

  /** Median seconds of a change measured before and after, interleaved. */
  record Ab(double before, double after) {

    /** "{@code lead} {@code beforeName} X ms, {@code afterName} Y ms per block (Z× faster)." */
    String finding(String lead, String beforeName, String afterName) {
      return lead
          + " "
          + beforeName
          + " "
          + fmt(before * 1000, 3)
          + " ms, "
          + afterName
          + " "
          + fmt(after * 1000, 3)
          + " ms per block ("
          + fmt(before / after, 2)
          + "× faster).";
    }
  }

  /**
   * Medians of {@code a} and {@code b} timed in alternation ({@code runs} each, after 2 warm-ups),
   * alternating which goes first.
   */
  private static Ab interleaved(
      NDManager base,
      Map<String, NDArray> inputs,
      Function<Map<String, NDArray>, Object> a,
      Function<Map<String, NDArray>, Object> b,
      int runs)
      throws Exception {
    List<Double> ta = new ArrayList<>();
    List<Double> tb = new ArrayList<>();
    for (int r = -2; r < runs; r++) {
      double x;
      double y;
      if (r % 2 == 0) {
        x = timeOnce(base, inputs, a);
        y = timeOnce(base, inputs, b);
      } else {
        y = timeOnce(base, inputs, b);
        x = timeOnce(base, inputs, a);
      }
      if (r >= 0) {
        ta.add(x);
        tb.add(y);
      }
    }
    return new Ab(Timing.median(ta), Timing.median(tb));
  }

  /**
   * Seconds of one run of {@code call} on fresh copies of the inputs in a scope (copies untimed).
   */
  private static double timeOnce(
      NDManager base, Map<String, NDArray> inputs, Function<Map<String, NDArray>, Object> call)
      throws Exception {
    try (NDManager scope = base.newSubManager()) {
      Map<String, NDArray> copies = new LinkedHashMap<>();
      for (Map.Entry<String, NDArray> e : inputs.entrySet()) {
        NDArray copy = e.getValue().duplicate();
        copy.attach(scope);
        copies.put(e.getKey(), copy);
      }
      return Timing.seconds(() -> call.apply(copies));
    }
  }

  /**
   * Median seconds of {@code call} on fresh copies of the inputs in a per-run scope (copies
   * untimed).
   */
  private static double timeOp(
      NDManager base,
      Map<String, NDArray> inputs,
      Function<Map<String, NDArray>, Object> call,
      int repeats)
      throws Exception {
    List<Double> times = new ArrayList<>();
    for (int r = -2; r < repeats; r++) {
      try (NDManager scope = base.newSubManager()) {
        Map<String, NDArray> copies = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : inputs.entrySet()) {
          NDArray copy = e.getValue().duplicate();
          copy.attach(scope);
          copies.put(e.getKey(), copy);
        }
        double t = Timing.seconds(() -> call.apply(copies));
        if (r >= 0) {
          times.add(t);
        }
      }
    }
    return Timing.median(times);
  }
}
