/**
 * The job jar's command line: {@link dev.odelt.pipelines.cli.Cli} dispatches subcommands (picocli);
 * each subcommand is one small class that parses its flags and calls a library.
 */
package dev.odelt.pipelines.cli;
