package dev.odelt.transforms.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.odelt.proto.v1.RenderedImage;
import dev.odelt.proto.v1.RunSummary;
import dev.odelt.transforms.JsonLines;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resume check: the output's provenance from run.json, else from its images' metadata; other
 * weights under the same name and version, another version or another precision are refused with
 * both sides named; the same provenance, and an empty output, pass.
 */
class OutputProvenanceTest {

  @TempDir Path out;

  static final ImageProvenance MADE =
      new ImageProvenance("m", "1.0.0", "aa".repeat(32), "", "fp32", "cpu", "0.1.0");

  private void runJson(RunSummary run) throws IOException {
    Files.writeString(out.resolve(OutputLayout.RUN_JSON), JsonLines.pretty(run));
  }

  @Test
  void sameProvenanceAndEmptyOutputsPass() throws Exception {
    OutputProvenance.checkResume(out.toString(), MADE);
    runJson(MADE.addTo(RunSummary.newBuilder().setModelName("m").setModelVersion("1.0.0")).build());
    OutputProvenance.checkResume(out.toString(), MADE);
    OutputProvenance.checkResume(
        out.toString(),
        new ImageProvenance("m", "1.0.0", "aa".repeat(32), "", "fp32", "gpu", "0.2.0"));
  }

  @Test
  void otherWeightsOtherVersionOrOtherPrecisionAreRefused() throws Exception {
    runJson(MADE.addTo(RunSummary.newBuilder().setModelName("m").setModelVersion("1.0.0")).build());
    List<ImageProvenance> others =
        List.of(
            new ImageProvenance("m", "1.0.0", "bb".repeat(32), "", "fp32", "cpu", "0.1.0"),
            new ImageProvenance("m", "1.0.1", "cc".repeat(32), "", "fp32", "cpu", "0.1.0"),
            new ImageProvenance("m", "1.0.0", "aa".repeat(32), "", "bf16", "cpu", "0.1.0"),
            new ImageProvenance("m", "1.0.0", "aa".repeat(32), "dd".repeat(32), "fp32", "cpu", ""));
    List<String> differs =
        List.of("model digest", "model digest", "precision bf16", "decoder digest");
    for (int i = 0; i < others.size(); i++) {
      ImageProvenance other = others.get(i);
      OutputConflictException e =
          assertThrows(
              OutputConflictException.class,
              () -> OutputProvenance.checkResume(out.toString(), other));
      String m = e.getMessage();
      assertTrue(m.contains(differs.get(i)), m);
      assertTrue(m.contains(MADE.describe()) && m.contains(other.describe()), m);
      assertTrue(m.contains("new --output"), m);
    }
  }

  @Test
  void withoutRunJsonTheImagesMetadataDecides() throws Exception {
    RenderedImage image = WriteImagesTest.image("r", 0, false);
    byte[] png = image.getPng().toByteArray();
    String root = out.toString();
    RetryingStore.forLocation(root)
        .write(
            OutputLayout.location(root, image.getTask().getImagePath()),
            png,
            "image/png",
            WriteImages.metadataOf(image, "", MADE, Hashes.sha256(png)));
    Optional<OutputProvenance.Found> found = OutputProvenance.madeWith(root);
    assumeTrue(found.isPresent(), "this file system keeps no user extended attributes");
    assertEquals(MADE, found.get().provenance());
    OutputConflictException e =
        assertThrows(
            OutputConflictException.class,
            () ->
                OutputProvenance.checkResume(
                    root,
                    new ImageProvenance("m", "1.0.0", "aa".repeat(32), "", "bf16", "cpu", "")));
    assertTrue(e.getMessage().contains(image.getTask().getImagePath()), e.getMessage());
  }

  @Test
  void aRunJsonFromBeforeProvenanceIsComparedByNameVersionAndPrecision() throws Exception {
    runJson(
        RunSummary.newBuilder()
            .setModelName("m")
            .setModelVersion("1.0.0")
            .putOptions("precision", "fp32")
            .build());
    OutputProvenance.checkResume(out.toString(), MADE);
    assertThrows(
        OutputConflictException.class,
        () ->
            OutputProvenance.checkResume(
                out.toString(),
                new ImageProvenance("m", "2.0.0", "aa".repeat(32), "", "fp32", "cpu", "")));
  }
}
