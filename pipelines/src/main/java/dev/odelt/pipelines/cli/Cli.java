package dev.odelt.pipelines.cli;

import dev.odelt.pipelines.GenerateJob;
import dev.odelt.storage.ObjectStores;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * The command line of the job jar: {@code java -jar odelt-pipelines.jar [SUBCOMMAND] [OPTIONS]}.
 *
 * <p>Dispatch: no subcommand (the first argument starts with {@code -}, or there is none) runs the
 * generation job exactly as {@code generate} does, with Beam-style {@code --flag=value} options
 * parsed by Beam ({@link GenerateJob#runJob}). {@code --help}, {@code -h} and {@code help} print
 * the overview (subcommands, then the job's own options); {@code help SUBCOMMAND} and {@code
 * SUBCOMMAND --help} print one subcommand's usage; {@code --help=GenerateOptions} (or {@code
 * --help=generate}) the job's, and {@code --help=<Beam options interface>} (e.g. {@code
 * FlinkPipelineOptions}) Beam's own help for that interface. Any other first word is a subcommand
 * parsed by picocli.
 *
 * <p>Exit codes: {@value GenerateJob#EXIT_OK} success (and help), {@value GenerateJob#EXIT_USAGE}
 * bad flags or input (a message names the flag, file or tensor; nothing is written), {@value
 * GenerateJob#EXIT_FAILED} an unexpected failure; the job adds {@value GenerateJob#EXIT_REJECTS}.
 * {@link #run} returns the code and never calls {@code System.exit}: only {@link GenerateJob#main}
 * does, so other entry points (tests, an application-mode launcher) can call {@link #run}.
 *
 * <p><b>Adding a subcommand</b> is one class: a picocli {@code @Command(name = "…", description =
 * "…")} implementing {@code Callable<Integer>}, with {@code @Mixin Cli.HelpOption help;} (for
 * {@code --help}) and {@code @Option(names = "--flag")} fields, whose {@code call()} checks its
 * flags, calls the library and returns an exit code ({@link #usageError} turns a bad-input
 * exception into the message and {@value GenerateJob#EXIT_USAGE}); then list the class in {@link
 * #SUBCOMMANDS}. Help, {@code help NAME}, {@code NAME --help} and usage errors come from picocli.
 */
public final class Cli {

  /** The subcommands besides {@code generate} and {@code help}, in the order help lists them. */
  static final List<Class<?>> SUBCOMMANDS =
      List.of(
          ImportCheckpointCommand.class,
          ImportVaeCommand.class,
          VelocityCommand.class,
          DecodeCommand.class,
          RandomPackageCommand.class);

  /** The name the usage text gives the program. */
  public static final String PROGRAM = "java -jar odelt-pipelines.jar";

  private static final String JOB_OPTIONS_HEADING = "jobOptionsHeading";
  private static final String JOB_OPTIONS = "jobOptions";

  private Cli() {}

  /**
   * Runs a command line and returns its exit code; everything it prints goes to {@code console}.
   */
  public static int run(String[] args, PrintStream console) {
    String first = args.length == 0 ? "" : args[0];
    if (first.equals("generate")) {
      return generate(List.of(args).subList(1, args.length).toArray(new String[0]), console);
    }
    if (args.length == 0 || first.startsWith("-") && !isHelpFlag(first)) {
      return generate(args, console);
    }
    if (isHelpFlag(first) && !first.contains("=")) {
      return run(new String[] {"help"}, console);
    }
    if (isHelpFlag(first)) {
      return helpFor(first.substring(first.indexOf('=') + 1), console);
    }
    return commandLine(console).execute(args);
  }

  /** The picocli command tree, printing to {@code console}. */
  public static CommandLine commandLine(PrintStream console) {
    CommandLine root = new CommandLine(new Root());
    root.addSubcommand(GenerateCommand.commandLine());
    for (Class<?> subcommand : SUBCOMMANDS) {
      root.addSubcommand(new CommandLine(subcommand));
    }
    root.addSubcommand(new CommandLine(new HelpCommand()));
    PrintWriter writer = new PrintWriter(console, true);
    root.setOut(writer);
    root.setErr(writer);
    root.setExitCodeExceptionMapper(e -> GenerateJob.EXIT_FAILED);
    root.setParameterExceptionHandler(
        (e, a) -> {
          CommandLine c = e.getCommandLine();
          c.getErr().println("odelt: " + e.getMessage());
          c.getErr()
              .println(
                  c.getParent() == null
                      ? "(" + PROGRAM + " --help lists the subcommands and options)"
                      : "(" + PROGRAM + " help " + c.getCommandName() + " shows its usage)");
          return GenerateJob.EXIT_USAGE;
        });
    root.setExecutionExceptionHandler(
        (e, c, p) -> {
          c.getErr().println("odelt: " + c.getCommandName() + " failed: " + e);
          e.printStackTrace(c.getErr());
          return GenerateJob.EXIT_FAILED;
        });
    // The job's own options right after the description, before the subcommands.
    Map<String, CommandLine.IHelpSectionRenderer> sections = root.getHelpSectionMap();
    sections.put(JOB_OPTIONS_HEADING, help -> String.format("%nJob options (no subcommand):%n"));
    sections.put(
        JOB_OPTIONS,
        help ->
            root.getSubcommands()
                .get(GenerateCommand.NAME)
                .getHelp()
                .optionList(help.createDefaultLayout(), null, help.parameterLabelRenderer()));
    List<String> keys = new ArrayList<>(root.getHelpSectionKeys());
    int at = keys.indexOf(UsageMessageSpec.SECTION_KEY_COMMAND_LIST_HEADING);
    keys.add(at, JOB_OPTIONS);
    keys.add(at, JOB_OPTIONS_HEADING);
    root.setHelpSectionKeys(keys);
    return root;
  }

  /**
   * Prints {@code message} as a usage error and returns {@value GenerateJob#EXIT_USAGE}; for
   * subcommands that catch their library's bad-input exception.
   */
  public static int usageError(CommandLine command, String message) {
    command.getErr().println("odelt " + command.getCommandName() + ": " + message);
    return GenerateJob.EXIT_USAGE;
  }

  /**
   * Null when {@code location} (the value of {@code flag}) is local or its store lets it be read,
   * else the usage error to print (gs:// without credentials, an unknown scheme), as the job checks
   * {@code --model}. Local files are left to the readers, which name what is missing.
   */
  static String unreadable(String flag, String location) {
    if (!location.contains("://") || location.startsWith("file:")) {
      return null;
    }
    try {
      ObjectStores.checkAccess(location, false);
      return null;
    } catch (IOException | RuntimeException e) {
      return flag + ": cannot read " + location + ": " + e.getMessage();
    }
  }

  private static boolean isHelpFlag(String arg) {
    return arg.equals("-h") || arg.equals("--help") || arg.startsWith("--help=");
  }

  /** The generation job, unless its arguments ask for help (Beam would print and exit). */
  private static int generate(String[] args, PrintStream console) {
    for (String arg : args) {
      if (arg.equals("-h") || arg.equals("--help")) {
        return run(new String[] {"help", GenerateCommand.NAME}, console);
      }
      if (arg.startsWith("--help=")) {
        return helpFor(arg.substring("--help=".length()), console);
      }
    }
    return GenerateJob.runJob(args, console);
  }

  /** {@code --help=NAME}: a subcommand, the job's options, or a Beam options interface. */
  private static int helpFor(String name, PrintStream console) {
    if (name.equals("GenerateOptions") || name.equals(GenerateCommand.NAME)) {
      return run(new String[] {"help", GenerateCommand.NAME}, console);
    }
    CommandLine root = commandLine(console);
    if (root.getSubcommands().containsKey(name)) {
      return root.execute("help", name);
    }
    Map<String, Class<? extends PipelineOptions>> beam = beamOptions();
    Optional<Class<? extends PipelineOptions>> match =
        Optional.ofNullable(beam.get(name.toLowerCase(Locale.ROOT)));
    if (match.isPresent()) {
      PipelineOptionsFactory.printHelp(console, match.get());
      return GenerateJob.EXIT_OK;
    }
    console.println(
        "odelt: --help="
            + name
            + ": no such subcommand or options; use --help, --help=GenerateOptions or one of "
            + String.join(", ", new TreeMap<>(simpleNames(beam)).keySet()));
    return GenerateJob.EXIT_USAGE;
  }

  /** Beam's registered options interfaces by lower-case simple and full name. */
  private static Map<String, Class<? extends PipelineOptions>> beamOptions() {
    Map<String, Class<? extends PipelineOptions>> out = new TreeMap<>();
    for (Class<? extends PipelineOptions> c : PipelineOptionsFactory.getRegisteredOptions()) {
      out.put(c.getSimpleName().toLowerCase(Locale.ROOT), c);
      out.put(c.getName().toLowerCase(Locale.ROOT), c);
    }
    return out;
  }

  private static Map<String, Class<? extends PipelineOptions>> simpleNames(
      Map<String, Class<? extends PipelineOptions>> beam) {
    Map<String, Class<? extends PipelineOptions>> out = new TreeMap<>();
    beam.values().forEach(c -> out.put(c.getSimpleName(), c));
    return out;
  }

  /** {@code -h}/{@code --help} for a subcommand: {@code @Mixin Cli.HelpOption help;}. */
  public static final class HelpOption {
    @CommandLine.Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help and exit.")
    boolean help;
  }

  /** The top-level command: only prints the overview (the job itself runs without picocli). */
  @Command(
      name = PROGRAM,
      synopsisHeading = "Usage:%n",
      customSynopsis = {
        "  " + PROGRAM + " --requests=<globs> --output=<dir> [job options]",
        "  " + PROGRAM + " <subcommand> [options]",
        "  " + PROGRAM + " help [<subcommand>]",
      },
      descriptionHeading = "%n",
      description = {
        "Batch image generation with ODE_t(ODE_l) flow transformers. With no subcommand it runs"
            + " the generation job (the same as 'generate')."
      },
      commandListHeading = "%nSubcommands:%n",
      footerHeading = "%n",
      footer = {
        "Beam and Flink options (--runner, --parallelism, --flinkMaster, ...) pass through to the"
            + " job; --help=FlinkPipelineOptions (or any Beam options interface) lists them.",
        "'" + PROGRAM + " help <subcommand>' or '<subcommand> --help' shows one subcommand.",
        "Exit codes: 0 done, 1 failed, 2 bad options or input (nothing written), 3 (job) done but"
            + " some input was rejected."
      })
  static final class Root implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }
}
