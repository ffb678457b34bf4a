package dev.odelt.transforms.requests;

import dev.odelt.model.ModelConfig;
import dev.odelt.model.Tier;
import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.ModelManifest;
import dev.odelt.proto.v1.QualityPoint;
import dev.odelt.proto.v1.RejectReason;
import dev.odelt.proto.v1.RequestedTier;
import dev.odelt.proto.v1.ResolvedRequest;
import dev.odelt.proto.v1.Solver;
import dev.odelt.proto.v1.SourcedRequest;
import dev.odelt.proto.v1.TierPreset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks requests against one model: the subject becomes a class id (see {@link PromptResolver}),
 * the tier choice becomes a {@link Tier}.
 *
 * <p>Subject: a class-conditional model needs exactly one of class_id, class_label or prompt
 * ({@code NO_SUBJECT} otherwise). An unconditional model ({@code unconditional: true} in its
 * manifest: trained and sampled with the null label only) takes none: a request without a subject
 * resolves with {@code class_id} unset and an empty {@code class_label} and is sampled with the
 * null label; a class_id, class_label or prompt is rejected as {@code
 * SUBJECT_FOR_UNCONDITIONAL_MODEL}. Such a model has no conditional velocity, so guidance w (v =
 * v_u + w·(v_c − v_u)) has nothing to guide towards: any w would give v_u at up to twice the cost;
 * a tier with w ≠ 1 (an explicit guidance, a preset or a tier label with {@code -g}) is rejected as
 * {@code GUIDANCE_FOR_UNCONDITIONAL_MODEL}, and its manifest's default tier must not set one.
 *
 * <p>Tier choice: {@code tier} (absent steps or blocks take the default preset's; absent solver is
 * Euler, absent guidance 1, absent tolerance 1e-3), {@code tier_name} (a preset name,
 * case-insensitive, or a tier label like {@code s4-b6}), {@code max_block_evals} (the tier of the
 * model's quality table with the best class accuracy, then lowest Fréchet distance, then lowest
 * cost, among those whose block evaluations per image fit the budget; a model without a quality
 * table uses the most expensive preset that fits), or nothing (the manifest's {@code default_tier},
 * else the preset {@code standard}, else the first preset, else {@code s8-b<depth>}). The result
 * must have 1 ≤ steps ≤ {@value RequestLimits#MAX_STEPS}, blocks in the model's allowed set, 0 ≤
 * guidance ≤ {@value RequestLimits#MAX_GUIDANCE} and, for DOPRI5, a tolerance in (0, 1); anything
 * else is rejected with a reason naming the field.
 */
public final class RequestResolver {

  private final ModelManifest manifest;
  private final boolean unconditional;
  private final ModelConfig config;
  private final PromptResolver prompts;
  private final Map<String, Tier> presets;
  private final Tier defaultTier;

  private RequestResolver(ModelManifest manifest) {
    this.manifest = manifest;
    this.unconditional = manifest.getUnconditional();
    this.config = ModelConfig.fromProto(manifest.getArchitecture());
    this.prompts = PromptResolver.of(manifest);
    this.presets = new LinkedHashMap<>();
    for (TierPreset p : manifest.getTiersList()) {
      presets.put(p.getName().toLowerCase(Locale.ROOT), Tier.fromProto(p.getTier()));
    }
    String name = manifest.getDefaultTier().toLowerCase(Locale.ROOT);
    if (!name.isEmpty() && !presets.containsKey(name)) {
      throw new IllegalArgumentException(
          "Model manifest default_tier '"
              + name
              + "' is not one of its presets "
              + presets.keySet());
    }
    if (name.isEmpty()) {
      name = presets.containsKey("standard") ? "standard" : "";
    }
    if (!name.isEmpty()) {
      defaultTier = presets.get(name);
    } else if (!presets.isEmpty()) {
      defaultTier = presets.values().iterator().next();
    } else {
      defaultTier = Tier.of(Math.min(8, 1 << config.maxStepLevel()), config.depth());
    }
    if (unconditional && defaultTier.guidance() != 1f) {
      throw new IllegalArgumentException(
          "Model manifest: the model is unconditional but its default tier "
              + defaultTier.label()
              + " sets guidance "
              + defaultTier.guidance()
              + "; an unconditional model has nothing to guide");
    }
  }

  /** A resolver for a model; fails when the manifest itself is inconsistent. */
  public static RequestResolver of(ModelManifest manifest) {
    return new RequestResolver(manifest);
  }

  public ModelManifest manifest() {
    return manifest;
  }

  /** The tier used when a request names none. */
  public Tier defaultTier() {
    return defaultTier;
  }

  /** Resolves one parsed request (already through {@link RequestChecks}). */
  public ResolvedRequest resolve(SourcedRequest sourced) throws RejectedRequestException {
    GenerationRequest r = sourced.getRequest();
    ResolvedRequest.Builder b =
        ResolvedRequest.newBuilder()
            .setRequestId(r.getRequestId())
            .setSource(sourced.getSource())
            .setLine(sourced.getLine())
            .setNumImages(r.getNumImages())
            .setSeed(r.getSeed())
            .putAllTags(r.getTagsMap())
            .setModelName(manifest.getName())
            .setModelVersion(manifest.getVersion());
    int subjects = RequestChecks.subjects(r);
    if (unconditional) {
      if (subjects > 0) {
        throw new RejectedRequestException(
            RejectReason.SUBJECT_FOR_UNCONDITIONAL_MODEL,
            "The model "
                + manifest.getName()
                + " is unconditional (it makes images without a class): leave out class_id,"
                + " class_label and prompt.");
      }
      Tier tier = tierOf(r);
      return b.setTier(tier.toProto()).setTierLabel(tier.label()).build();
    }
    if (subjects == 0) {
      throw new RejectedRequestException(
          RejectReason.NO_SUBJECT,
          "The request names no subject: give exactly one of class_id, class_label or prompt.");
    }
    int classId;
    if (r.hasClassId()) {
      if (r.getClassId() < 0 || r.getClassId() >= prompts.numClasses()) {
        throw new RejectedRequestException(
            RejectReason.CLASS_OUT_OF_RANGE,
            "class_id "
                + r.getClassId()
                + " is outside the model's classes 0.."
                + (prompts.numClasses() - 1)
                + ".");
      }
      classId = (int) r.getClassId();
    } else if (r.hasClassLabel()) {
      classId = prompts.resolveLabel(r.getClassLabel());
    } else {
      classId = prompts.resolvePrompt(r.getPrompt());
      b.setPrompt(r.getPrompt());
    }
    b.setClassId(classId).setClassLabel(prompts.label(classId));
    Tier tier = tierOf(r);
    return b.setTier(tier.toProto()).setTierLabel(tier.label()).build();
  }

  /** The tier a request chooses, checked against the model. */
  public Tier tierOf(GenerationRequest r) throws RejectedRequestException {
    if (r.hasTier()) {
      return guidable(checked(r.getTier()));
    }
    if (r.hasTierName()) {
      return guidable(named(r.getTierName()));
    }
    if (r.hasMaxBlockEvals()) {
      return withinBudget(r.getMaxBlockEvals());
    }
    return defaultTier;
  }

  /** The tier, unless it guides an unconditional model. */
  private Tier guidable(Tier tier) throws RejectedRequestException {
    if (unconditional && tier.guidance() != 1f) {
      throw new RejectedRequestException(
          RejectReason.GUIDANCE_FOR_UNCONDITIONAL_MODEL,
          "Tier "
              + tier.label()
              + " sets guidance "
              + tier.guidance()
              + ", but the model "
              + manifest.getName()
              + " is unconditional: there is no class to guide towards. Leave guidance unset"
              + " (or 1).");
    }
    return tier;
  }

  /** A preset name or a tier label. */
  public Tier named(String name) throws RejectedRequestException {
    Tier preset = presets.get(name.trim().toLowerCase(Locale.ROOT));
    if (preset != null) {
      return preset;
    }
    RequestedTier parsed = TierLabels.parse(name).orElse(null);
    if (parsed == null) {
      throw new RejectedRequestException(
          RejectReason.UNKNOWN_TIER,
          "Unknown tier '"
              + name
              + "': use a preset of the model "
              + presets.keySet()
              + " or a label such as "
              + defaultTier.label()
              + ".",
          new ArrayList<>(presets.keySet()));
    }
    return checked(parsed);
  }

  private Tier checked(RequestedTier t) throws RejectedRequestException {
    int steps = t.hasSteps() ? t.getSteps() : defaultTier.steps();
    int blocks = t.hasBlocks() ? t.getBlocks() : defaultTier.blocks();
    Solver solver = t.getSolver() == Solver.SOLVER_UNSPECIFIED ? Solver.EULER : t.getSolver();
    float guidance = t.hasGuidance() ? t.getGuidance() : Tier.DEFAULT_GUIDANCE;
    float tolerance = t.hasTolerance() ? t.getTolerance() : Tier.DEFAULT_TOLERANCE;
    if (steps < 1 || steps > RequestLimits.MAX_STEPS) {
      throw new RejectedRequestException(
          RejectReason.STEPS_OUT_OF_RANGE,
          "steps must be between 1 and " + RequestLimits.MAX_STEPS + ", got " + steps + ".");
    }
    if (!config.isAllowedBlocks(blocks)) {
      throw new RejectedRequestException(
          RejectReason.BLOCKS_NOT_ALLOWED,
          "blocks "
              + blocks
              + " is not allowed by the model; allowed: "
              + config.allowedBlocks()
              + ".");
    }
    if (!(guidance >= 0 && guidance <= RequestLimits.MAX_GUIDANCE)) {
      throw new RejectedRequestException(
          RejectReason.GUIDANCE_OUT_OF_RANGE,
          "guidance must be between 0 and "
              + RequestLimits.MAX_GUIDANCE
              + ", got "
              + guidance
              + ".");
    }
    if (solver == Solver.DOPRI5 && !(tolerance > 0 && tolerance < 1)) {
      throw new RejectedRequestException(
          RejectReason.TOLERANCE_OUT_OF_RANGE,
          "tolerance must be in (0, 1), got " + tolerance + ".");
    }
    return new Tier(steps, blocks, solver, guidance, tolerance);
  }

  private Tier withinBudget(long budget) throws RejectedRequestException {
    List<Candidate> candidates = new ArrayList<>();
    if (manifest.getQualityCount() > 0) {
      for (QualityPoint q : manifest.getQualityList()) {
        Tier tier;
        try {
          tier = checked(toRequested(Tier.fromProto(q.getTier())));
        } catch (RejectedRequestException | IllegalArgumentException e) {
          continue;
        }
        double cost =
            q.getBlockEvalsPerImage() > 0
                ? q.getBlockEvalsPerImage()
                : TierCosts.blockEvaluationsPerImage(tier, config);
        candidates.add(new Candidate(tier, cost, q.getClassAccuracy(), -q.getFrechetDistance()));
      }
    } else {
      for (Tier tier : presets.values()) {
        if (!config.isAllowedBlocks(tier.blocks())) {
          continue; // a preset the model cannot run is never a choice
        }
        double cost = TierCosts.blockEvaluationsPerImage(tier, config);
        candidates.add(new Candidate(tier, cost, cost, 0));
      }
    }
    Candidate best =
        candidates.stream()
            .filter(c -> c.cost <= budget)
            .filter(c -> !unconditional || c.tier.guidance() == 1f)
            .max(
                Comparator.comparingDouble((Candidate c) -> c.quality)
                    .thenComparingDouble(c -> c.tieBreak)
                    .thenComparingDouble(c -> -c.cost)
                    .thenComparing(c -> c.tier.label(), Comparator.reverseOrder()))
            .orElse(null);
    if (best == null) {
      double cheapest = candidates.stream().mapToDouble(c -> c.cost).min().orElse(Double.NaN);
      throw new RejectedRequestException(
          RejectReason.BUDGET_TOO_SMALL,
          "No tier of the model fits max_block_evals "
              + budget
              + (candidates.isEmpty()
                  ? " (the model lists no tiers)."
                  : "; the cheapest needs " + Math.round(cheapest) + " per image."));
    }
    return best.tier;
  }

  private static RequestedTier toRequested(Tier t) {
    return RequestedTier.newBuilder()
        .setSteps(t.steps())
        .setBlocks(t.blocks())
        .setSolver(t.solver())
        .setGuidance(t.guidance())
        .setTolerance(t.tolerance())
        .build();
  }

  private static final class Candidate {
    final Tier tier;
    final double cost;
    final double quality;
    final double tieBreak;

    Candidate(Tier tier, double cost, double quality, double tieBreak) {
      this.tier = tier;
      this.cost = cost;
      this.quality = quality;
      this.tieBreak = tieBreak;
    }
  }
}
