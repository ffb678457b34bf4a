package dev.odelt.pipelines.cli;

import com.google.protobuf.util.JsonFormat;
import dev.odelt.model.imports.CheckpointImporter;
import dev.odelt.model.imports.ImportException;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.tools.RandomPackages;
import dev.odelt.pipelines.GenerateJob;
import dev.odelt.proto.v1.DecoderRef;
import dev.odelt.proto.v1.ModelManifest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code random-package}: a DiT-B/2- or DiT-XL/2-shaped model package with random weights, so
 * tiers at the paper's scale can be timed without the released checkpoints (never for images
 * anyone looks at). The work is {@link RandomPackages}'; this class parses flags and, with {@code
 * --vae}, names a decoder so the job can run the package end to end.
 */
@Command(
    name = "random-package",
    usageHelpAutoWidth = true,
    synopsisHeading = "Usage:%n",
    customSynopsis = {
      "  " + Cli.PROGRAM + " random-package --shape=dit-b-2|dit-xl-2 --output=<dir>",
      "      [--seed=N] [--classes=N] [--vae=<vae package>]"
    },
    descriptionHeading = "%n",
    description = {
      "Write a model package of the paper's DiT-B/2 (width 768, 12 blocks, L in {4, 8, 12}) or"
          + " DiT-XL/2 (width 1152, 28 blocks, L in {12, 20, 28}) shape on 32x32x4 latents with"
          + " random weights, streamed tensor by tensor (DiT-XL/2 is 2.7 GB).",
      "Without --vae the package has no decoder: fine for timing the network (VelocityTiming),"
          + " refused by the job, which needs one for a latent model."
    },
    optionListHeading = "%nOptions:%n")
public final class RandomPackageCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;

  @Mixin Cli.HelpOption help;

  @Option(
      names = "--shape",
      required = true,
      paramLabel = "<shape>",
      description = "dit-b-2 or dit-xl-2.")
  String shape;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "<dir>",
      description = "The package directory (created).")
  Path output;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "N", description = "Weights seed.")
  long seed;

  @Option(
      names = "--classes",
      defaultValue = "1000",
      paramLabel = "N",
      description = "Classes (1000 as ImageNet; 1 makes an unconditional model).")
  int classes;

  @Option(
      names = "--vae",
      paramLabel = "<vae package>",
      description = "A VAE package (import-vae) the model names as its decoder, by absolute"
          + " location and the sha256 of its manifest.")
  String vae;

  @Override
  public Integer call() throws Exception {
    RandomPackages.PaperShape paperShape;
    DecoderRef decoder = null;
    try {
      paperShape = RandomPackages.PaperShape.parse(shape);
      if (vae != null) {
        decoder = CheckpointImporter.decoderReference(vae);
      }
    } catch (IllegalArgumentException | ImportException e) {
      return Cli.usageError(spec.commandLine(), e.getMessage());
    }
    ModelManifest manifest;
    try {
      manifest = RandomPackages.write(output, paperShape, seed, classes);
    } catch (IllegalArgumentException e) {
      return Cli.usageError(spec.commandLine(), e.getMessage());
    }
    Path manifestFile = output.resolve(ModelPackages.MANIFEST);
    if (decoder != null) {
      manifest = manifest.toBuilder().setDecoder(decoder).build();
      Files.writeString(manifestFile, JsonFormat.printer().print(manifest), StandardCharsets.UTF_8);
    }
    spec.commandLine()
        .getOut()
        .printf(
            "odelt random-package: %s (%s, %d classes, random weights%s) written to %s%n",
            manifest.getName(),
            paperShape.flag(),
            classes,
            decoder == null ? ", no decoder" : ", decoder " + decoder.getLocation(),
            manifestFile);
    return GenerateJob.EXIT_OK;
  }
}
