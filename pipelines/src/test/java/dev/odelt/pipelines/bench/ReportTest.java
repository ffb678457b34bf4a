package dev.odelt.pipelines.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

  private static final Section SECTION =
      new Section(
          "tier-scaling",
          "Tier scaling",
          "Timed twice.",
          List.of(
              new Section.Table(
                  "ms per image",
                  List.of("S", "L=2"),
                  List.of(List.of("1", "0.5"), List.of("4", "a|b")))),
          List.of(
              new Section.Goal("ratio", "≤ 1.0", "0.9", true),
              new Section.Goal("other", "≥ 2", "1", false)),
          List.of("Fast enough.", "Two\nlines."),
          Map.of("cells", Map.of("s1-b2", 0.5)),
          List.of("benchmarks/tier-scaling-seconds.png"));

  private static final Report.Environment ENV =
      new Report.Environment(
          "2026-11-25T21:00:00Z", "2 cores", "JDK 17", "DJL 0.33.0", "m 1", "java X", "short", 2);

  @Test
  void sectionRendersTablesGoalsFindingsAndPlots() {
    String md = Report.section(SECTION);
    assertTrue(md.startsWith("## Tier scaling\n\n**Method.** Timed twice.\n\n"), md);
    assertTrue(
        md.contains("**ms per image**\n\n| S | L=2 |\n|---|---|\n| 1 | 0.5 |\n| 4 | a\\|b |\n"),
        md);
    assertTrue(md.contains("| Goal | Target | Measured | Met |\n|---|---|---|---|\n"), md);
    assertTrue(md.contains("| ratio | ≤ 1.0 | 0.9 | yes |\n| other | ≥ 2 | 1 | no |\n"), md);
    assertTrue(md.contains("- Fast enough.\n- Two\n  lines.\n"), md);
    assertTrue(md.contains("![tier-scaling](benchmarks/tier-scaling-seconds.png)"), md);
  }

  @Test
  void reportHasEnvironmentCommandAndSummary() {
    String md = Report.markdown(ENV, List.of(SECTION));
    assertTrue(md.contains("| Machine | 2 cores |"), md);
    assertTrue(md.contains("```\njava X\n```"), md);
    assertTrue(md.contains("| [Tier scaling](#tier-scaling) | 1 of 2 |"), md);
  }

  @Test
  void writesMarkdownAndJson(@TempDir Path dir) throws Exception {
    Report.write(dir, ENV, List.of(SECTION));
    assertTrue(Files.readString(dir.resolve("BENCHMARKS.md")).contains("## Tier scaling"));
    JsonObject json =
        JsonParser.parseString(Files.readString(dir.resolve("benchmarks/results.json")))
            .getAsJsonObject();
    assertEquals("short", json.getAsJsonObject("environment").get("mode").getAsString());
    JsonObject section = json.getAsJsonObject("sections").getAsJsonObject("tier-scaling");
    assertEquals(
        0.5, section.getAsJsonObject("raw").getAsJsonObject("cells").get("s1-b2").getAsDouble());
    assertEquals(
        false, section.getAsJsonArray("goals").get(1).getAsJsonObject().get("met").getAsBoolean());
  }
}
