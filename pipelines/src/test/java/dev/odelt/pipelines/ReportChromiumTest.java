package dev.odelt.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.odelt.proto.v1.RunSummary;
import dev.odelt.proto.v1.TierAccount;
import dev.odelt.transforms.report.WriteReport;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens the job's report.html in a real headless Chromium (Debian's {@code chromium}; the test
 * skips itself when it is not installed — CI installs it): the page loads without console messages,
 * its DOM holds the per-tier table and every image, and the screenshot shows the charts.
 */
class ReportChromiumTest {

  @TempDir static Path sandbox;
  static HeadlessChromium chromium;

  /** The bars' colour in the cost chart (Charts.PALETTE[0]). */
  private static final int BAR_BLUE = 0x1f77b4;

  @BeforeAll
  static void browser() {
    Optional<HeadlessChromium> found = HeadlessChromium.find(sandbox);
    assumeTrue(found.isPresent(), "chromium is not installed (apt-get install chromium)");
    chromium = found.get();
  }

  @Test
  void runReportRendersWithoutErrorsAndShowsTableChartsAndSheets() throws Exception {
    String model = JobFixtures.model(sandbox.resolve("model"));
    Path in = JobFixtures.manifests(sandbox.resolve("in"));
    Path out = sandbox.resolve("out");
    JobFixtures.Run run =
        JobFixtures.cli(
            "--requests=" + in + "/*",
            "--output=" + out,
            "--model=" + model,
            "--device=cpu",
            "--runner=DirectRunner",
            "--maxBatchSize=4");
    assertEquals(GenerateJob.EXIT_REJECTS, run.exitCode(), run.console());
    RunSummary summary = GenerateJob.readSummary(out.toString());
    Path page = out.resolve(WriteReport.REPORT_HTML);

    HeadlessChromium.Load dom = chromium.dumpDom(page);
    assertEquals(List.of(), dom.consoleLines(), "console messages while loading the page");
    String html = dom.stdout();
    assertTrue(html.contains("<table id=\"tiers\">"), html);
    for (TierAccount t : summary.getTiersList()) {
      assertTrue(html.contains("<td>" + t.getTierLabel() + "</td>"), t.getTierLabel());
      assertTrue(html.contains("alt=\"contact sheet of " + t.getTierLabel() + "\""));
    }
    Matcher images = Pattern.compile("<img [^>]*src=\"data:image/png;base64,").matcher(html);
    int count = 0;
    while (images.find()) {
      count++;
    }
    assertTrue(html.contains("id=\"chart-cost\""), "the cost chart");
    int charts = html.contains("id=\"chart-quality\"") ? 2 : 1;
    assertEquals(charts + summary.getTiersCount(), count, "the charts and one sheet per tier");
    assertTrue(html.contains("CLASS_OUT_OF_RANGE"), "dead letters grouped by reason");

    Path png = sandbox.resolve("report.png");
    HeadlessChromium.Load shot = chromium.screenshot(page, png, 1200, 2400);
    assertEquals(List.of(), shot.consoleLines());
    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(1200, image.getWidth());
    assertTrue(countNear(image, BAR_BLUE) > 500, "the cost chart's bars are drawn");
    Path kept = Path.of("target", "report-screenshot.png");
    Files.createDirectories(kept.getParent());
    Files.copy(png, kept, StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void theConsoleCheckSeesAScriptError() throws Exception {
    Path broken = sandbox.resolve("broken.html");
    Files.writeString(
        broken, "<!DOCTYPE html><html><body><script>missingFunction();</script></body></html>");
    HeadlessChromium.Load load = chromium.dumpDom(broken);
    assertFalse(load.consoleLines().isEmpty(), "an uncaught error is reported");
    assertTrue(String.join("\n", load.consoleLines()).contains("missingFunction"));
  }

  private static int countNear(BufferedImage image, int rgb) {
    int count = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        int p = image.getRGB(x, y);
        if (Math.abs(((p >> 16) & 0xff) - ((rgb >> 16) & 0xff)) < 12
            && Math.abs(((p >> 8) & 0xff) - ((rgb >> 8) & 0xff)) < 12
            && Math.abs((p & 0xff) - (rgb & 0xff)) < 12) {
          count++;
        }
      }
    }
    return count;
  }
}
