package dev.odelt.transforms.requests;

import dev.odelt.proto.v1.GenerationRequest;
import dev.odelt.proto.v1.RejectReason;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The model-independent checks of a parsed request (see {@link RequestLimits}), plus the derived
 * defaults: a request id from (file name, line) and a seed from the request id. The one
 * model-dependent fact it takes is whether a subject is required: not for an unconditional model,
 * which {@link RequestResolver} then refuses any subject for.
 */
public final class RequestChecks {

  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

  private RequestChecks() {}

  /**
   * Checks a request and fills in its derived id and seed.
   *
   * @param source the manifest location (its file name seeds derived ids)
   * @param line the 1-based line number
   */
  public static GenerationRequest check(GenerationRequest request, String source, long line)
      throws RejectedRequestException {
    return check(request, source, line, true);
  }

  /**
   * Checks a request and fills in its derived id and seed.
   *
   * @param source the manifest location (its file name seeds derived ids)
   * @param line the 1-based line number
   * @param subjectRequired false for an unconditional model: a request may then name no subject
   */
  public static GenerationRequest check(
      GenerationRequest request, String source, long line, boolean subjectRequired)
      throws RejectedRequestException {
    GenerationRequest.Builder b = request.toBuilder();
    int subjects = subjects(request);
    if (subjects == 0 && subjectRequired) {
      throw new RejectedRequestException(
          RejectReason.NO_SUBJECT,
          "The request names no subject: give exactly one of class_id, class_label or prompt.");
    }
    if (subjects > 1) {
      throw new RejectedRequestException(
          RejectReason.TWO_SUBJECTS,
          "The request names more than one subject: give exactly one of class_id, class_label or"
              + " prompt.");
    }
    if (request.hasClassLabel() && request.getClassLabel().isBlank()
        || request.hasPrompt() && request.getPrompt().isBlank()) {
      throw new RejectedRequestException(
          RejectReason.NO_SUBJECT, "The request's class_label or prompt is empty.");
    }
    checkLength("prompt", request.getPrompt());
    checkLength("class_label", request.getClassLabel());
    int tiers =
        (request.hasTier() ? 1 : 0)
            + (request.hasTierName() ? 1 : 0)
            + (request.hasMaxBlockEvals() ? 1 : 0);
    if (tiers > 1) {
      throw new RejectedRequestException(
          RejectReason.TWO_TIERS,
          "The request chooses its tier more than once: give at most one of tier, tier_name or"
              + " max_block_evals.");
    }
    if (request.hasNumImages()
        && (request.getNumImages() < 1
            || request.getNumImages() > RequestLimits.MAX_IMAGES_PER_REQUEST)) {
      throw new RejectedRequestException(
          RejectReason.NUM_IMAGES_OUT_OF_RANGE,
          "num_images must be between 1 and "
              + RequestLimits.MAX_IMAGES_PER_REQUEST
              + ", got "
              + request.getNumImages()
              + ".");
    }
    if (!request.hasNumImages()) {
      b.setNumImages(1);
    }
    if (request.getRequestId().isEmpty()) {
      b.setRequestId(derivedRequestId(source, line));
    } else {
      checkRequestId(request.getRequestId());
    }
    checkTags(request.getTagsMap());
    if (!request.hasSeed()) {
      b.setSeed(Seeds.fromRequestId(b.getRequestId()));
    }
    return b.build();
  }

  /** How many of class_id, class_label and prompt a request sets. */
  static int subjects(GenerationRequest request) {
    return (request.hasClassId() ? 1 : 0)
        + (request.hasClassLabel() ? 1 : 0)
        + (request.hasPrompt() ? 1 : 0);
  }

