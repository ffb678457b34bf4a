package dev.odelt.transforms.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Line2D;
import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
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

  private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

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
    // Point labels are placed here rather than by the renderer, which puts every label at the same
    // offset from its point, so that tiers of nearly the same cost and quality do not overprint.
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = image.createGraphics();
    try {
      ChartRenderingInfo info = new ChartRenderingInfo();
      chart.draw(g, new Rectangle2D.Double(0, 0, width, height), info);
      Rectangle2D area = info.getPlotInfo().getDataArea();
      List<Point2D> marks = new ArrayList<>();
      List<Double> radii = new ArrayList<>();
      List<Point2D> labelled = new ArrayList<>();
      List<String> texts = new ArrayList<>();
      for (Series s : series) {
        for (int j = 0; j < s.points().size(); j++) {
          double[] p = s.points().get(j);
          Point2D at =
              new Point2D.Double(
                  x.valueToJava2D(p[0], area, plot.getDomainAxisEdge()),
                  y.valueToJava2D(p[1], area, plot.getRangeAxisEdge()));
          marks.add(at);
          radii.add(s.emphasised() ? 6.0 : 3.5);
          if (!s.labels().isEmpty() && !s.labels().get(j).isEmpty()) {
            labelled.add(at);
            texts.add(s.labels().get(j));
          }
        }
      }
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setFont(LABEL_FONT);
      FontMetrics metrics = g.getFontMetrics();
      List<Rectangle2D> sizes = new ArrayList<>();
      for (String text : texts) {
        sizes.add(new Rectangle2D.Double(0, 0, metrics.stringWidth(text), metrics.getHeight()));
      }
      List<Rectangle2D> boxes = placeLabels(labelled, sizes, marks, radii, area);
      for (int i = 0; i < boxes.size(); i++) {
        Rectangle2D box = boxes.get(i);
        Point2D at = labelled.get(i);
        double nx = Math.max(box.getMinX(), Math.min(at.getX(), box.getMaxX()));
        double ny = Math.max(box.getMinY(), Math.min(at.getY(), box.getMaxY()));
        if (at.distance(nx, ny) > 9) {
          g.setColor(new Color(0x999999));
          g.draw(new Line2D.Double(at.getX(), at.getY(), nx, ny));
        }
        g.setColor(new Color(0x333333));
        g.drawString(
            texts.get(i), (float) box.getMinX(), (float) (box.getMinY() + metrics.getAscent()));
      }
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ChartUtils.writeBufferedImageAsPNG(out, image);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Where each label goes: the first of a few positions around its point (right, above, below,
   * left, the corners; then the same twice as far) whose box stays in {@code area} and overlaps
   * neither an earlier label nor a point's mark; when none is free, the position with the least
   * overlap. Labels are placed in order, so the same input gives the same boxes.
   *
   * @param points the labelled points, in pixels
   * @param sizes each label's width and height (only the size is used)
   * @param marks every point drawn, labelled or not, with its mark's radius in {@code radii}
   * @return the box of each label, in pixels
   */
  static List<Rectangle2D> placeLabels(
      List<Point2D> points,
      List<Rectangle2D> sizes,
      List<Point2D> marks,
      List<Double> radii,
      Rectangle2D area) {
    List<Rectangle2D> obstacles = new ArrayList<>();
    for (int i = 0; i < marks.size(); i++) {
      double r = radii.get(i);
      obstacles.add(
          new Rectangle2D.Double(marks.get(i).getX() - r, marks.get(i).getY() - r, 2 * r, 2 * r));
    }
    List<Rectangle2D> placed = new ArrayList<>();
    for (int i = 0; i < points.size(); i++) {
      double px = points.get(i).getX();
      double py = points.get(i).getY();
      double w = sizes.get(i).getWidth();
      double h = sizes.get(i).getHeight();
      Rectangle2D best = null;
      double bestOverlap = Double.POSITIVE_INFINITY;
      for (double d : new double[] {8, 20, 34}) {
        double[][] corners = {
          {px + d, py - h / 2},
          {px - w / 2, py - d - h},
          {px - w / 2, py + d},
          {px - d - w, py - h / 2},
          {px + d * 0.7, py - d * 0.7 - h},
          {px + d * 0.7, py + d * 0.7},
          {px - d * 0.7 - w, py - d * 0.7 - h},
          {px - d * 0.7 - w, py + d * 0.7}
        };
        for (double[] c : corners) {
          Rectangle2D box = new Rectangle2D.Double(c[0], c[1], w, h);
          double overlap = overlap(box, placed) + overlap(box, obstacles);
          if (!area.contains(box)) {
            overlap += w * h;
          }
          if (overlap < bestOverlap) {
            best = box;
            bestOverlap = overlap;
          }
          if (overlap == 0) {
            break;
          }
        }
        if (bestOverlap == 0) {
          break;
        }
      }
      placed.add(best);
    }
    return placed;
  }

  private static double overlap(Rectangle2D box, List<Rectangle2D> others) {
    double sum = 0;
    for (Rectangle2D o : others) {
      Rectangle2D both = box.createIntersection(o);
      if (both.getWidth() > 0 && both.getHeight() > 0) {
        sum += both.getWidth() * both.getHeight();
      }
    }
    return sum;
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
