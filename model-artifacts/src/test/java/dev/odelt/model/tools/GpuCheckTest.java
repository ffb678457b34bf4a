package dev.odelt.model.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GPU check's dry run on the CPU: every section runs and lands in results.json. */
class GpuCheckTest {

  @TempDir Path dir;

  @Test
  void quickRunOnCpuWritesEverySectionWithoutErrors() throws Exception {
    assertEquals(0, GpuCheck.run("--out=" + dir, "--device=cpu", "--quick"));
    JsonObject results =
        JsonParser.parseString(Files.readString(dir.resolve("results.json"))).getAsJsonObject();
    for (String section :
        new String[] {"matmul_peak", "parity", "tiers", "oom_split", "decoders"}) {
      assertTrue(results.has(section), section);
      assertFalse(results.getAsJsonObject(section).has("error"), results.get(section).toString());
    }
    JsonObject parity = results.getAsJsonObject("parity");
    assertEquals(0.0, parity.get("device_fp32_vs_cpu_fp32").getAsDouble()); // the device is the CPU
    double bf16 = parity.get("device_bf16_vs_device_fp32").getAsDouble();
    assertTrue(bf16 > 0 && bf16 < 0.05, "bf16 vs fp32 " + bf16);
    // small shape: L ∈ {2, 4, 6} × fp32/bf16 at batch 2
    assertEquals(6, results.getAsJsonObject("tiers").getAsJsonArray("rows").size());
    assertEquals(0, results.getAsJsonObject("oom_split").get("max_pixel_diff_vs_alone").getAsInt());
  }

  @Test
  void rejectsUnknownOptionsAndShapes() {
    assertThrows(IllegalArgumentException.class, () -> GpuCheck.run("--device=cpu"));
    assertThrows(
        IllegalArgumentException.class, () -> GpuCheck.run("--out=" + dir, "--shapes=dit-h"));
    assertThrows(IllegalArgumentException.class, () -> GpuCheck.run("--out=" + dir, "--fast"));
  }
}
