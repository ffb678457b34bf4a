package dev.odelt.pipelines.cli;

import dev.odelt.model.Precision;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.model.vae.DecodeLatents;
import dev.odelt.pipelines.GenerateJob;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code decode}: decodes latents with a VAE package, for third-party parity checks of the decoder.
 * The work is {@link DecodeLatents}'; this class only parses flags.
 */
@Command(
    name = "decode",
    usageHelpAutoWidth = true,
    synopsisHeading = "Usage:%n",
    customSynopsis = {
      "  "
          + Cli.PROGRAM
          + " decode --vae=<vae dir> --latents=<in.safetensors>"
          + " --output=<out.safetensors> [--precision=fp32|bf16]"
    },
    descriptionHeading = "%n",
    description = {
      "Decode latents with a VAE package on the CPU, in float32 (the default) or bfloat16"
          + " (convolutions and matrix products in bfloat16; GroupNorm, softmax and the output in"
          + " float32).",
      "Input: latents F32 (B, h, w, 4) NHWC, scaled as the DiT outputs them (the decoder divides"
          + " by scaling_factor). Output: images F32 (B, 8h, 8w, 3) NHWC, the raw decoder output"
          + " before any clipping.",
      "A bad package or latents file is reported by name with exit code 2, and nothing is"
          + " written."
    },
    optionListHeading = "%nOptions:%n")
public final class DecodeCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;

  @Mixin Cli.HelpOption help;

  @Option(
      names = "--vae",
      required = true,
      paramLabel = "<vae dir>",
      description = "VAE package: its manifest.json or directory.")
  String vae;

  @Option(
      names = "--latents",
      required = true,
      paramLabel = "<file>",
      description = "Safetensors file with latents.")
  String latents;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "<file>",
      description = "Safetensors file to write images to.")
  String output;

  @Option(
      names = "--batchSize",
      paramLabel = "N",
      defaultValue = "4",
      description = "Images per decoder call (default 4).")
  int batchSize;

  @Option(
      names = "--precision",
      paramLabel = "fp32|bf16",
      defaultValue = "fp32",
      description = "Number format of the decoder (default fp32).")
  String precision;

  @Override
  public Integer call() throws Exception {
    String problem = Cli.unreadable("--vae", ModelPackages.manifestLocation(vae));
    if (problem == null) {
      problem = Cli.unreadable("--latents", latents);
    }
    if (problem != null) {
      return Cli.usageError(spec.commandLine(), problem);
    }
    DecodeLatents.Summary s;
    try {
      s = DecodeLatents.run(vae, latents, output, "cpu", batchSize, Precision.parse(precision));
    } catch (InvalidModelPackageException | IllegalArgumentException e) {
      return Cli.usageError(spec.commandLine(), e.getMessage());
    }
    spec.commandLine()
        .getOut()
        .printf(
            "odelt decode: images (%d, %d, %d, 3) written to %s in %.2f s%n",
            s.images(), s.height(), s.width(), output, s.seconds());
    return GenerateJob.EXIT_OK;
  }
}
