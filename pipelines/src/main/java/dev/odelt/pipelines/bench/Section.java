package dev.odelt.pipelines.bench;

import java.util.List;
import java.util.Map;

/**
 * What one benchmark measured: one section of {@code BENCHMARKS.md} and one entry of the raw JSON.
 *
 * @param id stable key in the JSON and the file names of its plots, e.g. {@code tier-scaling}
 * @param title section heading
 * @param method how it was measured (warm-up, repeats, what runs side by side), in prose
 * @param tables the measured tables, in order
 * @param goals each goal of the issue with its measured value and whether it was met
 * @param findings what the numbers show, including where time goes when a goal is missed
 * @param raw every measured number, for the JSON (maps, lists, numbers and strings only)
 * @param plots PNG files written for this section, relative to the report directory
 */
public record Section(
    String id,
    String title,
    String method,
    List<Table> tables,
    List<Goal> goals,
    List<String> findings,
    Map<String, Object> raw,
    List<String> plots) {

  public Section {
    tables = List.copyOf(tables);
    goals = List.copyOf(goals);
    findings = List.copyOf(findings);
    raw = Map.copyOf(raw);
    plots = List.copyOf(plots);
  }

  /** A table: a header row and data rows of already formatted cells. */
  public record Table(String caption, List<String> header, List<List<String>> rows) {
    public Table {
      header = List.copyOf(header);
      rows = rows.stream().map(List::copyOf).toList();
      for (List<String> row : rows) {
        if (row.size() != header.size()) {
          throw new IllegalArgumentException(
              "Row " + row + " has " + row.size() + " cells, header has " + header.size());
        }
      }
    }
  }

  /**
   * A goal of the benchmark issue.
   *
   * @param name e.g. "time(L=2) / time(L=6) within 10% of 2/6"
   * @param target the target, as text, e.g. "≥ 0.90"
   * @param measured the measured value, as text
   * @param met whether the measured value meets the target
   */
  public record Goal(String name, String target, String measured, boolean met) {}
}
