package dev.cairn.pipeline.selinux;

import java.util.Map;

/**
 * Translates a PCRE2 pattern (as libselinux compiles file_contexts regexes: no UTF mode, so a
 * pattern and the path are byte strings) into {@link java.util.regex} syntax with the same
 * meaning on paths decoded as ISO-8859-1 (one char per byte). What differs between the two and
 * is handled: POSIX classes ({@code [[:alpha:]]}), a {@code ]} first in a class (literal in PCRE),
 * {@code [} and {@code &&} inside a class (literal in PCRE, nesting and intersection in Java), a
 * {@code {} that does not start a quantifier (literal in PCRE), {@code \b} inside a class
 * (backspace). Everything else passes through; what Java cannot compile is reported.
 */
final class PcreTranslation {
    private static final Map<String, String> POSIX = Map.ofEntries(Map.entry("alpha", "Alpha"), Map.entry("digit", "Digit"),
            Map.entry("alnum", "Alnum"), Map.entry("upper", "Upper"), Map.entry("lower", "Lower"), Map.entry("space", "Space"),
            Map.entry("punct", "Punct"), Map.entry("print", "Print"), Map.entry("graph", "Graph"), Map.entry("cntrl", "Cntrl"),
            Map.entry("xdigit", "XDigit"), Map.entry("blank", "Blank"), Map.entry("ascii", "ASCII"));

    private PcreTranslation() {
    }

    static String toJava(String pcre) {
        StringBuilder out = new StringBuilder(pcre.length() + 8);
        int i = 0;
        int n = pcre.length();
        while (i < n) {
            char c = pcre.charAt(i);
            if (c == '\\') {
                if (i + 1 >= n) {
                    throw new IllegalArgumentException("trailing backslash");
                }
                char e = pcre.charAt(i + 1);
                if (e == 'Q') {
                    int end = pcre.indexOf("\\E", i + 2);
                    int stop = end < 0 ? n : end + 2;
                    out.append(pcre, i, stop);
                    if (end < 0) {
                        out.append("\\E");
                    }
                    i = stop;
                    continue;
                }
                out.append(c).append(e);
                i += 2;
            } else if (c == '[') {
                i = translateClass(pcre, i, out);
            } else if (c == '{') {
                int end = quantifierEnd(pcre, i);
                if (end < 0) {
                    out.append("\\{");
                    i++;
                } else {
                    out.append(pcre, i, end);
                    i = end;
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** End (exclusive) of a quantifier {n}, {n,} or {n,m} starting at {@code i}, or -1 when it is a literal brace. */
    private static int quantifierEnd(String p, int i) {
        int j = i + 1;
        int digits = 0;
        while (j < p.length() && Character.isDigit(p.charAt(j))) {
            j++;
            digits++;
        }
        if (digits == 0) {
            return -1;
        }
        if (j < p.length() && p.charAt(j) == ',') {
            j++;
            while (j < p.length() && Character.isDigit(p.charAt(j))) {
                j++;
            }
        }
        return j < p.length() && p.charAt(j) == '}' ? j + 1 : -1;
    }

    /** Translates the class starting at {@code start} ('['); returns the index after its ']'. */
    private static int translateClass(String p, int start, StringBuilder out) {
        int i = start + 1;
        int n = p.length();
        out.append('[');
        if (i < n && p.charAt(i) == '^') {
            out.append('^');
            i++;
        }
        if (i < n && p.charAt(i) == ']') {
            out.append("\\]");
            i++;
        }
        while (i < n) {
            char c = p.charAt(i);
            if (c == ']') {
                out.append(']');
                return i + 1;
            }
            if (c == '[' && i + 1 < n && p.charAt(i + 1) == ':') {
                int end = p.indexOf(":]", i + 2);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated POSIX class at " + i);
                }
                String name = p.substring(i + 2, end);
                boolean neg = name.startsWith("^");
                if (neg) {
                    name = name.substring(1);
                }
                if (name.equals("word")) {
                    out.append(neg ? "\\W" : "\\w");
                } else {
                    String j = POSIX.get(name);
                    if (j == null) {
                        throw new IllegalArgumentException("unknown POSIX class [:" + name + ":]");
                    }
                    out.append(neg ? "\\P{" : "\\p{").append(j).append('}');
                }
                i = end + 2;
            } else if (c == '[' || c == '&') {
                out.append('\\').append(c);
                i++;
            } else if (c == '\\') {
                if (i + 1 >= n) {
                    throw new IllegalArgumentException("trailing backslash");
                }
                char e = p.charAt(i + 1);
                if (e == 'b') {
                    out.append("\\x08");
                } else {
                    out.append(c).append(e);
                }
                i += 2;
            } else {
                out.append(c);
                i++;
            }
        }
        throw new IllegalArgumentException("missing terminating ] for character class at " + start);
    }
}
