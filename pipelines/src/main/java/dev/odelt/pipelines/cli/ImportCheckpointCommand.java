package dev.odelt.pipelines.cli;

import dev.odelt.model.imports.CheckpointImporter;
import dev.odelt.model.imports.ImportException;
import dev.odelt.model.imports.ImportOptions;
import dev.odelt.model.imports.ImportResult;
import dev.odelt.pipelines.GenerateJob;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code import-checkpoint}: turns one of the paper's released checkpoints (a pickled dict of
 * numpy arrays, read without running it) into a model package. The work is {@link
 * CheckpointImporter}'s; this class only parses flags.
 */
@Command(
    name = "import-checkpoint",
    usageHelpAutoWidth = true,
    synopsisHeading = "Usage:%n",
    customSynopsis = {
      "  " + Cli.PROGRAM + " import-checkpoint --checkpoint=<file.pkl> --output=<dir>",
      "      [--preset=celeba-dit-b|imagenet-dit-b|imagenet-dit-xl]",
      "      [--imageSize=N --heads=N --depthMin=N --groupSize=N] [--weights=params|params_ema]",
      "      [--labels=<imagenet_labels.txt>] [--vae=<vae package>] [--name=… --version=…]"
    },
    descriptionHeading = "%n",
    description = {
      "Import an official ODE_t(ODE_l) checkpoint (DiT-B/2 or DiT-XL/2 on Stable Diffusion VAE"
          + " latents) into a model package: manifest.json + weights.safetensors, sha256 and"
          + " provenance (source file, its sha256, the slot).",
      "The pickle is parsed, never executed: only dict/list/tuple building, numpy arrays and"
          + " FrozenDict are honoured; any other class (the optimizer state's) is ignored. Width,"
          + " depth, patch, channels and classes come from the tensor shapes; heads, depth_min, G"
          + " and the latent size from a preset or the flags.",
      "Bad input (not a pickle, truncated, no params, a missing or extra tensor, inconsistent"
          + " shapes, --heads not dividing the width, an unknown preset) is reported by name with"
          + " exit code 2, and nothing is written."
    },
    optionListHeading = "%nOptions:%n")
public final class ImportCheckpointCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;

  @Mixin Cli.HelpOption help;

  @Option(
      names = "--checkpoint",
      required = true,
      paramLabel = "<file.pkl>",
      description = "The checkpoint (celeba-, imagenet- or xlimagenet-shortcut-odelt.pkl).")
  Path checkpoint;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "<dir>",
      description = "The package directory to create (must not exist, or be empty).")
  Path output;

  @Option(
      names = "--preset",
      paramLabel = "<name>",
      description = "celeba-dit-b, imagenet-dit-b or imagenet-dit-xl: the released file's"
          + " hyper-parameters and the paper's evaluation tiers.")
  String preset;

  @Option(names = "--imageSize", paramLabel = "N", description = "Latent side (32 for 256 px).")
  Integer imageSize;

  @Option(names = "--heads", paramLabel = "N", description = "Attention heads.")
  Integer heads;

  @Option(names = "--depthMin", paramLabel = "N", description = "Fewest blocks a call may run.")
  Integer depthMin;

  @Option(names = "--groupSize", paramLabel = "N", description = "Blocks per group G.")
  Integer groupSize;

  @Option(
      names = "--weights",
      paramLabel = "<slot>",
      defaultValue = "params",
      description = "params (default, as the authors evaluate) or params_ema.")
  String weights;

  @Option(
      names = "--labels",
      paramLabel = "<file>",
      description = "The reference's data/imagenet_labels.txt: class names and synonyms.")
  Path labels;

  @Option(
      names = "--vae",
      paramLabel = "<vae package>",
      description = "The decoder (a package from import-vae) the model names for its images.")
  String vae;

  @Option(names = "--name", paramLabel = "<name>", description = "Package name.")
  String name;

  @Option(names = "--version", paramLabel = "<version>", description = "Package version.")
  String version;

  @Override
  public Integer call() throws Exception {
    ImportOptions options;
    try {
      options =
          ImportOptions.of(checkpoint, output)
              .withPreset(preset)
              .withArchitecture(imageSize, heads, depthMin, groupSize)
              .withWeights(ImportOptions.Weights.parse(weights))
              .withLabels(labels)
              .withNameAndVersion(name, version)
              .withVae(vae);
    } catch (IllegalArgumentException e) {
      return Cli.usageError(spec.commandLine(), e.getMessage());
    }
    ImportResult r;
    try {
      r = CheckpointImporter.importCheckpoint(options);
    } catch (ImportException e) {
      return Cli.usageError(spec.commandLine(), e.getMessage());
    }
    spec.commandLine()
        .getOut()
        .printf(
            "odelt import-checkpoint: %s %s (%d tensors, %,d parameters, slot %s, step %d) written"
                + " to %s%n",
            r.manifest().getName(),
            r.manifest().getVersion(),
            r.tensors(),
            r.parameters(),
            r.weights().key(),
            r.step(),
            r.manifestFile());
    return GenerateJob.EXIT_OK;
  }
}
