package dev.odelt.model.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.InvalidModelPackageException.Problem;
import dev.odelt.model.testing.TestVaes;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class VaeConfigTest {

  private static final String FILE = "/data/vae/config.json";

  private static JsonObject sd() {
    return TestVaes.diffusersConfig(VaeConfig.stableDiffusion());
  }

  private static InvalidModelPackageException rejected(Consumer<JsonObject> edit) {
    JsonObject o = sd();
    edit.accept(o);
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> VaeConfig.fromDiffusersJson(o.toString(), FILE));
    assertEquals(Problem.MALFORMED, e.problem());
    assertTrue(e.getMessage().contains(FILE), e.getMessage());
    return e;
  }

  private static void assertMentions(InvalidModelPackageException e, String text) {
    assertTrue(e.getMessage().contains(text), e.getMessage());
  }

  @Test
  void parsesTheStableDiffusionConfig() throws Exception {
    VaeConfig config = VaeConfig.fromDiffusersJson(sd().toString(), FILE);
    assertEquals(VaeConfig.stableDiffusion(), config);
    assertEquals(8, config.upsampling());
    assertEquals(512, config.topChannels());
    assertEquals(config, VaeConfig.fromProto(config.toProto()));
  }

  @Test
  void olderConfigsWithoutScalingFactorGetDiffusersDefault() throws Exception {
    JsonObject o = sd();
    o.remove("scaling_factor");
    o.remove("out_channels");
    VaeConfig config = VaeConfig.fromDiffusersJson(o.toString(), FILE);
    assertEquals(0.18215f, config.scalingFactor());
    assertEquals(3, config.outChannels());
  }

  @Test
  void ignoresNullOptionalKeysAndEncoderSettings() throws Exception {
    JsonObject o = sd();
    o.add("shift_factor", JsonNull.INSTANCE);
    o.add("latents_mean", JsonNull.INSTANCE);
    o.addProperty("force_upcast", true);
    o.addProperty("use_quant_conv", true);
    o.addProperty("mid_block_add_attention", true);
    assertEquals(VaeConfig.stableDiffusion(), VaeConfig.fromDiffusersJson(o.toString(), FILE));
  }

  @Test
  void parsesTaesdsConfigAndRoundTripsItThroughTheManifest() throws Exception {
    String taesd =
        "{\"_class_name\": \"AutoencoderTiny\", \"_diffusers_version\": \"0.20.0\","
            + " \"act_fn\": \"relu\", \"decoder_block_out_channels\": [64, 64, 64, 64],"
            + " \"encoder_block_out_channels\": [64, 64, 64, 64], \"force_upcast\": false,"
            + " \"in_channels\": 3, \"latent_channels\": 4, \"latent_magnitude\": 3,"
            + " \"latent_shift\": 0.5, \"num_decoder_blocks\": [3, 3, 3, 1],"
            + " \"num_encoder_blocks\": [1, 3, 3, 3], \"out_channels\": 3,"
            + " \"scaling_factor\": 1.0, \"upsample_fn\": \"nearest\","
            + " \"upsampling_scaling_factor\": 2}";
    VaeConfig config = VaeConfig.fromDiffusersJson(taesd, FILE);
    assertEquals(VaeConfig.taesd(), config);
    assertEquals("AutoencoderTiny", config.className());
    assertEquals(config, VaeConfig.fromProto(config.toProto()));
    assertEquals("", VaeConfig.stableDiffusion().toProto().getClassName());
    assertEquals(
        VaeConfig.stableDiffusion(), VaeConfig.fromProto(VaeConfig.stableDiffusion().toProto()));
    InvalidModelPackageException e =
        assertThrows(
            InvalidModelPackageException.class,
            () -> VaeConfig.fromDiffusersJson(taesd.replace("\"nearest\"", "\"bilinear\""), FILE));
    assertTrue(e.getMessage().contains("upsample_fn"), e.getMessage());
  }

  @Test
  void rejectsOtherArchitectures() {
    assertMentions(rejected(o -> o.addProperty("_class_name", "VQModel")), "VQModel");
    assertMentions(rejected(o -> o.remove("_class_name")), "_class_name");
  }

  @Test
  void rejectsUnsupportedOptions() {
    assertMentions(rejected(o -> o.addProperty("act_fn", "gelu")), "act_fn");
    assertMentions(rejected(o -> o.addProperty("norm_type", "spatial")), "norm_type");
    assertMentions(
        rejected(o -> o.addProperty("mid_block_add_attention", false)), "mid_block_add_attention");
    assertMentions(
        rejected(o -> o.addProperty("use_post_quant_conv", false)), "use_post_quant_conv");
    assertMentions(rejected(o -> o.addProperty("shift_factor", 0.1159)), "shift_factor");
    assertMentions(rejected(o -> o.add("latents_std", new JsonArray())), "latents_std");
    assertMentions(
        rejected(
            o -> {
              JsonArray types = new JsonArray();
              for (int i = 0; i < 4; i++) {
                types.add(i == 0 ? "AttnUpDecoderBlock2D" : "UpDecoderBlock2D");
              }
              o.add("up_block_types", types);
            }),
        "AttnUpDecoderBlock2D");
    assertMentions(
        rejected(
            o -> {
              JsonArray types = new JsonArray();
              types.add("UpDecoderBlock2D");
              o.add("up_block_types", types);
            }),
        "up_block_types");
  }

  @Test
  void rejectsMissingOrBadValues() {
    assertMentions(rejected(o -> o.remove("block_out_channels")), "block_out_channels");
    assertMentions(rejected(o -> o.remove("layers_per_block")), "layers_per_block");
    assertMentions(rejected(o -> o.remove("latent_channels")), "latent_channels");
    assertMentions(rejected(o -> o.remove("norm_num_groups")), "norm_num_groups");
    assertMentions(rejected(o -> o.addProperty("layers_per_block", 2.5)), "layers_per_block");
    assertMentions(rejected(o -> o.addProperty("latent_channels", "4")), "latent_channels");
    assertMentions(rejected(o -> o.addProperty("norm_num_groups", 48)), "norm_num_groups");
    assertMentions(rejected(o -> o.addProperty("scaling_factor", -1)), "scaling_factor");
    assertMentions(
        rejected(
            o -> {
              o.add("block_out_channels", new JsonArray());
              o.remove("up_block_types");
            }),
        "block_out_channels is empty");
  }

  @Test
  void rejectsFilesThatAreNotJsonObjects() {
    for (String text : new String[] {"", "[1, 2]", "{\"a\": ", "not json"}) {
      InvalidModelPackageException e =
          assertThrows(
              InvalidModelPackageException.class, () -> VaeConfig.fromDiffusersJson(text, FILE));
      assertTrue(e.getMessage().contains(FILE), e.getMessage());
    }
  }

  @Test
  void invalidArchitecturesFailInTheConstructor() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new VaeConfig(List.of(30, 64), 1, 4, 3, 8, 0.18215f)); // 30 % 8 != 0
    assertThrows(
        IllegalArgumentException.class, () -> new VaeConfig(List.of(32), 1, 0, 3, 8, 0.18215f));
    assertThrows(
        IllegalArgumentException.class, () -> new VaeConfig(List.of(32), 1, 4, 3, 8, Float.NaN));
  }

  @Test
  void largestActivationIsTheLastUpsampledConvolution() {
    VaeDecoder decoder = new VaeDecoder(VaeConfig.stableDiffusion());
    // Up block 2 (256 channels) upsamples 128×128 → 256×256: 256·256·256 floats per image.
    assertEquals(4L * 2 * 256 * 256 * 256, decoder.largestActivationBytes(2, 32, 32));
    assertEquals(49_490_199L, decoder.parameterCount()); // diffusers' decoder + post_quant_conv
  }
}
