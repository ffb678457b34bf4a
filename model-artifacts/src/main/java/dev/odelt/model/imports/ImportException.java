package dev.odelt.model.imports;

/**
 * Bad input to an importer: a file that is not what it should be, or an option that does not fit
 * it. The message names the file (and the tensor, line or option); {@link #problem()} says which
 * kind of problem it is. Infrastructure faults (a disk that fails) are {@link java.io.IOException}s
 * instead, never this.
 */
public final class ImportException extends Exception {

  private static final long serialVersionUID = 1L;

  /** What is wrong with the input. */
  public enum Problem {
    /** The file (checkpoint, labels, decoder) does not exist or is not a regular file. */
    MISSING,
    /** The file does not start like a pickle of protocol 2–5. */
    NOT_A_PICKLE,
    /** The pickle ends before its STOP opcode, or a length in it reaches past the end. */
    TRUNCATED,
    /** The pickle is structurally invalid (bad opcode, stack underflow, unhashable key …). */
    MALFORMED_PICKLE,
    /** The checkpoint holds no {@code params} (or the requested weights slot). */
    NO_PARAMS,
    /** A tensor the architecture needs is not in the checkpoint. */
    MISSING_TENSOR,
    /** The checkpoint holds a tensor the architecture does not have. */
    UNKNOWN_TENSOR,
    /** A tensor's shape or dtype does not fit the others or the options. */
    WRONG_SHAPE,
    /** An option is missing, unknown or inconsistent with the checkpoint. */
    BAD_OPTION,
    /** The labels file is malformed or has the wrong number of classes. */
    BAD_LABELS,
    /** The output directory exists and is not empty. */
    OUTPUT_EXISTS
  }

  private final Problem problem;
  private final String source;

  public ImportException(Problem problem, String source, String detail) {
    super(problem + ": " + source + ": " + detail);
    this.problem = problem;
    this.source = source;
  }

  public ImportException(Problem problem, String source, String detail, Throwable cause) {
    super(problem + ": " + source + ": " + detail, cause);
    this.problem = problem;
    this.source = source;
  }

  public Problem problem() {
    return problem;
  }

  /** The file or option the problem is in. */
  public String source() {
    return source;
  }
}
