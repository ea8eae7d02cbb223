package dev.cairn.uki;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * SBAT metadata (rhboot/shim SBAT.md): CSV lines after the mandatory {@code sbat,1,…} header.
 * Merging keeps the stub's and kernel's component lines and appends the user's, as ukify's
 * {@code merge_sbat} does, dropping exact duplicates.
 */
public final class Sbat {
    public static final String HEADER = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md";
    /** ukify's default line for a UKI. */
    public static final String UKI_LINE = "uki,1,UKI,uki,1,https://uapi-group.org/specifications/specs/unified_kernel_image/";

    private Sbat() {
    }

    /** Component lines of an SBAT text (NULs, blank lines and the header removed). */
    public static List<String> components(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.replace("\0", "").split("\n")) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("sbat,")) {
                out.add(l);
            }
        }
        return out;
    }

    /** Checks one component line: 6 comma-separated fields, a positive generation number. */
    public static void validate(String line) {
        String[] f = line.split(",", -1);
        if (f.length != 6) {
            throw new IllegalArgumentException("SBAT line needs 6 comma-separated fields: " + line);
        }
        if (f[0].isEmpty() || !f[1].matches("[1-9][0-9]{0,8}")) {
            throw new IllegalArgumentException("SBAT line needs a component name and a positive generation: " + line);
        }
    }

    /** The merged section content: header, all component lines, each newline-terminated, then a NUL. */
    public static byte[] merge(List<String> texts) {
        Set<String> lines = new LinkedHashSet<>();
        for (String t : texts) {
            for (String c : components(t)) {
                validate(c);
                lines.add(c);
            }
        }
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (String l : lines) {
            sb.append(l).append('\n');
        }
        sb.append('\0');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }
}
