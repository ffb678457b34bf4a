package dev.odelt.transforms.report;

import dev.odelt.model.Tier;
import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.QualityPoint;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Renders {@code report.html}: one self-contained HTML page with no script and no external
 * reference (charts and contact sheets are inlined as {@code data:} URIs), readable from a bucket
 * download. Sections: totals, the per-tier table (images, device seconds, cost, seconds per image),
 * a bar chart of cost by tier, the model's quality-vs-cost points with this run's tiers marked, the
 * contact sheets, dead letters grouped by reason with a few original lines each, and the run's
 * options and timing. A quote (from {@code --plan}) says that its seconds and costs are predicted
 * and how. Every text from the input is HTML-escaped.
 */
public final class ReportPage {

  private ReportPage() {}

  /**
   * What the page shows.
   *
   * @param quote a plan's quote rather than a finished run
   * @param summary the run summary (for a quote: the predicted one)
   * @param costModel how predictions were made (quotes only; empty for a run)
   * @param manifest the model's manifest (name, quality points)
   * @param deadLetterSamples a few dead letters per reason name
   * @param previews contact sheet PNG per tier label
   * @param history the runs that wrote the output ({@code runs/*.json}), oldest first
   */
  public record Content(
      boolean quote,
      RunSummary summary,
      String costModel,
      ModelManifest manifest,
      Map<String, List<DeadLetter>> deadLetterSamples,
      Map<String, byte[]> previews,
      List<RunSummary> history) {
    public Content {
      deadLetterSamples = new TreeMap<>(deadLetterSamples);
      previews = new TreeMap<>(previews);
      history = List.copyOf(history);
    }

    /** Without a history of runs. */
    public Content(
        boolean quote,
        RunSummary summary,
        String costModel,
        ModelManifest manifest,
        Map<String, List<DeadLetter>> deadLetterSamples,
        Map<String, byte[]> previews) {
      this(quote, summary, costModel, manifest, deadLetterSamples, previews, List.of());
    }
  }

