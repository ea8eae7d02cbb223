package dev.cairn.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The kernel command line of a spec, with {@code ${name}} placeholders cairn fills in once the
 * values exist: {@code ${verity.roothash}}, {@code ${verity.salt}}, {@code ${verity.hashoffset}}
 * (bytes), {@code ${verity.datablocks}}, {@code ${image.name}}, {@code ${image.version}}.
 * {@code $$} is a literal {@code $}. Unknown names, an unclosed {@code ${}, control characters
 * and a result longer than the kernel accepts are refused when the spec is read.
 */
public record CmdlineTemplate(String text, List<Object> parts) {
    public static final Set<String> VARIABLES = Set.of("verity.roothash", "verity.salt", "verity.hashoffset", "verity.datablocks",
            "image.name", "image.version", "disk.root.partuuid", "disk.verity.partuuid");
    /** COMMAND_LINE_SIZE on x86: 2048 including the terminating NUL. */
    public static final int MAX_LENGTH = 2047;
    private static final java.util.regex.Pattern SAFE_VALUE = java.util.regex.Pattern.compile("[A-Za-z0-9._+:-]{1,256}");

    private record Var(String name) {
    }

    public CmdlineTemplate {
        parts = List.copyOf(parts);
    }

    public static CmdlineTemplate parse(String text) {
        String t = text.strip().replaceAll("\\s+", " ");
        List<Object> parts = new ArrayList<>();
        StringBuilder lit = new StringBuilder();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException("control character (0x" + Integer.toHexString(c) + ") in the command line");
            }
            if (c != '$') {
                lit.append(c);
                continue;
            }
            if (i + 1 < t.length() && t.charAt(i + 1) == '$') {
                lit.append('$');
                i++;
                continue;
            }
            if (i + 1 >= t.length() || t.charAt(i + 1) != '{') {
                throw new IllegalArgumentException("'$' at column " + (i + 1) + " starts no ${name} (write $$ for a literal $)");
            }
            int end = t.indexOf('}', i + 2);
            if (end < 0) {
                throw new IllegalArgumentException("unclosed '${' at column " + (i + 1));
            }
            String name = t.substring(i + 2, end);
            if (!VARIABLES.contains(name)) {
                throw new IllegalArgumentException("unknown placeholder ${" + name + "} (known: " + String.join(", ", new TreeSet<>(VARIABLES)) + ")");
            }
            if (!lit.isEmpty()) {
                parts.add(lit.toString());
                lit.setLength(0);
            }
            parts.add(new Var(name));
            i = end;
        }
        if (!lit.isEmpty()) {
            parts.add(lit.toString());
        }
        if (t.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("longer than the kernel's " + MAX_LENGTH + " characters");
        }
        return new CmdlineTemplate(t, parts);
    }

    /** The placeholders used, in order of first use. */
    public List<String> variables() {
        return parts.stream().filter(p -> p instanceof Var).map(p -> ((Var) p).name()).distinct().toList();
    }

    public String render(Map<String, String> values) {
        StringBuilder sb = new StringBuilder();
        for (Object p : parts) {
            if (p instanceof Var v) {
                String s = values.get(v.name());
                if (s == null) {
                    throw new IllegalStateException("no value for ${" + v.name() + "}");
                }
                // values are hashes, numbers, UUIDs and spec-checked names: one word each, never more arguments
                if (!SAFE_VALUE.matcher(s).matches()) {
                    throw new IllegalArgumentException("${" + v.name() + "} would insert '" + s.replaceAll("[^\\x20-\\x7e]", "?")
                            + "' into the kernel command line: only letters, digits and . _ + - : are allowed");
                }
                sb.append(s);
            } else {
                sb.append((String) p);
            }
        }
        if (sb.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("the kernel command line is " + sb.length() + " characters after substitution, over "
                    + MAX_LENGTH);
        }
        return sb.toString();
    }
}
