package dev.odelt.transforms.requests;

/**
 * The documented bounds a request must respect; anything outside becomes a dead letter.
 *
 * <ul>
 *   <li>{@code num_images}: 1 ≤ n ≤ {@value #MAX_IMAGES_PER_REQUEST} (absent means 1).
 *   <li>{@code steps}: 1 ≤ S ≤ {@value #MAX_STEPS}.
 *   <li>{@code guidance}: 0 ≤ w ≤ {@value #MAX_GUIDANCE}.
 *   <li>{@code request_id}: 1 to {@value #MAX_REQUEST_ID_LENGTH} characters of {@code
 *       [A-Za-z0-9._-]}, not starting with {@code .}; so it is always one safe path segment.
 *   <li>tags: at most {@value #MAX_TAGS}; keys like request ids, values up to {@value
 *       #MAX_TAG_VALUE_LENGTH} characters without control characters, {@code ..}, {@code /} or
 *       {@code \}.
 * </ul>
 */
public final class RequestLimits {

  public static final long MAX_IMAGES_PER_REQUEST = 10_000_000L;
  public static final int MAX_STEPS = 1024;
  public static final float MAX_GUIDANCE = 100f;
  public static final int MAX_REQUEST_ID_LENGTH = 128;
  public static final int MAX_TAGS = 32;
  public static final int MAX_TAG_VALUE_LENGTH = 256;

  private RequestLimits() {}
}
