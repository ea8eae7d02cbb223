package dev.cairn.disk;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * FAT names: which long names are allowed, when a name needs VFAT long-name entries, and the
 * deterministic 8.3 alias for those that do (fatgen103 §7 "basis-name generation", with a
 * numeric tail {@code ~1} … {@code ~999999} only when the alias lost information, the name does
 * not fit 8.3, or the alias is taken).
 */
final class FatNames {
    /** Characters allowed in a short name besides A-Z and 0-9 (bytes ≥ 0x80 are not used: no code page). */
    static final String SHORT_SPECIALS = "!#$%&'()-@^_`{}~";
    /** Characters no long name may contain (besides control characters). */
    static final String LONG_FORBIDDEN = "\"*/:<>?\\|";
    static final int MAX_LONG = 255;

    private FatNames() {
    }

    /** Checks a long name (one path component); IllegalArgumentException naming the problem. */
    static void checkLongName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("invalid FAT name: \"" + name + "\"");
        }
        if (name.length() > MAX_LONG) {
            throw new IllegalArgumentException("FAT long names are at most 255 UTF-16 code units: " + name);
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7F || LONG_FORBIDDEN.indexOf(c) >= 0) {
                throw new IllegalArgumentException("FAT names cannot contain " + String.format("U+%04X", (int) c) + ": " + name);
            }
            if (Character.isHighSurrogate(c) ? i + 1 >= name.length() || !Character.isLowSurrogate(name.charAt(i + 1))
                    : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(name.charAt(i - 1)))) {
                throw new IllegalArgumentException("FAT name has an unpaired surrogate: " + name);
            }
        }
        char last = name.charAt(name.length() - 1);
        if (last == '.' || last == ' ') {
            throw new IllegalArgumentException("FAT names cannot end in a dot or a space (Windows strips them): \"" + name + "\"");
        }
    }

    /** The key two names clash under: FAT compares names case-insensitively. */
    static String key(String name) {
        return name.toUpperCase(Locale.ROOT);
    }

    static boolean shortChar(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || SHORT_SPECIALS.indexOf(c) >= 0;
    }

    /**
     * The 11-byte short name when {@code name} is already a plain upper-case 8.3 name that needs
     * no long-name entries ({@code EFI}, {@code BOOTX64.EFI}), else null.
     */
    static byte[] plainShortName(String name) {
        int dot = name.indexOf('.');
        String base = dot < 0 ? name : name.substring(0, dot);
        String ext = dot < 0 ? "" : name.substring(dot + 1);
        if (base.isEmpty() || base.length() > 8 || ext.length() > 3 || (dot >= 0 && ext.isEmpty())) {
            return null;
        }
        for (char c : (base + ext).toCharArray()) {
            if (!shortChar(c)) {
                return null;
            }
        }
        return pack(base, ext);
    }

    /**
     * A short alias for a name that needs long-name entries: the basis name (upper case, spaces
     * and leading/embedded dots dropped, other non-8.3 characters as {@code _}, 8 + 3 characters),
     * unchanged if nothing was lost and it is free, else with the first free tail {@code ~N}.
     *
     * @param taken the short names already used in the directory (11-byte strings, ISO-8859-1)
     */
    static byte[] alias(String name, Set<String> taken) {
        String upper = name.toUpperCase(Locale.ROOT);
        boolean lossy = false;
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < upper.length(); i++) {
            char c = upper.charAt(i);
            if (c == ' ') {
                lossy = true;
            } else {
                s.append(c);
            }
        }
        int lead = 0;
        while (lead < s.length() && s.charAt(lead) == '.') {
            lead++;
        }
        if (lead > 0) {
            lossy = true;
        }
        String stripped = s.substring(lead);
        int lastDot = stripped.lastIndexOf('.');
        String primary = lastDot < 0 ? stripped : stripped.substring(0, lastDot);
        String extension = lastDot < 0 ? "" : stripped.substring(lastDot + 1);
        StringBuilder base = new StringBuilder();
        boolean fits = true;
        for (int i = 0; i < primary.length(); i++) {
            char c = primary.charAt(i);
            if (c == '.') {
                lossy = true;
                continue;
            }
            if (Character.isLowSurrogate(c)) {
                continue;
            }
            if (base.length() == 8) {
                fits = false;
                break;
            }
            if (shortChar(c)) {
                base.append(c);
            } else {
                base.append('_');
                lossy = true;
            }
        }
        StringBuilder ext = new StringBuilder();
        for (int i = 0; i < extension.length(); i++) {
            char c = extension.charAt(i);
            if (Character.isLowSurrogate(c)) {
                continue;
            }
            if (ext.length() == 3) {
                fits = false;
                break;
            }
            if (shortChar(c)) {
                ext.append(c);
            } else {
                ext.append('_');
                lossy = true;
            }
        }
        if (base.length() == 0) {
            base.append('_');
            lossy = true;
        }
        if (!lossy && fits) {
            byte[] plain = pack(base.toString(), ext.toString());
            if (!taken.contains(text(plain))) {
                return plain;
            }
        }
        for (int n = 1; n <= 999_999; n++) {
            String tail = "~" + n;
            String b = base.substring(0, Math.min(base.length(), 8 - tail.length())) + tail;
            byte[] candidate = pack(b, ext.toString());
            if (!taken.contains(text(candidate))) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("no free 8.3 alias for " + name + " (a million similar names in one directory)");
    }

    static byte[] pack(String base, String ext) {
        byte[] b = new byte[11];
        Arrays.fill(b, (byte) ' ');
        byte[] x = base.getBytes(StandardCharsets.US_ASCII);
        byte[] y = ext.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(x, 0, b, 0, x.length);
        System.arraycopy(y, 0, b, 8, y.length);
        return b;
    }

    static String text(byte[] shortName) {
        return new String(shortName, StandardCharsets.ISO_8859_1);
    }

    /**
     * The volume label as repart 252 passes it to mkfs.vfat ({@code mangle_fat_label}): non-ASCII
     * characters as {@code _}, cut to 11, upper case, {@code *?.,;:/\|+=<>[]"} and control
     * characters as {@code _}; space padded. Null or empty gives {@code "NO NAME    "} (no label).
     */
    static byte[] volumeLabel(String label) {
        if (label == null || label.isEmpty()) {
            return "NO NAME    ".getBytes(StandardCharsets.US_ASCII);
        }
        StringBuilder s = new StringBuilder();
        label.codePoints().forEach(cp -> s.append(cp < 0x80 ? (char) cp : '_'));
        String q = s.length() > 11 ? s.substring(0, 11) : s.toString();
        StringBuilder out = new StringBuilder();
        for (char c : q.toCharArray()) {
            if (c >= 'a' && c <= 'z') {
                c = (char) (c - 'a' + 'A');
            }
            if ("*?.,;:/\\|+=<>[]\"".indexOf(c) >= 0 || c < 0x20 || c == 0x7F) {
                c = '_';
            }
            out.append(c);
        }
        if (out.charAt(0) == ' ') {
            throw new IllegalArgumentException("a FAT volume label cannot start with a space (mkfs.fat refuses it): \"" + label + "\"");
        }
        while (out.length() < 11) {
            out.append(' ');
        }
        return out.toString().getBytes(StandardCharsets.US_ASCII);
    }
}
