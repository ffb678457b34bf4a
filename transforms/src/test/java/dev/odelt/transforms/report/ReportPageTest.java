package dev.odelt.transforms.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.proto.v1.DeadLetter;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.QualityPoint;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.proto.v1.TierSpec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ReportPageTest {

  private static final TierSpec S2 = TierSpec.newBuilder().setSteps(2).setBlocks(4).build();

  static ReportPage.Content content(boolean quote) throws IOException {
    RunSummary summary =
        RunSummary.newBuilder()
            .setModelName("m")
            .setModelVersion("1")
            .setOutput("/tmp/o")
            .setStarted("2026-01-01T00:00:00Z")
            .setFinished("2026-01-01T00:00:05Z")
            .setWallSeconds(5)
            .setRequestsAccepted(2)
            .setImages(9)
            .setImagesGenerated(9)
            .setDeviceSeconds(1.5)
            .setEstimatedCost(0.25)
            .setDeviceHourPrice(600)
            .setRejects(4)
            .putRejectsByReason("NO_SUBJECT", 4)
            .putOptions("resume", "false")
            .addTiers(
                TierAccount.newBuilder()
                    .setTierLabel("s2-b4")
                    .setTier(S2)
                    .setRequests(2)
                    .setImages(9)
                    .setImagesGenerated(9)
                    .setBatches(3)
                    .setDeviceSeconds(1.5)
                    .setEstimatedCost(0.25))
            .build();
    ModelManifest manifest =
        ModelManifest.newBuilder()
            .addQuality(
                QualityPoint.newBuilder()
                    .setTier(S2)
                    .setClassAccuracy(0.9)
                    .setBlockEvalsPerImage(8))
            .addQuality(
                QualityPoint.newBuilder()
                    .setTier(S2.toBuilder().setSteps(8))
                    .setClassAccuracy(0.97)
                    .setBlockEvalsPerImage(32))
            .build();
    DeadLetter bad =
        DeadLetter.newBuilder()
            .setSource("r.jsonl")
            .setLine(3)
            .setText("{\"x\":\"<script>alert(1)</script>\"}")
            .setReason(RejectReason.NO_SUBJECT)
            .setMessage("no subject")
            .build();
    byte[] sheet =
        Charts.bars("t", "c", "v", List.of(new Charts.Bar("a", 1)), 40, 30); // any small PNG
    return new ReportPage.Content(
        quote,
        summary,
        quote ? "calibrated on cpu()" : "",
        manifest,
        Map.of("NO_SUBJECT", List.of(bad)),
        quote ? Map.of() : Map.of("s2-b4", sheet));
  }

  @Test
  void runPageHoldsTheTableChartsSheetsAndEscapedDeadLetters() throws IOException {
    String html = ReportPage.html(content(false));
    assertTrue(html.contains("<table id=\"tiers\">"));
    assertTrue(html.contains("<td>s2-b4</td><td>2</td><td>9</td><td>3</td>"), html);
    assertTrue(html.contains("id=\"chart-cost\""));
    assertTrue(html.contains("id=\"chart-quality\""));
    assertTrue(html.contains("alt=\"contact sheet of s2-b4\""));
    // Shown at its own size (its captions are sized for 100 %), shrunk only to fit the page.
    assertTrue(html.contains("figure.sheet img{max-width:100%;height:auto;"), html);
    assertFalse(html.contains("width:200px"), html);
    assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assertFalse(html.contains("<script"), "no script, no injected markup");
    assertTrue(html.contains("1 of 4 shown"));
    assertFalse(html.contains("http://") || html.contains("https://"), "no network reference");
    Matcher images = Pattern.compile("src=\"data:image/png;base64,([^\"]+)\"").matcher(html);
    int count = 0;
    while (images.find()) {
      byte[] png = Base64.getDecoder().decode(images.group(1));
      assertTrue(ImageIO.read(new ByteArrayInputStream(png)) != null, "decodable PNG");
      count++;
    }
    assertEquals(3, count, "cost chart, quality chart and one contact sheet");
  }

  @Test
  void quotePageSaysItsNumbersArePredicted() throws IOException {
    String html = ReportPage.html(content(true));
    assertTrue(html.contains("Quote"));
    assertTrue(html.contains("calibrated on cpu()"));
    assertTrue(html.contains("predicted device s"));
    assertFalse(html.contains("Contact sheets"));
  }

  @Test
  void theWarmUpHasItsOwnRowWhenThereIsOne() throws IOException {
    assertFalse(ReportPage.html(content(false)).contains("id=\"warm-up\""), "none: no row");
    ReportPage.Content c = content(false);
    RunSummary warmed =
        c.summary().toBuilder().setWarmUpSeconds(0.36).setDeviceSeconds(1.86).build();
    String html =
        ReportPage.html(
            new ReportPage.Content(
                c.quote(),
                warmed,
                c.costModel(),
                c.manifest(),
                c.deadLetterSamples(),
                c.previews()));
    assertTrue(
        html.contains("<tr id=\"warm-up\"><td>warm-up</td><td></td><td></td><td></td><td></td>"
            + "<td>0.360</td><td>0.060000</td>"),
        html);
  }
}
