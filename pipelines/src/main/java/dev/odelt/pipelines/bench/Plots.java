package dev.odelt.pipelines.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Small headless line and scatter plots (PNG) for the report: axes with ticks and labels, a legend,
 * optional log scales, optional point labels. Uses only java.awt with {@code
 * java.awt.headless=true}.
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
   * @throws IllegalArgumentException when there is no point, or a log axis gets a value ≤ 0
   */
  public static void write(Chart chart, List<Series> series, Path file, int width, int height)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<double[]> all = new ArrayList<>();
    series.forEach(s -> all.addAll(s.points()));
    if (all.isEmpty()) {
      throw new IllegalArgumentException("nothing to plot in " + chart.title());
    }
    Axis x = Axis.of(all.stream().mapToDouble(p -> p[0]).toArray(), chart.logX(), chart.xLabel());
    Axis y = Axis.of(all.stream().mapToDouble(p -> p[1]).toArray(), chart.logY(), chart.yLabel());

    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      Font font = new Font(Font.SANS_SERIF, Font.PLAIN, Math.max(10, height / 45));
      g.setFont(font);
      FontMetrics fm = g.getFontMetrics();
      int left = fm.stringWidth("0.00000") + fm.getHeight() + 12;
      int right = 20;
      int top = fm.getHeight() * 2 + 8;
      int bottom = fm.getHeight() * 3 + 8;
      int plotW = width - left - right;
      int plotH = height - top - bottom;
      if (plotW < 20 || plotH < 20) {
        throw new IllegalArgumentException("image too small: " + width + "x" + height);
      }

      g.setColor(Color.BLACK);
      g.setFont(font.deriveFont(Font.BOLD));
      int tw = g.getFontMetrics().stringWidth(chart.title());
      g.drawString(chart.title(), Math.max(4, (width - tw) / 2), fm.getHeight() + 4);
      g.setFont(font);

      // Grid, ticks and tick labels.
      for (double tick : x.ticks()) {
        int px = left + (int) Math.round(x.position(tick) * plotW);
        g.setColor(new Color(0xe6e6e6));
        g.drawLine(px, top, px, top + plotH);
        g.setColor(Color.BLACK);
        g.drawLine(px, top + plotH, px, top + plotH + 5);
        String label = Axis.format(tick);
        g.drawString(label, px - fm.stringWidth(label) / 2, top + plotH + 6 + fm.getAscent());
      }
      for (double tick : y.ticks()) {
        int py = top + plotH - (int) Math.round(y.position(tick) * plotH);
        g.setColor(new Color(0xe6e6e6));
        g.drawLine(left, py, left + plotW, py);
        g.setColor(Color.BLACK);
        g.drawLine(left - 5, py, left, py);
        String label = Axis.format(tick);
        g.drawString(label, left - 8 - fm.stringWidth(label), py + fm.getAscent() / 2 - 1);
      }
      g.setColor(Color.BLACK);
      g.drawRect(left, top, plotW, plotH);
      String xl = chart.xLabel() + (chart.logX() ? " (log)" : "");
      g.drawString(xl, left + (plotW - fm.stringWidth(xl)) / 2, height - fm.getDescent() - 4);
      String yl = chart.yLabel() + (chart.logY() ? " (log)" : "");
      AffineTransform saved = g.getTransform();
      g.rotate(-Math.PI / 2);
      g.drawString(yl, -(top + (plotH + fm.stringWidth(yl)) / 2), fm.getAscent() + 2);
      g.setTransform(saved);

      // Series.
      g.setStroke(new BasicStroke(2f));
      int legendY = top + fm.getHeight();
      for (int si = 0; si < series.size(); si++) {
        Series s = series.get(si);
        Color color = PALETTE[si % PALETTE.length];
        g.setColor(color);
        int prevX = -1;
        int prevY = -1;
        for (int i = 0; i < s.points().size(); i++) {
          double[] p = s.points().get(i);
          int px = left + (int) Math.round(x.position(p[0]) * plotW);
          int py = top + plotH - (int) Math.round(y.position(p[1]) * plotH);
          if (chart.lines() && prevX >= 0) {
            g.drawLine(prevX, prevY, px, py);
          }
          g.fillOval(px - 4, py - 4, 8, 8);
          if (!s.labels().isEmpty()) {
            g.drawString(s.labels().get(i), px + 6, py - 4);
          }
          prevX = px;
          prevY = py;
        }
        int lx = left + 10;
        g.drawLine(lx, legendY - fm.getAscent() / 2, lx + 20, legendY - fm.getAscent() / 2);
        g.setColor(Color.BLACK);
        g.drawString(s.name(), lx + 26, legendY);
        legendY += fm.getHeight();
      }
    } finally {
      g.dispose();
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IOException("no PNG writer for " + file);
    }
  }

  /** A linear or log axis over the data range, mapped to [0, 1]. */
  private record Axis(double low, double high, boolean log) {

    static Axis of(double[] values, boolean log, String label) {
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (double v : values) {
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException(label + ": value " + v + " is not finite");
        }
        if (log && v <= 0) {
          throw new IllegalArgumentException(label + ": log axis needs values > 0, got " + v);
        }
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      if (log) {
        double lo = Math.floor(Math.log10(min));
        double hi = Math.ceil(Math.log10(max));
        return new Axis(lo, hi == lo ? lo + 1 : hi, true);
      }
      if (max == min) {
        double pad = max == 0 ? 1 : Math.abs(max) * 0.1;
        return new Axis(min - pad, max + pad, false);
      }
      double pad = (max - min) * 0.05;
      return new Axis(min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad, false);
    }

    double position(double value) {
      double v = log ? Math.log10(value) : value;
      return (v - low) / (high - low);
    }

    List<Double> ticks() {
      List<Double> out = new ArrayList<>();
      if (log) {
        for (double e = low; e <= high + 1e-9; e++) {
          out.add(Math.pow(10, e));
        }
        return out;
      }
      double step = niceStep((high - low) / 5);
      for (double t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) {
        out.add(Math.abs(t) < step * 1e-9 ? 0 : t);
      }
      return out;
    }

    static double niceStep(double raw) {
      double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
      double r = raw / magnitude;
      double nice = r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10;
      return nice * magnitude;
    }

    static String format(double v) {
      double a = Math.abs(v);
      if (a == 0) {
        return "0";
      }
      if (a >= 1e5 || a < 1e-3) {
        return String.format(Locale.ROOT, "%.0e", v);
      }
      if (a >= 100 || v == Math.rint(v)) {
        return String.format(Locale.ROOT, "%.0f", v);
      }
      return new java.math.BigDecimal(String.format(Locale.ROOT, "%.3g", v))
          .stripTrailingZeros()
          .toPlainString();
    }
  }
}
