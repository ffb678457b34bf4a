package dev.odelt.model.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.odelt.model.data.DigitSet;
import dev.odelt.model.data.MnistDigits;
import dev.odelt.model.eval.DigitClassifier.Classification;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class DigitClassifierTest {

  private static DigitClassifier classifier;

  @BeforeAll
  static void load() {
    classifier = DigitClassifier.loadBundled();
  }

  @AfterAll
  static void close() {
    classifier.close();
  }

  private static JsonObject card() throws IOException {
    try (InputStream in =
            DigitClassifier.class.getResourceAsStream("/dev/odelt/eval/mnist-classifier.json");
        Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      return JsonParser.parseReader(reader).getAsJsonObject();
    }
  }

  @Test
  void bundledClassifierIsAccurateOnHeldOutDigits() throws IOException {
    DigitSet heldOut = MnistDigits.load().heldOut();
    int[] all = IntStream.range(0, heldOut.count()).toArray();
    Classification out = classifier.classify(heldOut.batchAsModelInput(all, 32), all.length);
    double accuracy = out.accuracy(heldOut.labels());
    assertTrue(accuracy >= 0.97, "held-out accuracy " + accuracy);
    assertEquals(card().get("heldOutAccuracy").getAsDouble(), accuracy, 0.002);
    for (int c = 0; c < 10; c++) {
      int[] ofClass = heldOut.indicesOf(c);
      int right = 0;
      for (int i : ofClass) {
        right += out.predicted()[i] == c ? 1 : 0;
      }
      assertTrue(right >= 90, "class " + c + ": " + right + "/100");
    }
  }

  @Test
  void bundledWeightsMatchTheirCard() throws IOException {
    byte[] params;
    try (InputStream in = DigitClassifier.class.getResourceAsStream(DigitClassifier.RESOURCE)) {
      assertNotNull(in);
      params = in.readAllBytes();
    }
    assertEquals(card().get("paramsSha256").getAsString(), TrainClassifier.sha256(params));
    assertEquals(9000, card().get("trainDigits").getAsInt());
  }

  @Test
  void featuresHaveTheDocumentedShapeAndDoNotDependOnBatchComposition() {
    DigitSet heldOut = MnistDigits.load().heldOut();
    int[] idx = {3, 150, 999, 420};
    Classification batch = classifier.classify(heldOut.batchAsModelInput(idx, 32), idx.length);
    assertEquals(4 * DigitClassifier.FEATURES, batch.features().length);
    assertEquals(4 * DigitClassifier.CLASSES, batch.logits().length);
    assertEquals(4, batch.featureRows().length);
    for (float f : batch.features()) {
      assertTrue(f >= 0, "post-ReLU feature " + f);
    }
    Classification single = classifier.classify(heldOut.imageAsModelInput(999, 32), 1);
    assertArrayEquals(
        Arrays.copyOfRange(batch.features(), 2 * 128, 3 * 128), single.features(), 1e-4f);
    assertEquals(batch.predicted()[2], single.predicted()[0]);
    Classification again = classifier.classify(heldOut.batchAsModelInput(idx, 32), idx.length);
    assertArrayEquals(batch.features(), again.features());
  }

  @Test
  void badInputFailsClearly() {
    assertThrows(IllegalArgumentException.class, () -> classifier.classify(new float[100], 1));
    assertThrows(
        IllegalArgumentException.class,
        () -> classifier.classify(new float[1024], 1).accuracy(new int[2]));
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                DigitClassifier.load(
                    new ByteArrayInputStream("not params".getBytes(StandardCharsets.UTF_8))));
    assertTrue(e.getMessage().contains("parameter"), e.getMessage());
  }
}
