package dev.odelt.pipelines.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.odelt.model.io.Int64Tensor;
import dev.odelt.model.io.SafeTensors;
import dev.odelt.model.io.Tensor;
import dev.odelt.model.testing.TestModels;
import dev.odelt.pipelines.GenerateJob;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dispatch, help and usage errors of the jar's command line, and the velocity subcommand. */
class CliTest {

  @TempDir Path dir;

  record Run(int exitCode, String console) {}

  static Run cli(String... args) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int code = GenerateJob.runCli(args, console);
    return new Run(code, bytes.toString(StandardCharsets.UTF_8));
  }

  @Test
  void helpListsTheJobsOptionsAndTheSubcommands() {
    for (String[] args : new String[][] {{"--help"}, {"help"}, {"-h"}}) {
      Run run = cli(args);
      String out = run.console();
      assertEquals(GenerateJob.EXIT_OK, run.exitCode(), out);
      int options = out.indexOf("Job options");
      int subcommands = out.indexOf("Subcommands:");
      assertTrue(options > 0 && subcommands > options, out);
      for (Method getter : GenerateCommand.jobGetters()) {
        assertTrue(out.contains(GenerateCommand.optionName(getter)), getter + "\n" + out);
      }
      assertTrue(out.contains("Images per device batch"), out);
      assertFalse(
          out.replaceAll("\\s+", " ").matches("(?s).*[a-z)]\\.\\. .*"), "a '..' slip\n" + out);
      assertTrue(
          out.replaceAll("\\s+", " ").contains("Embedded runs do not restart. Default: 10."), out);
      assertTrue(out.contains("--requests=<text>") && out.contains("Required"), out);
      assertTrue(
          out.replaceAll("\\s+", " ").contains("workers. Default: 256."),
          "chunk size default\n" + out);
      assertTrue(out.contains("velocity") && out.contains("generate"), out);
      assertTrue(out.contains("--help=FlinkPipelineOptions"), out);
      assertFalse(out.contains("--help=GenerateOptions"), out);
    }
  }

  @Test
  void helpForASubcommandShowsItsUsage() {
    for (String[] args :
        new String[][] {{"help", "velocity"}, {"velocity", "--help"}, {"--help=velocity"}}) {
      Run run = cli(args);
      assertEquals(GenerateJob.EXIT_OK, run.exitCode(), run.console());
      assertTrue(run.console().contains("--inputs=<file>"), run.console());
      assertTrue(run.console().contains("NHWC"), run.console());
      assertFalse(run.console().contains("Job options"), run.console());
      assertFalse(run.console().contains("--version"), run.console());
    }
    for (String[] args :
        new String[][] {
          {"help", "generate"},
          {"generate", "--help"},
          {"--help=GenerateOptions"},
          {"--requests=x", "--help"},
          {"--output=/tmp/x", "--help=GenerateOptions"}
        }) {
      Run run = cli(args);
      assertEquals(GenerateJob.EXIT_OK, run.exitCode(), String.join(" ", args));
      assertTrue(run.console().contains("Exit codes:"), run.console());
      assertTrue(run.console().contains("--resume[=true|false]"), run.console());
      assertFalse(run.console().contains("Subcommands:"), run.console());
    }
  }

  @Test
  void beamsOwnHelpIsReachableByInterfaceName() {
    Run run = cli("--help=FlinkPipelineOptions");
    assertEquals(GenerateJob.EXIT_OK, run.exitCode(), run.console());
    assertTrue(run.console().contains("--flinkMaster"), run.console());
    Run unknown = cli("--help=NoSuchOptions");
    assertEquals(GenerateJob.EXIT_USAGE, unknown.exitCode());
    assertTrue(unknown.console().contains("FlinkPipelineOptions"), unknown.console());
  }

  @Test
  void unknownSubcommandsAndBadFlagsAreUsageErrors() {
    Run unknown = cli("import-nothing", "--x=1");
    assertEquals(GenerateJob.EXIT_USAGE, unknown.exitCode(), unknown.console());
    assertTrue(unknown.console().contains("import-nothing"), unknown.console());
    assertTrue(unknown.console().contains("--help lists the subcommands"), unknown.console());
    assertEquals(GenerateJob.EXIT_USAGE, cli("help", "nosuch").exitCode());
    Run missing = cli("velocity", "--model=m");
    assertEquals(GenerateJob.EXIT_USAGE, missing.exitCode());
    assertTrue(missing.console().contains("--inputs"), missing.console());
    Run notANumber = cli("velocity", "--model=m", "--inputs=i", "--output=o", "--blocks=four");
    assertEquals(GenerateJob.EXIT_USAGE, notANumber.exitCode());
    assertTrue(notANumber.console().contains("--blocks"), notANumber.console());
  }

  @Test
  void theJobWithoutASubcommandKeepsItsUsageErrorAndNoBrokenHint() {
    Run run = cli("--output=" + dir.resolve("out"));
    assertEquals(GenerateJob.EXIT_USAGE, run.exitCode(), run.console());
    assertTrue(run.console().contains("--requests"), run.console());
    assertFalse(run.console().contains("--help=GenerateOptions"), run.console());
    assertTrue(run.console().contains("--help lists every option"), run.console());
    Run explicit = cli("generate", "--output=" + dir.resolve("out"));
    assertEquals(GenerateJob.EXIT_USAGE, explicit.exitCode(), explicit.console());
    assertFalse(Files.exists(dir.resolve("out")));
  }

  @Test
  void velocityWritesVAndRejectsBadInputWithExitTwo() throws Exception {
    String model = TestModels.writeRandomPackage(dir.resolve("model"), TestModels.TINY, 4);
    int b = 2;
    int s = TestModels.TINY.imageSize();
    int c = TestModels.TINY.channels();
    float[] x = new float[b * s * s * c];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) Math.cos(i * 0.1);
    }
    Path in = dir.resolve("in.safetensors");
    Files.write(
        in,
        SafeTensors.write(
            Map.of(
                "x", new Tensor(new long[] {b, s, s, c}, x),
                "t", new Tensor(new long[] {b}, new float[] {0.25f, 0.5f})),
            Map.of(
                "level", new Int64Tensor(new long[] {b}, new long[] {2, 7}),
                "label", new Int64Tensor(new long[] {b}, new long[] {1, 10})),
            Map.of()));
    Path out = dir.resolve("v.safetensors");
    Run ok = cli("velocity", "--model=" + model, "--inputs=" + in, "--blocks=4", "--output=" + out);
    assertEquals(GenerateJob.EXIT_OK, ok.exitCode(), ok.console());
    Tensor v = SafeTensors.read(Files.readAllBytes(out), out.toString()).tensors().get("v");
    assertEquals(b * s * s * c, v.size());
    assertTrue(ok.console().contains("(2, 8, 8, 3)"), ok.console());

    Path notWritten = dir.resolve("never.safetensors");
    Run badBlocks =
        cli(
            "velocity",
            "--model=" + model,
            "--inputs=" + in,
            "--blocks=3",
            "--output=" + notWritten);
    assertEquals(GenerateJob.EXIT_USAGE, badBlocks.exitCode(), badBlocks.console());
    assertTrue(badBlocks.console().contains("--blocks=3"), badBlocks.console());
    assertFalse(Files.exists(notWritten));
    Run badModel =
        cli(
            "velocity",
            "--model=" + dir.resolve("nowhere"),
            "--inputs=" + in,
            "--blocks=4",
            "--output=" + notWritten);
    assertEquals(GenerateJob.EXIT_USAGE, badModel.exitCode(), badModel.console());
    assertTrue(badModel.console().contains("--model"), badModel.console());
    assertFalse(Files.exists(notWritten));
  }
}
