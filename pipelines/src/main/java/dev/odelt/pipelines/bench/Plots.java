package dev.odelt.pipelines.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Headless line and scatter plots (PNG) for the benchmark report, drawn with JFreeChart: a title,
 * axes with labels, a legend, optional log scales, optional point labels.
 */
public final class Plots {

  private static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
    new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b)
  };

  private Plots() {}

  /**
   * What a chart shows.
   *
   * @param title drawn above the plot area
   * @param xLabel x-axis label, {@code yLabel} y-axis label
   * @param logX base-10 log x axis (values must be positive), {@code logY} likewise
   * @param lines join each series' points with lines (else points only)
   */
  public record Chart(
      String title, String xLabel, String yLabel, boolean logX, boolean logY, boolean lines) {}

  /**
   * One series: points (x, y) and optional per-point labels (empty, or one per point).
   *
   * @param name legend entry
   */
  public record Series(String name, List<double[]> points, List<String> labels) {
    public Series {
      points = List.copyOf(points);
      labels = List.copyOf(labels);
      if (!labels.isEmpty() && labels.size() != points.size()) {
        throw new IllegalArgumentException("one label per point, or none");
      }
    }

    public static Series of(String name, List<double[]> points) {
      return new Series(name, points, List.of());
    }
  }

  /**
   * Renders {@code series} and writes a PNG of {@code width} × {@code height} pixels.
   *
   * @throws IllegalArgumentException when there is no point, a value is not finite, or a log axis
   *     gets a value ≤ 0
   */
  public static void write(Chart chart, List<Series> series, Path file, int width, int height)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYSeriesCollection data = new XYSeriesCollection();
    int points = 0;
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      // Keys must be unique in a collection; the index keeps equal legend names apart.
      XYSeries xy = new XYSeries(new Key(i, s.name()), false, true);
      for (double[] p : s.points()) {
        check(p[0], chart.logX(), chart.xLabel());
        check(p[1], chart.logY(), chart.yLabel());
        xy.add(p[0], p[1]);
        points++;
      }
      data.addSeries(xy);
    }
    if (points == 0) {
      throw new IllegalArgumentException("nothing to plot in " + chart.title());
    }
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(chart.lines(), true);
    for (int i = 0; i < series.size(); i++) {
      renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
      renderer.setSeriesStroke(i, new BasicStroke(2f));
      renderer.setSeriesShape(i, new Ellipse2D.Double(-4, -4, 8, 8));
      List<String> labels = series.get(i).labels();
      if (!labels.isEmpty()) {
        renderer.setSeriesItemLabelGenerator(
            i, (dataset, s, item) -> item < labels.size() ? labels.get(item) : null);
        renderer.setSeriesItemLabelsVisible(i, true);
      }
    }
    XYPlot plot =
        new XYPlot(
            data, axis(chart.xLabel(), chart.logX()), axis(chart.yLabel(), chart.logY()), renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xe6e6e6));
    plot.setRangeGridlinePaint(new Color(0xe6e6e6));
    JFreeChart jfree =
        new JFreeChart(
            chart.title(),
            new Font(Font.SANS_SERIF, Font.BOLD, Math.max(12, height / 30)),
            plot,
            true);
    jfree.setBackgroundPaint(Color.WHITE);
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    ChartUtils.saveChartAsPNG(file.toFile(), jfree, width, height);
  }

  private static ValueAxis axis(String label, boolean log) {
    if (log) {
      LogAxis axis = new LogAxis(label + " (log)");
      axis.setBase(10);
      axis.setSmallestValue(1e-12);
      return axis;
    }
    NumberAxis axis = new NumberAxis(label);
    axis.setAutoRangeIncludesZero(false);
    return axis;
  }

  private static void check(double v, boolean log, String label) {
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException(label + ": value " + v + " is not finite");
    }
    if (log && v <= 0) {
      throw new IllegalArgumentException(label + ": log axis needs values > 0, got " + v);
    }
  }

  /** A series key: shown as its name in the legend, unique by index. */
  private record Key(int index, String name) implements Comparable<Key> {
    @Override
    public int compareTo(Key other) {
      return Integer.compare(index, other.index);
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
