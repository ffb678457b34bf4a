package dev.odelt.storage;

import java.util.regex.Pattern;

/**
 * Glob syntax shared by every store: {@code *}, {@code **}, {@code ?}, {@code [abc]}, {@code
 * {a,b}}.
 */
public final class Globs {

  private Globs() {}

  /** Whether the text has any glob wildcard. */
  public static boolean hasWildcard(String glob) {
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' || c == '?' || c == '[' || c == '{') {
        return true;
      }
    }
    return false;
  }

  /**
   * The longest prefix of the glob before its first wildcard, cut back to the last {@code /}: the
   * directory or object prefix to list.
   */
  public static String literalPrefix(String glob) {
    int first = glob.length();
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      if (c == '*' || c == '?' || c == '[' || c == '{') {
        first = i;
        break;
      }
    }
    int slash = glob.lastIndexOf('/', first - 1);
    return slash < 0 ? "" : glob.substring(0, slash + 1);
  }

  /**
   * Compiles a glob to a regular expression over whole locations: {@code *} and {@code ?} stay
   * inside one path segment, {@code **} crosses segments, and {@code **}{@code /} also matches no
   * directory at all ({@code a/**}{@code /x} matches {@code a/x}). {@code [abc]}, {@code [!abc]}
   * and (nestable) {@code {a,b}} work as in shells; everything else is literal.
   */
  public static Pattern toPattern(String glob) {
    StringBuilder re = new StringBuilder();
    int groupDepth = 0;
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      switch (c) {
        case '*':
          if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
            i++;
            if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
              re.append("(?:.*/)?");
              i++;
            } else {
              re.append(".*");
            }
          } else {
            re.append("[^/]*");
          }
          break;
        case '?':
          re.append("[^/]");
          break;
        case '[':
          int close = glob.indexOf(']', i + 2);
          if (close < 0) {
            re.append("\\[");
          } else {
            String body = glob.substring(i + 1, close);
            boolean negated = body.startsWith("!");
            if (negated) {
              body = body.substring(1);
            }
            re.append(negated ? "[^/" : "[");
            for (char b : body.toCharArray()) {
              if (b == '\\' || b == '[' || b == '&' || b == '^') {
                re.append('\\');
              }
              re.append(b);
            }
            re.append(']');
            i = close;
          }
          break;
        case '{':
          groupDepth++;
          re.append("(?:");
          break;
        case '}':
          if (groupDepth > 0) {
            re.append(')');
            groupDepth--;
          } else {
            re.append("\\}");
          }
          break;
        case ',':
          re.append(groupDepth > 0 ? "|" : ",");
          break;
        default:
          if ("\\.^$|()+]".indexOf(c) >= 0) {
            re.append('\\');
          }
          re.append(c);
      }
    }
    if (groupDepth > 0) {
      throw new IllegalArgumentException("Unclosed '{' in glob: " + glob);
    }
    return Pattern.compile(re.toString());
  }
}
