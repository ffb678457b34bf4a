package dev.odelt.storage;

import java.util.regex.Pattern;

/** Glob syntax shared by every store: {@code *}, {@code **}, {@code ?}, {@code [abc]}, {@code {a,b}}. */
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

  /** Compiles a glob to a regular expression over whole locations. */
  public static Pattern toPattern(String glob) {
    StringBuilder re = new StringBuilder();
    boolean inGroup = false;
    for (int i = 0; i < glob.length(); i++) {
      char c = glob.charAt(i);
      switch (c) {
        case '*':
          if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
            re.append(".*");
            i++;
          } else {
            re.append("[^/]*");
          }
          break;
        case '?':
          re.append("[^/]");
          break;
        case '[':
          int close = glob.indexOf(']', i + 1);
          if (close < 0) {
            re.append("\\[");
          } else {
            String body = glob.substring(i + 1, close);
            if (body.startsWith("!")) {
              body = "^" + body.substring(1);
            }
            re.append('[').append(body.replace("\\", "\\\\")).append(']');
            i = close;
          }
          break;
        case '{':
          inGroup = true;
          re.append("(?:");
          break;
        case '}':
          if (inGroup) {
            re.append(')');
            inGroup = false;
          } else {
            re.append("\\}");
          }
          break;
        case ',':
          re.append(inGroup ? "|" : ",");
          break;
        default:
          if ("\\.^$|()+".indexOf(c) >= 0) {
            re.append('\\');
          }
          re.append(c);
      }
    }
    return Pattern.compile(re.toString());
  }
}