  /** The page. */
  public static String html(Content c) {
    RunSummary s = c.summary();
    String predicted = c.quote() ? "predicted " : "";
    StringBuilder h = new StringBuilder();
    String title =
        (c.quote() ? "Quote" : "Run report") + " — " + s.getModelName() + " " + s.getModelVersion();
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>")
        .append(esc(title))
        .append("</title>\n<style>\n")
        .append(CSS)
        .append("</style>\n</head>\n<body>\n");
    h.append("<h1>").append(esc(title)).append("</h1>\n");
    h.append("<p class=\"sub\">")
        .append(c.quote() ? "Planned " : "Ran ")
        .append(esc(s.getStarted()))
        .append(" → ")
        .append(esc(s.getFinished()))
        .append(f(" (%.1f s) into ", s.getWallSeconds()))
        .append("<code>")
        .append(esc(s.getOutput()))
        .append("</code></p>\n");
    if (c.quote()) {
      h.append(
              "<p class=\"note\" id=\"cost-model\">Nothing was generated: device seconds and costs")
          .append(" are predictions. Cost model: ")
          .append(esc(c.costModel()))
          .append(".</p>\n");
    }

    h.append("<div class=\"totals\" id=\"totals\">\n");
    total(h, "requests accepted", Long.toString(s.getRequestsAccepted()));
    total(
        h,
        c.quote() ? "images to generate" : "images generated",
        Long.toString(s.getImagesGenerated()));
    total(h, "images resumed", Long.toString(s.getImagesResumed()));
    if (s.getImagesRepaired() > 0) {
      total(h, "images repaired", Long.toString(s.getImagesRepaired()));
    }
    if (s.getImagesRecovered() > 0) {
      total(h, "images kept after a failover", Long.toString(s.getImagesRecovered()));
    }
    total(h, predicted + "device seconds", f("%.2f", s.getDeviceSeconds()));
    total(h, predicted + "cost", f("%.6f", s.getEstimatedCost()));
    total(h, "rejected inputs", Long.toString(s.getRejects()));
    h.append("</div>\n");

    h.append("<h2>Tiers</h2>\n<table id=\"tiers\">\n<thead><tr>")
        .append("<th>tier</th><th>requests</th><th>images</th><th>batches</th>")
        .append("<th>block evals / image</th><th>")
        .append(predicted)
        .append("device s</th><th>")
        .append(predicted)
        .append("cost</th><th>s / image</th></tr></thead>\n<tbody>\n");
    for (TierAccount t : s.getTiersList()) {
      h.append("<tr><td>")
          .append(esc(t.getTierLabel()))
          .append("</td><td>")
          .append(t.getRequests())
          .append("</td><td>")
          .append(t.getImages())
          .append("</td><td>")
          .append(t.getBatches())
          .append("</td><td>")
          .append(f("%.1f", t.getBlockEvaluationsPerImage()))
          .append("</td><td>")
          .append(f("%.3f", t.getDeviceSeconds()))
          .append("</td><td>")
          .append(f("%.6f", t.getEstimatedCost()))
          .append("</td><td>")
          .append(f("%.5f", t.getSecondsPerImage()))
          .append("</td></tr>\n");
    }
    if (s.getWarmUpSeconds() > 0) {
      // The worker threads' warm-up calls, one each before its first batch: in no tier.
      h.append("<tr id=\"warm-up\"><td>warm-up</td><td></td><td></td><td></td><td></td><td>")
          .append(f("%.3f", s.getWarmUpSeconds()))
          .append("</td><td>")
          .append(f("%.6f", s.getWarmUpSeconds() / 3600 * s.getDeviceHourPrice()))
          .append("</td><td></td></tr>\n");
    }
    h.append("<tr class=\"sum\"><td>total</td><td>")
        .append(s.getRequestsAccepted())
        .append("</td><td>")
        .append(s.getImages())
        .append("</td><td>")
        .append(s.getTiersList().stream().mapToLong(TierAccount::getBatches).sum())
        .append("</td><td></td><td>")
        .append(f("%.3f", s.getDeviceSeconds()))
        .append("</td><td>")
        .append(f("%.6f", s.getEstimatedCost()))
        .append("</td><td></td></tr>\n</tbody>\n</table>\n");
    h.append("<p class=\"note\">Cost = device seconds / 3600 × ")
        .append(f("%s", trim(s.getDeviceHourPrice())))
        .append(" per device hour.");
    if (s.getWarmUpSeconds() > 0) {
      h.append(" Warm-up: each worker thread's first sampler call, made before its first batch")
          .append(" so that no tier pays the process's and thread's one-off costs.");
    }
    h.append("</p>\n");

    h.append("<h2>Charts</h2>\n<div class=\"charts\">\n");
    if (!s.getTiersList().isEmpty()) {
      List<Charts.Bar> bars =
          s.getTiersList().stream()
              .map(t -> new Charts.Bar(t.getTierLabel(), t.getEstimatedCost()))
              .toList();
      img(
          h,
          "chart-cost",
          "Cost by tier",
          Charts.bars(
              (c.quote() ? "Predicted cost" : "Cost") + " by tier",
              "tier",
              "cost",
              bars,
              640,
              400));
    } else {
      h.append("<p>No tier: nothing was accepted.</p>\n");
    }
    byte[] quality = qualityChart(c);
    if (quality != null) {
      img(h, "chart-quality", "Quality versus cost of the model's tiers", quality);
    } else {
      h.append("<p>The model's manifest has no quality points.</p>\n");
    }
    h.append("</div>\n");

    if (!c.quote()) {
      h.append("<h2>Contact sheets</h2>\n");
      if (c.previews().isEmpty()) {
        h.append("<p>No images.</p>\n");
      }
      h.append("<div class=\"sheets\">\n");
      for (Map.Entry<String, byte[]> e : c.previews().entrySet()) {
        h.append("<figure class=\"sheet\"><img alt=\"contact sheet of ")
            .append(esc(e.getKey()))
            .append("\" src=\"")
            .append(dataUri(e.getValue()))
            .append("\"><figcaption>")
            .append(esc(e.getKey()))
            .append("</figcaption></figure>\n");
      }
      h.append("</div>\n");
    }

    h.append("<h2>Rejected input</h2>\n<div id=\"dead-letters\">\n");
    if (s.getRejectsByReasonMap().isEmpty()) {
      h.append("<p>Nothing was rejected.</p>\n");
    }
    for (Map.Entry<String, Long> e : new TreeMap<>(s.getRejectsByReasonMap()).entrySet()) {
      List<DeadLetter> samples = c.deadLetterSamples().getOrDefault(e.getKey(), List.of());
      h.append("<h3>")
          .append(esc(e.getKey()))
          .append(" — ")
          .append(e.getValue())
          .append(e.getValue() == 1 ? " input" : " inputs")
          .append("</h3>\n<table class=\"dead\"><thead><tr><th>where</th><th>line as written</th>")
          .append("<th>why</th></tr></thead><tbody>\n");
      for (DeadLetter d : samples) {
        h.append("<tr><td><code>")
            .append(esc(d.getSource()))
            .append(d.getLine() > 0 ? ":" + d.getLine() : "")
            .append("</code></td><td><code>")
            .append(esc(d.getText()))
            .append("</code></td><td>")
            .append(esc(d.getMessage()))
            .append("</td></tr>\n");
      }
      h.append("</tbody></table>\n");
      if (e.getValue() > samples.size()) {
        h.append("<p class=\"note\">")
            .append(samples.size())
            .append(" of ")
            .append(e.getValue())
            .append(" shown; all are in <code>errors/dead-letters-*.jsonl</code>.</p>\n");
      }
    }
    h.append("</div>\n");

    if (!c.history().isEmpty()) {
      runs(h, c.history());
    }

    h.append("<h2>Options and timing</h2>\n<table id=\"options\"><tbody>\n");
    row(
        h,
        "model",
        s.getModelName() + " " + s.getModelVersion() + " (" + s.getModelLocation() + ")");
    if (!s.getModelDigest().isEmpty()) {
      row(h, "model digest (manifest.json sha256)", s.getModelDigest());
    }
    if (!s.getDecoderDigest().isEmpty()) {
      row(h, "decoder digest", s.getDecoderDigest());
    }
    if (!s.getPrecision().isEmpty()) {
      row(h, "precision / device", s.getPrecision() + " / " + s.getDeviceKind());
      row(h, "job version", s.getJobVersion());
    }
    row(h, "started", s.getStarted());
    row(h, "finished", s.getFinished());
    row(h, "wall seconds", f("%.1f", s.getWallSeconds()));
    row(h, predicted + "device seconds", f("%.3f", s.getDeviceSeconds()));
    row(h, "device hour price", trim(s.getDeviceHourPrice()));
    for (Map.Entry<String, String> e : new TreeMap<>(s.getOptionsMap()).entrySet()) {
      row(h, e.getKey(), e.getValue());
    }
    h.append("</tbody></table>\n</body>\n</html>\n");
    return h.toString();
  }

