package dev.odelt.transforms.io;

/**
 * The output cannot take this run as asked: it was made with another model or precision ({@link
 * OutputProvenance#checkResume}), or another job holds it ({@link OutputLease}). Nothing was
 * written; the message names both sides and what to do. The job exits with its usage code.
 */
public final class OutputConflictException extends Exception {

  private static final long serialVersionUID = 1L;

  public OutputConflictException(String message) {
    super(message);
  }
}