  /**
   * The id of a request that has none: the manifest's file name without its extension (characters
   * outside {@code [A-Za-z0-9._-]} replaced by {@code _}), a dash and the line number; e.g. line 3
   * of {@code gs://b/day 1.jsonl} is {@code day_1-3}.
   */
  public static String derivedRequestId(String source, long line) {
    String name = source.substring(source.lastIndexOf('/') + 1);
    int dot = name.lastIndexOf('.');
    if (dot > 0) {
      name = name.substring(0, dot);
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < name.length() && sb.length() < 96; i++) {
      char c = name.charAt(i);
      boolean ok =
          c < 128 && (Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.' && i > 0);
      sb.append(ok ? c : '_');
    }
    if (sb.length() == 0) {
      sb.append("manifest");
    }
    return sb.append('-').append(line).toString();
  }

  private static void checkLength(String field, String text) throws RejectedRequestException {
    int length = text.codePointCount(0, text.length());
    if (length > RequestLimits.MAX_PROMPT_LENGTH) {
      throw new RejectedRequestException(
          RejectReason.PROMPT_TOO_LONG,
          String.format(
              Locale.ROOT,
              "The %s is %,d characters long; the limit is %,d. Only the first %,d bytes of the"
                  + " line are kept here.",
              field,
              length,
              RequestLimits.MAX_PROMPT_LENGTH,
              RequestLimits.KEPT_TEXT_BYTES));
    }
  }

  static void checkRequestId(String id) throws RejectedRequestException {
    if (hasControl(id)) {
      throw new RejectedRequestException(
          RejectReason.UNSAFE_REQUEST_ID, "request_id contains control characters.");
    }
    if (id.length() > RequestLimits.MAX_REQUEST_ID_LENGTH || !SAFE_ID.matcher(id).matches()) {
      throw new RejectedRequestException(
          RejectReason.UNSAFE_REQUEST_ID,
          "request_id '"
              + id
              + "' is not a safe name: use 1 to "
              + RequestLimits.MAX_REQUEST_ID_LENGTH
              + " letters, digits, '.', '_' or '-', not starting with '.' (it becomes a folder"
              + " name under --output).");
    }
  }

  static void checkTags(Map<String, String> tags) throws RejectedRequestException {
    if (tags.size() > RequestLimits.MAX_TAGS) {
      throw new RejectedRequestException(
          RejectReason.TAGS_TOO_LARGE,
          "At most " + RequestLimits.MAX_TAGS + " tags are allowed, got " + tags.size() + ".");
    }
    for (Map.Entry<String, String> tag : tags.entrySet()) {
      String key = tag.getKey();
      String value = tag.getValue();
      if (key.length() > RequestLimits.MAX_REQUEST_ID_LENGTH) {
        throw new RejectedRequestException(
            RejectReason.TAGS_TOO_LARGE,
            String.format(
                Locale.ROOT,
                "A tag name is %,d characters long; the limit is %,d.",
                key.length(),
                RequestLimits.MAX_REQUEST_ID_LENGTH));
      }
      if (value.length() > RequestLimits.MAX_TAG_VALUE_LENGTH) {
        throw new RejectedRequestException(
            RejectReason.TAGS_TOO_LARGE,
            String.format(
                Locale.ROOT,
                "Tag '%s' has a value of %,d characters; the limit is %,d.",
                printable(key),
                value.length(),
                RequestLimits.MAX_TAG_VALUE_LENGTH));
      }
      if (hasControl(key) || hasControl(value)) {
        throw new RejectedRequestException(
            RejectReason.UNSAFE_TAG, "Tag '" + printable(key) + "' contains control characters.");
      }
      if (!SAFE_ID.matcher(key).matches()) {
        throw new RejectedRequestException(
            RejectReason.UNSAFE_TAG,
            "Tag name '" + key + "' must be letters, digits, '.', '_' or '-'.");
      }
      if (value.contains("..") || value.contains("/") || value.contains("\\")) {
        throw new RejectedRequestException(
            RejectReason.UNSAFE_TAG,
            "Tag '" + key + "' has a value that looks like a path ('..', '/', '\\').");
      }
    }
  }

  static boolean hasControl(String s) {
    return s.codePoints().anyMatch(Character::isISOControl);
  }

  private static String printable(String s) {
    StringBuilder sb = new StringBuilder();
    s.codePoints()
        .forEach(
            c -> {
              if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", c));
              } else {
                sb.appendCodePoint(c);
              }
            });
    return sb.toString();
  }
}
