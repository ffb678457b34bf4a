package dev.odelt.transforms.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.geom.Point2D;
import java.awt.geom.Rectangle2D;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChartsTest {

  @Test
  void labelsOfBunchedPointsDoNotOverlapEachOtherOrTheMarks() {
    // Six tiers of nearly the same cost and accuracy, as the bundled model's cheap tiers bunch up
    // in the quality chart, plus an unlabelled point among them.
    List<Point2D> points = new ArrayList<>();
    List<Rectangle2D> sizes = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      points.add(new Point2D.Double(200 + 4 * i, 150 + 3 * (i % 2)));
      sizes.add(new Rectangle2D.Double(0, 0, 40, 14));
    }
    List<Point2D> marks = new ArrayList<>(points);
    marks.add(new Point2D.Double(212, 140));
    List<Double> radii = new ArrayList<>();
    marks.forEach(m -> radii.add(6.0));
    Rectangle2D area = new Rectangle2D.Double(50, 30, 560, 300);
    List<Rectangle2D> boxes = Charts.placeLabels(points, sizes, marks, radii, area);
    assertEquals(6, boxes.size());
    for (int i = 0; i < boxes.size(); i++) {
      assertTrue(area.contains(boxes.get(i)), "inside the plot: " + boxes.get(i));
      for (int j = i + 1; j < boxes.size(); j++) {
        Rectangle2D both = boxes.get(i).createIntersection(boxes.get(j));
        assertFalse(both.getWidth() > 0 && both.getHeight() > 0, "labels " + i + " and " + j);
      }
      for (Point2D m : marks) {
        assertFalse(
            boxes.get(i).intersects(m.getX() - 6, m.getY() - 6, 12, 12),
            "label " + i + " on a mark");
      }
    }
  }

  @Test
  void aLoneLabelSitsRightOfItsPointAndTheChartIsDeterministic() {
    Point2D p = new Point2D.Double(100, 100);
    List<Rectangle2D> boxes =
        Charts.placeLabels(
            List.of(p),
            List.of(new Rectangle2D.Double(0, 0, 30, 12)),
            List.of(p),
            List.of(6.0),
            new Rectangle2D.Double(0, 0, 400, 300));
    assertEquals(new Rectangle2D.Double(108, 94, 30, 12), boxes.get(0));
    List<Charts.Series> series =
        List.of(
            new Charts.Series(
                "tiers",
                List.of(new double[] {2, 0.9}, new double[] {2.1, 0.91}, new double[] {48, 0.99}),
                List.of("s1-b2", "s1-b2-heun", "s8-b6"),
                true));
    assertArrayEquals(
        Charts.scatter("q", "x", "y", series, 320, 200),
        Charts.scatter("q", "x", "y", series, 320, 200));
  }
}
