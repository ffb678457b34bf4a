package dev.odelt.transforms.requests;

import dev.odelt.model.io.InputLimits;

/**
 * The documented bounds a request must respect; anything outside becomes a dead letter.
 *
 * <ul>
 *   <li>{@code num_images}: 1 ≤ n ≤ {@value #MAX_IMAGES_PER_REQUEST} (absent means 1).
 *   <li>{@code steps}: 1 ≤ S ≤ {@value #MAX_STEPS}.
 *   <li>{@code guidance}: 0 ≤ w ≤ {@value #MAX_GUIDANCE}.
 *   <li>{@code request_id}: 1 to {@value #MAX_REQUEST_ID_LENGTH} characters of {@code
 *       [A-Za-z0-9._-]}, not starting with {@code .}; so it is always one safe path segment.
 *   <li>tags: at most {@value #MAX_TAGS}; names like request ids (up to {@value
 *       #MAX_REQUEST_ID_LENGTH} characters), values up to {@value #MAX_TAG_VALUE_LENGTH} characters
 *       without control characters, {@code ..}, {@code /} or {@code \}. Too many, or too long, is
 *       {@code TAGS_TOO_LARGE}; a forbidden character is {@code UNSAFE_TAG}.
 *   <li>a manifest line (a whole record for a CSV row whose quoted fields span lines): at most
 *       {@value #MAX_LINE_BYTES} bytes, else {@code LINE_TOO_LONG}. Longer lines are never held in
 *       memory whole: the reader keeps the first {@value #MAX_LINE_BYTES} bytes and counts the
 *       rest.
 *   <li>{@code prompt} and {@code class_label}: at most {@value #MAX_PROMPT_LENGTH} characters
 *       (Unicode code points), else {@code PROMPT_TOO_LONG}.
 *   <li>the dead letter of an oversized line or prompt keeps only the first {@value
 *       #KEPT_TEXT_BYTES} bytes of its text (cut at a character boundary) and says the original
 *       length in its message.
 * </ul>
 */
public final class RequestLimits {

  public static final long MAX_IMAGES_PER_REQUEST = 10_000_000L;

  /** Shared with package presets: {@link InputLimits#MAX_STEPS}. */
  public static final int MAX_STEPS = InputLimits.MAX_STEPS;

  /** Shared with package presets: {@link InputLimits#MAX_GUIDANCE}. */
  public static final float MAX_GUIDANCE = InputLimits.MAX_GUIDANCE;

  public static final int MAX_REQUEST_ID_LENGTH = 128;
  public static final int MAX_TAGS = 32;
  public static final int MAX_TAG_VALUE_LENGTH = 256;
  public static final int MAX_LINE_BYTES = 64 * 1024;
  public static final int MAX_PROMPT_LENGTH = 2_000;
  public static final int KEPT_TEXT_BYTES = 1024;

  private RequestLimits() {}
}
