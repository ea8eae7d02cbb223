package dev.cairn.squashfs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which extended attributes of a source entry go into the image, for one pass over a source
 * (mksquashfs {@code read_xattrs_from_system}): names matching the exclude regex are left out,
 * then names not matching the include regex; of the rest, names outside the three namespaces
 * SquashFS can store ({@code user.}, {@code trusted.}, {@code security.}) are left out and counted,
 * as are attributes the source could not read, for one warning per namespace at the end.
 */
final class XattrSelection {
    private final Pattern include;
    private final Pattern exclude;
    /** namespace ("system.") → {entries, attribute names} of attributes SquashFS cannot store. */
    private final Map<String, Count> unsupported = new TreeMap<>();
    /** namespace → {entries, names, reasons} of attributes that could not be read. */
    private final Map<String, Count> unreadable = new TreeMap<>();

    private static final class Count {
        long entries;
        final TreeSet<String> names = new TreeSet<>();
        final TreeSet<String> reasons = new TreeSet<>();
    }

    XattrSelection(String includeRegex, String excludeRegex) {
        this.include = includeRegex == null ? null : compile(includeRegex, "--xattrs-include");
        this.exclude = excludeRegex == null ? null : compile(excludeRegex, "--xattrs-exclude");
    }

    /** True when {@code name} passes the include/exclude regexes (before any namespace check). */
    boolean wanted(String name) {
        if (exclude != null && exclude.matcher(name).find()) {
            return false;
        }
        return include == null || include.matcher(name).find();
    }

    /** The attributes of one entry that go into the image; the rest are counted for {@link #warnings()}. */
    SortedMap<String, byte[]> select(SortedMap<String, byte[]> all) {
        if (all == null || all.isEmpty()) {
            return all;
        }
        SortedMap<String, byte[]> out = null;
        TreeSet<String> counted = null;
        for (Map.Entry<String, byte[]> e : all.entrySet()) {
            String name = e.getKey();
            boolean keep = wanted(name);
            if (keep && !storable(name)) {
                keep = false;
                String ns = namespace(name);
                Count c = unsupported.computeIfAbsent(ns, k -> new Count());
                if (counted == null) {
                    counted = new TreeSet<>();
                }
                if (counted.add(ns)) {
                    c.entries++;
                }
                if (c.names.size() < 8) {
                    c.names.add(name);
                }
            }
            if (!keep && out == null) {
                out = new TreeMap<>(all.headMap(name));
            } else if (keep && out != null) {
                out.put(name, e.getValue());
            }
        }
        return out == null ? all : out;
    }

    /** Counts attributes of one entry that were listed but could not be read ({@code name → reason}). */
    void unreadable(Map<String, String> namesAndReasons) {
        TreeSet<String> seen = new TreeSet<>();
        for (Map.Entry<String, String> e : namesAndReasons.entrySet()) {
            if (!wanted(e.getKey())) {
                continue;
            }
            String ns = namespace(e.getKey());
            Count c = unreadable.computeIfAbsent(ns, k -> new Count());
            if (seen.add(ns)) {
                c.entries++;
            }
            if (c.names.size() < 8) {
                c.names.add(e.getKey());
            }
            c.reasons.add(e.getValue());
        }
    }

    /** One warning per namespace of what was left out (empty when nothing was). */
    List<String> warnings() {
        List<String> w = new ArrayList<>();
        unsupported.forEach((ns, c) -> w.add(c.entries + (c.entries == 1 ? " entry has" : " entries have")
                + " extended attributes in the " + ns + " namespace (" + names(c) + "), which SquashFS cannot store"
                + " (only user., trusted. and security.): left out, as mksquashfs does"));
        unreadable.forEach((ns, c) -> w.add("could not read the " + ns + " extended attributes of " + c.entries
                + (c.entries == 1 ? " entry" : " entries") + " (" + names(c) + ": " + String.join(", ", c.reasons) + "): left out"));
        return w;
    }

    private static String names(Count c) {
        return String.join(", ", c.names) + (c.names.size() == 8 ? ", ..." : "");
    }

    static boolean storable(String name) {
        return name.startsWith("user.") && name.length() > 5 || name.startsWith("trusted.") && name.length() > 8
                || name.startsWith("security.") && name.length() > 9;
    }

    /** "system." for "system.posix_acl_access"; the whole name when it has no dot. */
    static String namespace(String name) {
        int dot = name.indexOf('.');
        return dot < 0 ? name : name.substring(0, dot + 1);
    }

    /**
     * Compiles a POSIX extended regular expression (mksquashfs: {@code regcomp(REG_EXTENDED |
     * REG_NOSUB)}, matched anywhere in the full name with {@code regexec}) as a Java pattern: the
     * syntax is the same outside bracket expressions; inside them {@code [:class:]} becomes the
     * Java class and a backslash, {@code [} or {@code &} is literal.
     */
    static Pattern compile(String ere, String option) {
        StringBuilder j = new StringBuilder();
        int i = 0;
        int n = ere.length();
        while (i < n) {
            char c = ere.charAt(i);
            if (c == '\\' && i + 1 < n) {
                j.append(c).append(ere.charAt(i + 1));
                i += 2;
            } else if (c == '[') {
                i = bracket(ere, i, j, option);
            } else {
                j.append(c);
                i++;
            }
        }
        try {
            return Pattern.compile(j.toString());
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("invalid regex '" + ere + "' in " + option + ": " + e.getDescription());
        }
    }

    private static int bracket(String ere, int start, StringBuilder j, String option) {
        int i = start + 1;
        j.append('[');
        if (i < ere.length() && ere.charAt(i) == '^') {
            j.append('^');
            i++;
        }
        boolean first = true;
        while (i < ere.length()) {
            char c = ere.charAt(i);
            if (c == ']' && !first) {
                j.append(']');
                return i + 1;
            }
            first = false;
            if (c == '[' && i + 1 < ere.length() && ere.charAt(i + 1) == ':') {
                int end = ere.indexOf(":]", i + 2);
                if (end < 0) {
                    throw new IllegalArgumentException("invalid regex '" + ere + "' in " + option + ": unterminated [: :]");
                }
                String cls = ere.substring(i + 2, end);
                String java = switch (cls) {
                    case "alpha" -> "\\p{Alpha}";
                    case "digit" -> "\\p{Digit}";
                    case "alnum" -> "\\p{Alnum}";
                    case "upper" -> "\\p{Upper}";
                    case "lower" -> "\\p{Lower}";
                    case "space" -> "\\p{Space}";
                    case "blank" -> "\\p{Blank}";
                    case "punct" -> "\\p{Punct}";
                    case "print" -> "\\p{Print}";
                    case "graph" -> "\\p{Graph}";
                    case "cntrl" -> "\\p{Cntrl}";
                    case "xdigit" -> "\\p{XDigit}";
                    default -> throw new IllegalArgumentException("invalid regex '" + ere + "' in " + option
                            + ": unknown character class [:" + cls + ":]");
                };
                j.append(java);
                i = end + 2;
            } else if (c == '\\' || c == '[' || c == '&') {
                j.append('\\').append(c);
                i++;
            } else {
                j.append(c);
                i++;
            }
        }
        throw new IllegalArgumentException("invalid regex '" + ere + "' in " + option + ": unterminated [ ]");
    }
}
