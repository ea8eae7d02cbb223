package dev.cairn.pipeline.sysext;

import dev.cairn.squashfs.SquashfsEntry;
import dev.cairn.squashfs.SquashfsImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The os-release file of a root filesystem (os-release(5)): {@code /etc/os-release}, else
 * {@code /usr/lib/os-release}, read from a SquashFS. A build takes an extension's default
 * {@code ID=} and {@code VERSION_ID=} from it, so the extension matches the host it was built with.
 *
 * @param path   where it was found, without a leading slash
 * @param fields its assignments in file order, values unquoted
 */
public record OsRelease(String path, Map<String, String> fields) {
    /** os-release(5) search order (also the files an extension image must not carry). */
    static final java.util.List<String> PATHS = java.util.List.of("etc/os-release", "usr/lib/os-release");
    /** An os-release file is a few hundred bytes; more is not one. */
    static final int MAX_BYTES = 64 * 1024;
    /** Symlinks followed before giving up (Debian's /etc/os-release is one, to ../usr/lib/os-release). */
    static final int MAX_LINKS = 8;

    public OsRelease {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    public String get(String key) {
        return fields.get(key);
    }

    /**
     * The os-release of the tree in {@code image}, or null when it has none (a symlink leading out
     * of the image or nowhere counts as none at that path; the next path is tried).
     */
    public static OsRelease read(SquashfsImage image) throws IOException {
        for (String p : PATHS) {
            String path = p;
            for (int hops = 0; hops <= MAX_LINKS && path != null; hops++) {
                SquashfsEntry e;
                try {
                    e = image.lookup(path);
                } catch (NoSuchFileException | dev.cairn.io.FormatException x) {
                    break; // missing, or a parent is not a directory
                }
                if (e.type() == SquashfsEntry.Type.FILE) {
                    if (e.size() > MAX_BYTES) {
                        throw new dev.cairn.io.FormatException("/" + path, 0, "larger than " + MAX_BYTES + " bytes: not an os-release file");
                    }
                    try (InputStream in = image.open(e)) {
                        return new OsRelease(path, parse(in.readNBytes(MAX_BYTES)));
                    }
                }
                path = e.type() == SquashfsEntry.Type.SYMLINK ? resolve(path, e.target()) : null;
            }
        }
        return null;
    }

    /** {@code target} of the symlink at {@code path}, as a path from the image's root; null when it leaves the image. */
    static String resolve(String path, String target) {
        java.util.ArrayDeque<String> parts = new java.util.ArrayDeque<>();
        if (!target.startsWith("/")) {
            String[] p = path.split("/");
            for (int i = 0; i < p.length - 1; i++) {
                parts.addLast(p[i]);
            }
        }
        for (String s : target.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (parts.isEmpty()) {
                    return null;
                }
                parts.removeLast();
            } else {
                parts.addLast(s);
            }
        }
        return parts.isEmpty() ? null : String.join("/", parts);
    }

    /**
     * os-release(5) syntax: {@code KEY=VALUE} lines, {@code #} comments and blank lines skipped,
     * values optionally in double or single quotes, backslash escapes in double quotes. Lines that
     * are not assignments are skipped (as systemd's parser skips them).
     */
    public static Map<String, String> parse(byte[] bytes) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int eq = l.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = l.substring(0, eq).strip();
            if (!key.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                continue;
            }
            m.put(key, unquote(l.substring(eq + 1).strip()));
        }
        return m;
    }

    private static String unquote(String v) {
        if (v.length() >= 2 && v.charAt(0) == '\'' && v.charAt(v.length() - 1) == '\'') {
            return v.substring(1, v.length() - 1);
        }
        if (v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
            StringBuilder sb = new StringBuilder();
            for (int i = 1; i < v.length() - 1; i++) {
                char c = v.charAt(i);
                if (c == '\\' && i + 1 < v.length() - 1) {
                    c = v.charAt(++i);
                }
                sb.append(c);
            }
            return sb.toString();
        }
        return v;
    }
}
