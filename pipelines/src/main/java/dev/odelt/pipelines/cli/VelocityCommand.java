package dev.odelt.pipelines.cli;

import dev.odelt.model.tools.ToolInputException;
import dev.odelt.model.tools.VelocityTool;
import dev.odelt.pipelines.GenerateJob;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code velocity}: one velocity evaluation of a model package on inputs in the reference's NHWC
 * layout, so anyone can check the network against their own reference. The work is {@link
 * VelocityTool}'s; this class only parses flags.
 */
@Command(
    name = "velocity",
    usageHelpAutoWidth = true,
    synopsisHeading = "Usage:%n",
    customSynopsis = {
      "  " + Cli.PROGRAM + " velocity --model=<manifest>",
      "      --inputs=<in.safetensors> --blocks=<L> --output=<out.safetensors>"
    },
    descriptionHeading = "%n",
    description = {
      "Evaluate the network's velocity v(x, t | level, label, L) once, in float32 on the CPU.",
      "Inputs (safetensors): x F32 (B, H, W, C) in NHWC, the reference's layout; t F32 (B);"
          + " level I64 (B), the step level log2(S); label I64 (B), a class id, num_classes being"
          + " the null label. Output: v F32 (B, H, W, C).",
      "Bad input (a missing tensor, a wrong dtype or shape, an L the model does not allow, a"
          + " model that cannot be read) is reported by name with exit code 2, and nothing is"
          + " written."
    },
    optionListHeading = "%nOptions:%n")
public final class VelocityCommand implements Callable<Integer> {

  @Spec CommandLine.Model.CommandSpec spec;

  @Mixin Cli.HelpOption help;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "<manifest>",
      description = "Model package: its manifest.json or directory (local, gs:// or classpath:).")
  String model;

  @Option(
      names = "--inputs",
      required = true,
      paramLabel = "<file>",
      description = "Safetensors file with x, t, level and label.")
  Path inputs;

  @Option(
      names = "--blocks",
      required = true,
      paramLabel = "<L>",
      description = "Transformer blocks L: one of the model's allowed block counts.")
  int blocks;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "<file>",
      description = "Safetensors file to write v to (replaced if it exists).")
  Path output;

  @Override
  public Integer call() throws Exception {
    VelocityTool.Result r;
    try {
      r = VelocityTool.run(model, inputs, blocks, output);
    } catch (ToolInputException e) {
      return Cli.usageError(spec.commandLine(), e.getMessage());
    }
    spec.commandLine()
        .getOut()
        .printf(
            "odelt velocity: v (%d, %d, %d, %d) of %s at L=%d written to %s%n",
            r.batch(), r.height(), r.width(), r.channels(), r.model(), r.blocks(), output);
    return GenerateJob.EXIT_OK;
  }
}
