package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.RejectReason;
import java.util.List;

/**
 * Thrown by the plain-Java checks of this package when an input is bad; the transforms turn it into
 * a {@link dev.odelt.proto.v1.DeadLetter}. Never thrown for infrastructure faults.
 */
public final class RejectedRequestException extends Exception {

  private static final long serialVersionUID = 1L;

  private final RejectReason reason;
  private final List<String> suggestions;

  public RejectedRequestException(RejectReason reason, String message) {
    this(reason, message, List.of());
  }

  public RejectedRequestException(RejectReason reason, String message, List<String> suggestions) {
    super(message);
    this.reason = reason;
    this.suggestions = List.copyOf(suggestions);
  }

  public RejectReason reason() {
    return reason;
  }

  public List<String> suggestions() {
    return suggestions;
  }
}
