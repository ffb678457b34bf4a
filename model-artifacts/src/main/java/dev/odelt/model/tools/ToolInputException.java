package dev.odelt.model.tools;

/**
 * Bad input to a command-line tool of the model library: a flag, file or tensor that cannot be
 * used. The message is a complete sentence naming the flag, file or tensor; a command line prints
 * it and exits with its usage-error code, having written nothing.
 */
public final class ToolInputException extends Exception {

  private static final long serialVersionUID = 1L;

  public ToolInputException(String message) {
    super(message);
  }

  public ToolInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