  /** The runs that wrote the output, oldest first: what each generated, resumed and repaired. */
  private static void runs(StringBuilder h, List<RunSummary> history) {
    h.append("<h2>Runs of this output</h2>\n<table id=\"runs\">\n<thead><tr>")
        .append("<th>started</th><th>model</th><th>precision</th><th>images</th>")
        .append("<th>generated</th><th>resumed</th><th>repaired</th><th>rejected</th>")
        .append("</tr></thead>\n<tbody>\n");
    for (RunSummary r : history) {
      String digest = r.getModelDigest();
      h.append("<tr><td>")
          .append(esc(r.getStarted()))
          .append("</td><td>")
          .append(esc(r.getModelName() + " " + r.getModelVersion()))
          .append(digest.isEmpty() ? "" : " <code>" + esc(digest.substring(0, 12)) + "</code>")
          .append("</td><td>")
          .append(esc(r.getPrecision()))
          .append("</td><td>")
          .append(r.getImages())
          .append("</td><td>")
          .append(r.getImagesGenerated())
          .append("</td><td>")
          .append(r.getImagesResumed())
          .append("</td><td>")
          .append(r.getImagesRepaired())
          .append("</td><td>")
          .append(r.getRejects())
          .append("</td></tr>\n");
    }
    h.append("</tbody></table>\n");
  }

