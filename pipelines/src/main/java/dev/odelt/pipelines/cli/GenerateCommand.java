package dev.odelt.pipelines.cli;

import dev.odelt.pipelines.GenerateJob;
import dev.odelt.pipelines.GenerateOptions;
import java.beans.Introspector;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.Validation;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The usage of {@code generate}, the generation job (also what runs with no subcommand), built from
 * {@link GenerateOptions}: one option per getter with a Beam {@link Description}, its default from
 * the {@code @Default} annotation and "required" from {@link Validation.Required}. Required options
 * come first, then the others by name.
 *
 * <p>This spec only renders help: the job's arguments are parsed by Beam ({@link
 * GenerateJob#runJob}), which also accepts the Beam and Flink runner options; {@link Cli} sends
 * {@code generate …} there without picocli.
 */
final class GenerateCommand {

  static final String NAME = "generate";

  private GenerateCommand() {}

  static CommandLine commandLine() {
    CommandSpec spec = CommandSpec.create().name(NAME);
    spec.usageMessage()
        .customSynopsis(
            "  " + Cli.PROGRAM + " [generate] --requests=<globs> --output=<dir> [job options]")
        .synopsisHeading("Usage:%n")
        .descriptionHeading("%n")
        .description(
            "Run the generation job (the default when no subcommand is given): read request"
                + " manifests, generate the images on the model's tiers and write images,"
                + " records, per-tier accounting and dead letters under --output.")
        .optionListHeading("%nJob options:%n")
        .exitCodeListHeading("%nExit codes:%n")
        .exitCodeList(exitCodes())
        .footerHeading("%n")
        .footer(
            "Beam and Flink options (--runner, --parallelism, --flinkMaster, ...) pass through;"
                + " --help=FlinkPipelineOptions lists the Flink runner's.");
    for (Method getter : jobGetters()) {
      spec.addOption(option(getter));
    }
    return new CommandLine(spec);
  }

  private static Map<String, String> exitCodes() {
    Map<String, String> codes = new LinkedHashMap<>();
    codes.put(Integer.toString(GenerateJob.EXIT_OK), "every request done");
    codes.put(Integer.toString(GenerateJob.EXIT_FAILED), "the job failed");
    codes.put(
        Integer.toString(GenerateJob.EXIT_USAGE),
        "bad options, no manifest matched, or the model cannot be read");
    codes.put(
        Integer.toString(GenerateJob.EXIT_REJECTS),
        "done, but some input was rejected (errors/dead-letters-*.jsonl)");
    return codes;
  }

  /** The getters of {@link GenerateOptions} with a description, required ones first, by name. */
  static List<Method> jobGetters() {
    List<Method> getters = new ArrayList<>();
    for (Method m : GenerateOptions.class.getDeclaredMethods()) {
      if (m.isAnnotationPresent(Description.class)
          && m.getParameterCount() == 0
          && (m.getName().startsWith("get") || m.getName().startsWith("is"))) {
        getters.add(m);
      }
    }
    getters.sort(
        Comparator.comparing((Method m) -> !m.isAnnotationPresent(Validation.Required.class))
            .thenComparing(GenerateCommand::optionName));
    return getters;
  }

  /** {@code getMaxBatchSize} → {@code --maxBatchSize}, as Beam names it. */
  static String optionName(Method getter) {
    String name = getter.getName();
    return "--" + Introspector.decapitalize(name.substring(name.startsWith("is") ? 2 : 3));
  }

  private static OptionSpec option(Method getter) {
    Class<?> type = getter.getReturnType();
    // Beam's descriptions may end in a sentence's full stop; the suffixes below add their own.
    String description = getter.getAnnotation(Description.class).value().replaceFirst("\\.$", "");
    String fallback = defaultOf(getter);
    if (getter.isAnnotationPresent(Validation.Required.class)) {
      description += ". Required.";
    } else if (fallback != null && !fallback.isEmpty()) {
      description += ". Default: " + fallback + ".";
    } else {
      description += ".";
    }
    boolean flag = type == boolean.class || type == Boolean.class;
    return OptionSpec.builder(optionName(getter))
        .type(type)
        .arity(flag ? "0..1" : "1")
        .paramLabel(flag ? "true|false" : label(type))
        .required(getter.isAnnotationPresent(Validation.Required.class))
        .description(description)
        .build();
  }

  private static String label(Class<?> type) {
    if (type == int.class || type == long.class || type == Integer.class || type == Long.class) {
      return "<n>";
    }
    if (type == double.class || type == float.class) {
      return "<number>";
    }
    return "<text>";
  }

  /** The value of a Beam {@code @Default.X} annotation as text, or null without one. */
  private static String defaultOf(Method getter) {
    for (Annotation a : getter.getAnnotations()) {
      if (a instanceof Default.String s) {
        return s.value();
      } else if (a instanceof Default.Integer i) {
        return Integer.toString(i.value());
      } else if (a instanceof Default.Long l) {
        return Long.toString(l.value());
      } else if (a instanceof Default.Boolean b) {
        return Boolean.toString(b.value());
      } else if (a instanceof Default.Double d) {
        return Double.toString(d.value());
      }
    }
    return null;
  }
}
