package dev.odelt.model.io;

import java.io.IOException;

/**
 * A model package that cannot be used. The message names the file and the problem; {@link
 * #problem()} says which kind it is, for callers (and tests) that react differently.
 */
public final class InvalidModelPackageException extends IOException {

  /** What is wrong with the package. */
  public enum Problem {
    /** The manifest or the weights file does not exist. */
    MISSING,
    /** The weights file is shorter than the manifest or its own header says. */
    TRUNCATED,
    /** The weights file does not hash to the manifest's sha256, or has the wrong size. */
    CHECKSUM_MISMATCH,
    /** A tensor's shape differs from the network's parameter. */
    WRONG_SHAPE,
    /** The file holds a tensor the network does not have. */
    UNKNOWN_TENSOR,
    /** The network has a parameter the file does not hold. */
    MISSING_TENSOR,
    /** Unreadable JSON, an unsupported dtype, overlapping data or an invalid architecture. */
    MALFORMED
  }

  private final Problem problem;
  private final String file;
  private final String detail;

  public InvalidModelPackageException(Problem problem, String file, String detail) {
    super(problem + ": " + file + ": " + detail);
    this.problem = problem;
    this.file = file;
    this.detail = detail;
  }

  public InvalidModelPackageException(
      Problem problem, String file, String detail, Throwable cause) {
    super(problem + ": " + file + ": " + detail, cause);
    this.problem = problem;
    this.file = file;
    this.detail = detail;
  }

  public Problem problem() {
    return problem;
  }

  /** What is wrong, without the problem kind and the file. */
  public String detail() {
    return detail;
  }

  /** The location of the offending file. */
  public String file() {
    return file;
  }
}
