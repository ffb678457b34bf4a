package dev.odelt.model.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainClassifierTest {

  @Test
  void shortRunWritesLoadableDeterministicWeights(@TempDir Path dir) throws IOException {
    TrainClassifier.Options options =
        new TrainClassifier.Options(dir.resolve("a/clf.params"), 1, 64, 11, 1e-3f, 640);
    TrainClassifier.Result first = TrainClassifier.run(options);
    TrainClassifier.Result second =
        TrainClassifier.run(
            new TrainClassifier.Options(dir.resolve("b/clf.params"), 1, 64, 11, 1e-3f, 640));
    assertEquals(first.sha256(), second.sha256());
    assertEquals(TrainClassifier.sha256(Files.readAllBytes(first.params())), first.sha256());
    // 640 digits, one epoch: far from the bundled model, but well above chance (0.1).
    assertTrue(first.heldOutAccuracy() > 0.3, "accuracy " + first.heldOutAccuracy());
    JsonObject card = JsonParser.parseString(Files.readString(first.card())).getAsJsonObject();
    assertEquals(dir.resolve("a/clf.json"), first.card());
    assertEquals(640, card.get("trainDigits").getAsInt());
    assertEquals(first.sha256(), card.get("paramsSha256").getAsString());
    assertEquals(first.heldOutAccuracy(), card.get("heldOutAccuracy").getAsDouble(), 0);
    try (InputStream in = Files.newInputStream(first.params());
        DigitClassifier loaded = DigitClassifier.load(in)) {
      assertEquals(10, loaded.classify(new float[10 * 1024], 10).predicted().length);
    }
  }

  @Test
  void shiftMovesPixelsAndFillsWithBackground() {
    float[] image = new float[1024];
    Arrays.fill(image, -1f);
    image[16 * 32 + 16] = 1f;
    SplittableRandom random = new SplittableRandom(5);
    SplittableRandom replay = new SplittableRandom(5);
    TrainClassifier.shiftInPlace(image, 1, random);
    int dy = replay.nextInt(-2, 3);
    int dx = replay.nextInt(-2, 3);
    int ones = 0;
    for (int i = 0; i < 1024; i++) {
      if (image[i] == 1f) {
        ones++;
        assertEquals((16 + dy) * 32 + 16 + dx, i);
      } else {
        assertEquals(-1f, image[i]);
      }
    }
    assertEquals(1, ones);
  }
}
