package dev.odelt.transforms.requests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.Tier;
import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.RequestedTier;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.SourcedRequest;
import dev.odelt.proto.v1.TierPreset;
import dev.odelt.transforms.TestManifests;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestResolverTest {

  private final RequestResolver resolver = RequestResolver.of(TestManifests.digits());

  private static SourcedRequest sourced(GenerationRequest.Builder r) {
    return SourcedRequest.newBuilder()
        .setRequest(r.setRequestId("r").setNumImages(2).setSeed(5))
        .setSource("/m/a.jsonl")
        .setLine(4)
        .setText("{}")
        .build();
  }

  private RejectReason reason(GenerationRequest.Builder r) {
    return assertThrows(RejectedRequestException.class, () -> resolver.resolve(sourced(r)))
        .reason();
  }

  @Test
  void resolvesSubjectAndDefaultTier() throws RejectedRequestException {
    ResolvedRequest r =
        resolver.resolve(sourced(GenerationRequest.newBuilder().setPrompt("a handwritten seven")));
    assertEquals(7, r.getClassId());
    assertEquals("7", r.getClassLabel());
    assertEquals("a handwritten seven", r.getPrompt());
    assertEquals("s4-b4", r.getTierLabel());
    assertEquals("test-digits", r.getModelName());
    assertEquals(4, r.getLine());
    assertEquals(5, r.getSeed());
  }

  @Test
  void tierChoices() throws RejectedRequestException {
    assertEquals(
        Tier.of(8, 6),
        resolver.tierOf(GenerationRequest.newBuilder().setTierName("Premium").build()));
    assertEquals(
        Tier.of(16, 2).withSolver(Solver.HEUN).withGuidance(2),
        resolver.tierOf(GenerationRequest.newBuilder().setTierName("s16-b2-heun-g2").build()));
    assertEquals(
        Tier.of(4, 6),
        resolver.tierOf(
            GenerationRequest.newBuilder()
                .setTier(RequestedTier.newBuilder().setBlocks(6))
                .build()));
    assertEquals(
        Tier.of(2, 2), resolver.tierOf(GenerationRequest.newBuilder().setMaxBlockEvals(5).build()));
  }

  @Test
  void budgetsCountOnlyTheBlocksThatRun() throws RejectedRequestException {
    // depth 7, depth_min 3, G 2: presets s2-b3 (2·2 = 4 block evaluations), s4-b5 (4·4 = 16),
    // s8-b7 (8·6 = 48); a budget counted with L instead would not fit s4-b5 in 16.
    ModelManifest xlLike =
        TestManifests.digits().toBuilder()
            .setArchitecture(
                TestManifests.digits().getArchitecture().toBuilder().setDepth(7).setDepthMin(3))
            .clearTiers()
            .addTiers(preset("draft", Tier.of(2, 3)))
            .addTiers(preset("standard", Tier.of(4, 5)))
            .addTiers(preset("premium", Tier.of(8, 7)))
            .build();
    RequestResolver r = RequestResolver.of(xlLike);
    assertEquals(Tier.of(4, 5), r.tierOf(budget(16)));
    assertEquals(Tier.of(8, 7), r.tierOf(budget(48)));
    assertEquals(Tier.of(2, 3), r.tierOf(budget(4)));
    assertEquals(
        RejectReason.BUDGET_TOO_SMALL,
        assertThrows(
                RejectedRequestException.class,
                () -> r.tierOf(budget(3)))
            .reason());
  }

  private static GenerationRequest budget(long blockEvaluations) {
    return GenerationRequest.newBuilder().setMaxBlockEvals(blockEvaluations).build();
  }

  private static TierPreset preset(String name, Tier tier) {
    return TierPreset.newBuilder().setName(name).setTier(tier.toProto()).build();
  }

  @Test
  void budgetUsesTheQualityTable() throws RejectedRequestException {
    RequestResolver withQuality = RequestResolver.of(TestManifests.digitsWithQuality());
    assertEquals(
        Tier.of(8, 2),
        withQuality.tierOf(GenerationRequest.newBuilder().setMaxBlockEvals(20).build()));
    assertEquals(
        Tier.of(8, 6),
        withQuality.tierOf(GenerationRequest.newBuilder().setMaxBlockEvals(1000).build()));
    RejectedRequestException e =
        assertThrows(
            RejectedRequestException.class,
            () -> withQuality.tierOf(GenerationRequest.newBuilder().setMaxBlockEvals(3).build()));
    assertEquals(RejectReason.BUDGET_TOO_SMALL, e.reason());
  }

  @Test
  void everyResolveDeadLetterCase() {
    assertEquals(
        RejectReason.CLASS_OUT_OF_RANGE, reason(GenerationRequest.newBuilder().setClassId(10)));
    assertEquals(
        RejectReason.CLASS_OUT_OF_RANGE, reason(GenerationRequest.newBuilder().setClassId(-1)));
    assertEquals(
        RejectReason.UNKNOWN_CLASS_LABEL,
        reason(GenerationRequest.newBuilder().setClassLabel("x")));
    assertEquals(
        RejectReason.UNRESOLVED_PROMPT, reason(GenerationRequest.newBuilder().setPrompt("a cat")));
    GenerationRequest.Builder one = GenerationRequest.newBuilder().setClassId(1);
    assertEquals(RejectReason.UNKNOWN_TIER, reason(one.clone().setTierName("ultra")));
    assertEquals(
        RejectReason.BLOCKS_NOT_ALLOWED,
        reason(one.clone().setTier(RequestedTier.newBuilder().setSteps(4).setBlocks(3))));
    assertEquals(
        RejectReason.BLOCKS_NOT_ALLOWED,
        reason(one.clone().setTier(RequestedTier.newBuilder().setSteps(4).setBlocks(8))));
    assertEquals(RejectReason.BLOCKS_NOT_ALLOWED, reason(one.clone().setTierName("s4-b5")));
    assertEquals(
        RejectReason.STEPS_OUT_OF_RANGE,
        reason(one.clone().setTier(RequestedTier.newBuilder().setSteps(0).setBlocks(2))));
    assertEquals(
        RejectReason.STEPS_OUT_OF_RANGE,
        reason(one.clone().setTier(RequestedTier.newBuilder().setSteps(-3))));
    assertEquals(
        RejectReason.STEPS_OUT_OF_RANGE,
        reason(
            one.clone().setTier(RequestedTier.newBuilder().setSteps(RequestLimits.MAX_STEPS + 1))));
    assertEquals(
        RejectReason.GUIDANCE_OUT_OF_RANGE,
        reason(one.clone().setTier(RequestedTier.newBuilder().setGuidance(-0.5f))));
    assertEquals(
        RejectReason.GUIDANCE_OUT_OF_RANGE,
        reason(one.clone().setTier(RequestedTier.newBuilder().setGuidance(Float.NaN))));
    assertEquals(
        RejectReason.TOLERANCE_OUT_OF_RANGE,
        reason(
            one.clone()
                .setTier(RequestedTier.newBuilder().setSolver(Solver.DOPRI5).setTolerance(2f))));
    assertEquals(RejectReason.BUDGET_TOO_SMALL, reason(one.clone().setMaxBlockEvals(3)));
  }

  @Test
  void inconsistentManifestFailsEarly() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RequestResolver.of(TestManifests.digits().toBuilder().setDefaultTier("gold").build()));
  }

  @Test
  void aConditionalModelNeedsASubject() {
    assertEquals(RejectReason.NO_SUBJECT, reason(GenerationRequest.newBuilder()));
  }

  @Test
  void anUnconditionalModelSamplesTheNullLabelAndRefusesSubjects() throws RejectedRequestException {
    RequestResolver faces = RequestResolver.of(TestManifests.unconditional());
    ResolvedRequest r = faces.resolve(sourced(GenerationRequest.newBuilder()));
    assertFalse(r.hasClassId(), "no class: sampled with the null label");
    assertEquals("", r.getClassLabel());
    assertEquals("", r.getPrompt());
    assertEquals("s4-b4", r.getTierLabel());
    assertEquals(
        "s2-b2",
        faces.resolve(sourced(GenerationRequest.newBuilder().setTierName("draft"))).getTierLabel());
    assertEquals(
        "s4-b2",
        faces
            .resolve(
                sourced(
                    GenerationRequest.newBuilder()
                        .setTier(RequestedTier.newBuilder().setBlocks(2).setGuidance(1f))))
            .getTierLabel());

    for (GenerationRequest.Builder subject :
        List.of(
            GenerationRequest.newBuilder().setClassId(0),
            GenerationRequest.newBuilder().setClassLabel("0"),
            GenerationRequest.newBuilder().setPrompt("a smiling face"))) {
      RejectedRequestException e =
          assertThrows(RejectedRequestException.class, () -> faces.resolve(sourced(subject)));
      assertEquals(RejectReason.SUBJECT_FOR_UNCONDITIONAL_MODEL, e.reason());
      assertTrue(e.getMessage().contains("unconditional"), e.getMessage());
    }
    for (GenerationRequest.Builder guided :
        List.of(
            GenerationRequest.newBuilder().setTierName("guided"),
            GenerationRequest.newBuilder().setTierName("s4-b4-g2"),
            GenerationRequest.newBuilder().setTier(RequestedTier.newBuilder().setGuidance(0f)))) {
      RejectedRequestException e =
          assertThrows(RejectedRequestException.class, () -> faces.resolve(sourced(guided)));
      assertEquals(RejectReason.GUIDANCE_FOR_UNCONDITIONAL_MODEL, e.reason());
    }
    assertThrows(
        IllegalArgumentException.class,
        () ->
            RequestResolver.of(
                TestManifests.unconditional().toBuilder().setDefaultTier("guided").build()));
  }
}
