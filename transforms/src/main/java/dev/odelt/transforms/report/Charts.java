package dev.odelt.transforms.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.labels.XYItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The report's charts, rendered headless with JFreeChart to PNG bytes: a bar chart of a value per
 * category, and a labelled scatter of points in named series. Same input, same bytes.
 */
public final class Charts {

  static final Color[] PALETTE = {
    new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
    new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b)
  };

  private Charts() {}

  /** A bar of {@code value} for {@code category}. */
  public record Bar(String category, double value) {}

  /**
   * One series of a scatter: points (x, y) with a label per point (or none).
   *
   * @param name the legend entry
   * @param emphasised drawn with larger marks (e.g. the tiers of this run)
   */
  public record Series(
      String name, List<double[]> points, List<String> labels, boolean emphasised) {
    public Series {
      points = List.copyOf(points);
      labels = List.copyOf(labels);
      if (!labels.isEmpty() && labels.size() != points.size()) {
        throw new IllegalArgumentException("one label per point, or none");
      }
    }
  }

  /** A bar chart as PNG bytes. */
  public static byte[] bars(
      String title,
      String categoryLabel,
      String valueLabel,
      List<Bar> bars,
      int width,
      int height) {
    headless();
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (Bar b : bars) {
      data.addValue(b.value(), valueLabel, b.category());
    }
    CategoryAxis categories = new CategoryAxis(categoryLabel);
    categories.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
    NumberAxis values = new NumberAxis(valueLabel);
    values.setNumberFormatOverride(format());
    BarRenderer renderer = new BarRenderer();
    renderer.setBarPainter(new StandardBarPainter());
    renderer.setShadowVisible(false);
    renderer.setSeriesPaint(0, PALETTE[0]);
    renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", format()));
    renderer.setDefaultItemLabelsVisible(true);
    CategoryPlot plot = new CategoryPlot(data, categories, values, renderer);
    plot.setOrientation(PlotOrientation.VERTICAL);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(new Color(0xdddddd));
    JFreeChart chart = new JFreeChart(title, titleFont(), plot, false);
    chart.setBackgroundPaint(Color.WHITE);
    return png(chart, width, height);
  }

  /** A scatter of labelled points as PNG bytes; an empty series list is refused. */
  public static byte[] scatter(
      String title, String xLabel, String yLabel, List<Series> series, int width, int height) {
    headless();
    XYSeriesCollection data = new XYSeriesCollection();
    for (Series s : series) {
      XYSeries xy = new XYSeries(s.name(), false, true);
      s.points().forEach(p -> xy.add(p[0], p[1]));
      data.addSeries(xy);
    }
    if (data.getSeriesCount() == 0) {
      throw new IllegalArgumentException("nothing to plot in " + title);
    }
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
      double r = s.emphasised() ? 6 : 3.5;
      renderer.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-r, -r, 2 * r, 2 * r));
      renderer.setSeriesStroke(i, new BasicStroke(1.5f));
      if (!s.labels().isEmpty()) {
        List<String> labels = s.labels();
        renderer.setSeriesItemLabelGenerator(i, labeller(labels));
        renderer.setSeriesItemLabelsVisible(i, true);
      }
    }
    double minX = Double.POSITIVE_INFINITY;
    double maxX = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (double[] p : s.points()) {
        minX = Math.min(minX, p[0]);
        maxX = Math.max(maxX, p[0]);
      }
    }
    // Costs span orders of magnitude (one step at few blocks to many guided steps at all blocks).
    ValueAxis x;
    if (minX > 0 && maxX / minX > 20) {
      LogAxis log = new LogAxis(xLabel + " (log)");
      log.setBase(10);
      log.setSmallestValue(minX / 2);
      log.setStandardTickUnits(NumberAxis.createIntegerTickUnits(java.util.Locale.ROOT));
      log.setNumberFormatOverride(new java.text.DecimalFormat("0.##"));
      x = log;
    } else {
      NumberAxis linear = new NumberAxis(xLabel);
      linear.setAutoRangeIncludesZero(false);
      x = linear;
    }
    NumberAxis y = new NumberAxis(yLabel);
    y.setAutoRangeIncludesZero(false);
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xdddddd));
    plot.setRangeGridlinePaint(new Color(0xdddddd));
    JFreeChart chart = new JFreeChart(title, titleFont(), plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    return png(chart, width, height);
  }

  /** Item labels by index into the series' points (points keep their insertion order). */
  static XYItemLabelGenerator labeller(List<String> labels) {
    return (dataset, seriesIndex, item) -> item < labels.size() ? labels.get(item) : null;
  }

  private static Font titleFont() {
    return new Font(Font.SANS_SERIF, Font.BOLD, 15);
  }

  private static java.text.NumberFormat format() {
    java.text.NumberFormat f = java.text.NumberFormat.getNumberInstance(java.util.Locale.ROOT);
    f.setMaximumFractionDigits(6);
    f.setGroupingUsed(false);
    return f;
  }

  static byte[] png(JFreeChart chart, int width, int height) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ChartUtils.writeChartAsPNG(out, chart, width, height);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static void headless() {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
  }
}
