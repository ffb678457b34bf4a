package dev.odelt.pipelines.cli;

import dev.odelt.model.io.DiffusersVae;
import dev.odelt.model.io.InvalidModelPackageException;
import dev.odelt.model.io.ModelPackages;
import dev.odelt.pipelines.GenerateJob;
import dev.odelt.proto.v1.VaeManifest;
import dev.odelt.storage.ObjectStore;
import java.nio.file.FileAlreadyExistsException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code import-vae}: a diffusers AutoencoderKL folder (the Stable Diffusion VAE users hold) into a
 * VAE package a latent model can name. The work is {@link DiffusersVae}'s; this class only parses
 * flags.
 */
@Command(
    name = "import-vae",
    usageHelpAutoWidth = true,
    synopsisHeading = "Usage:%n",
    customSynopsis = {"  " + Cli.PROGRAM + " import-vae --diffusers=<dir> --output=<vae dir>"},
    descriptionHeading = "%n",
    description = {
      "Import the decoder of a diffusers AutoencoderKL folder (config.json +"
          + " diffusion_pytorch_model.safetensors, e.g. sd-vae-ft-mse) into a VAE package:"
          + " manifest.json + weights.safetensors (decoder and post_quant_conv tensors, F16/BF16"
          + " widened to F32), sha256 and provenance.",
      "An AutoencoderTiny folder (TAESD, _class_name AutoencoderTiny) imports its decoder the"
          + " same way (decoder.layers.* kept, encoder.layers.* dropped); the job and decode run"
          + " it as diffusers' DecoderTiny (latents as the DiT emits them, scaling_factor 1.0).",
      "Both attention namings are read (query/key/value/proj_attn and to_q/to_k/to_v/to_out.0)."
          + " A missing config, an unknown architecture, or a missing, extra or misshapen tensor"
          + " is reported by name with exit code 2, and nothing is written."
    },
    optionListHeading = "%nOptions:%n")
public final class ImportVaeCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;

  @Mixin Cli.HelpOption help;

  @Option(
      names = "--diffusers",
      required = true,
      paramLabel = "<dir>",
      description = "The diffusers folder (config.json + diffusion_pytorch_model.safetensors).")
  String diffusers;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "<vae dir>",
      description = "The VAE package directory to create (must not hold a package yet).")
  String output;

  @Override
  public Integer call() throws Exception {
    String problem = Cli.unreadable("--diffusers", ObjectStore.resolve(diffusers, "config.json"));
    if (problem != null) {
      return Cli.usageError(spec.commandLine(), problem);
    }
    VaeManifest manifest;
    try {
      manifest = DiffusersVae.importFolder(diffusers, output);
    } catch (InvalidModelPackageException | FileAlreadyExistsException e) {
      return Cli.usageError(spec.commandLine(), e.getMessage());
    }
    spec.commandLine()
        .getOut()
        .printf(
            "odelt import-vae: %s %s written to %s%n",
            manifest.getName(), manifest.getVersion(), ModelPackages.manifestLocation(output));
    return GenerateJob.EXIT_OK;
  }
}