  /**
   * Accuracy versus block evaluations per image of the model's quality points; this run's tiers
   * that have a point are a second, emphasised series. Null when the manifest has no points.
   */
  static byte[] qualityChart(Content c) {
    List<QualityPoint> points = c.manifest().getQualityList();
    if (points.isEmpty()) {
      return null;
    }
    Set<String> used =
        c.summary().getTiersList().stream()
            .map(TierAccount::getTierLabel)
            .collect(Collectors.toSet());
    List<double[]> all = new ArrayList<>();
    List<double[]> mine = new ArrayList<>();
    List<String> mineLabels = new ArrayList<>();
    for (QualityPoint p : points) {
      double[] xy = {p.getBlockEvalsPerImage(), p.getClassAccuracy()};
      all.add(xy);
      String label = Tier.fromProto(p.getTier()).label();
      if (used.contains(label)) {
        mine.add(xy);
        mineLabels.add(label);
      }
    }
    List<Charts.Series> series = new ArrayList<>();
    series.add(new Charts.Series("the model's measured tiers", all, List.of(), false));
    if (!mine.isEmpty()) {
      series.add(new Charts.Series("tiers of this run", mine, mineLabels, true));
    }
    return Charts.scatter(
        "Quality vs cost", "block evaluations per image", "class accuracy", series, 640, 400);
  }

  private static void total(StringBuilder h, String name, String value) {
    h.append("<div class=\"total\"><div class=\"v\">")
        .append(esc(value))
        .append("</div><div class=\"k\">")
        .append(esc(name))
        .append("</div></div>\n");
  }

  private static void row(StringBuilder h, String key, String value) {
    h.append("<tr><th>")
        .append(esc(key))
        .append("</th><td>")
        .append(esc(value))
        .append("</td></tr>\n");
  }

  private static void img(StringBuilder h, String id, String alt, byte[] png) {
    h.append("<img class=\"chart\" id=\"")
        .append(id)
        .append("\" alt=\"")
        .append(esc(alt))
        .append("\" src=\"")
        .append(dataUri(png))
        .append("\">\n");
  }

  static String dataUri(byte[] png) {
    return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
  }

  /** HTML-escapes text for element content and quoted attributes. */
  static String esc(String text) {
    StringBuilder b = new StringBuilder(text.length());
    text.codePoints()
        .forEach(
            cp -> {
              switch (cp) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> {
                  if (Character.isISOControl(cp) && cp != '\n' && cp != '\t') {
                    b.append("\uFFFD");
                  } else {
                    b.appendCodePoint(cp);
                  }
                }
              }
            });
    return b.toString();
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private static String trim(double v) {
    return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
  }

  private static final String CSS =
      String.join(
          "\n",
          "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;",
          "max-width:1100px;color:#222;padding:0 16px}",
          "h1{font-size:1.6em;margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #ddd}",
          ".sub{color:#666;margin-top:0}.note{color:#555;font-size:.9em}",
          ".totals{display:flex;flex-wrap:wrap;gap:12px}",
          ".total{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}",
          ".total .v{font-size:1.4em;font-weight:600}.total .k{color:#666;font-size:.85em}",
          "table{border-collapse:collapse;margin:8px 0}",
          "th,td{border:1px solid #ddd;padding:4px 8px;text-align:right;vertical-align:top}",
          "td:first-child,th:first-child{text-align:left}",
          "#options td{text-align:left}",
          "table.dead td,table.dead th{text-align:left;max-width:520px;overflow-wrap:anywhere}",
          "tr.sum td{font-weight:600}",
          ".charts{display:flex;flex-wrap:wrap;gap:12px}",
          "img.chart{max-width:100%;border:1px solid #eee}",
          ".sheets{display:flex;flex-wrap:wrap;gap:16px}",
          "figure.sheet{margin:0;max-width:100%}figure.sheet img{max-width:100%;height:auto;",
          "image-rendering:pixelated;",
          "border:1px solid #ccc}figcaption{text-align:center;font-size:.9em}",
          "");
}
