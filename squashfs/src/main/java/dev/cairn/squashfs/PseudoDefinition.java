package dev.cairn.squashfs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One mksquashfs pseudo definition ({@code -p} / {@code -pf}): an entry that need not exist on
 * the build host, or new ownership for one that does, so images with device nodes and root-owned
 * files build without root privileges.
 *
 * <pre>
 * PATH d MODE UID GID              directory
 * PATH m MODE UID GID              change mode and owner of an existing entry
 * PATH b|c MODE UID GID MAJOR MINOR block or character device
 * PATH s MODE UID GID TARGET       symbolic link
 * PATH i MODE UID GID p|f|s        fifo (p or f) or socket (s)
 * PATH l TARGET                    hard link to an existing entry
 * </pre>
 * MODE is octal, UID and GID are numbers. PATH may be quoted ({@code "a b"}) or use backslash
 * escapes. mksquashfs' {@code f} (output of a command) is refused: an image build never runs
 * shell commands from a definition file.
 *
 * @param path   path in the image
 * @param type   definition letter
 * @param mode   permission bits (unused for {@code l})
 * @param uid    owner (unused for {@code l})
 * @param gid    group (unused for {@code l})
 * @param major  device major ({@code b}/{@code c})
 * @param minor  device minor ({@code b}/{@code c})
 * @param target symlink target, hard-link target, or {@code p}/{@code s} for {@code i}
 */
public record PseudoDefinition(String path, char type, int mode, long uid, long gid, int major, int minor, String target) {

    /** Parses one definition; {@code where} names it in errors (e.g. "defs.txt:12"). */
    public static PseudoDefinition parse(String line, String where) {
        List<String> t = tokens(line, where);
        if (t.size() < 2 || t.get(1).length() != 1) {
            throw bad(where, "expected 'PATH TYPE MODE UID GID [...]'");
        }
        String path = t.get(0);
        char type = t.get(1).charAt(0);
        if (type == 'l') {
            if (t.size() != 3) {
                throw bad(where, "a hard link is 'PATH l TARGET'");
            }
            return new PseudoDefinition(path, type, 0, 0, 0, 0, 0, t.get(2));
        }
        if (type == 'f') {
            throw bad(where, "dynamic pseudo files (type f) run shell commands; cairn does not support them");
        }
        int want = switch (type) {
            case 'd', 'm' -> 5;
            case 'b', 'c' -> 7;
            case 's', 'i' -> 6;
            default -> throw bad(where, "unknown pseudo type '" + type + "' (d, m, b, c, s, i or l)");
        };
        if (t.size() != want) {
            throw bad(where, "type " + type + " takes " + want + " fields, found " + t.size());
        }
        int mode = parseMode(t.get(2), where);
        long uid = parseId(t.get(3), "uid", where);
        long gid = parseId(t.get(4), "gid", where);
        int major = 0;
        int minor = 0;
        String target = null;
        if (type == 'b' || type == 'c') {
            major = parseDev(t.get(5), "major", 0xFFF, where);
            minor = parseDev(t.get(6), "minor", 0xFFFFF, where);
        } else if (type == 's') {
            target = t.get(5);
        } else if (type == 'i') {
            target = t.get(5);
            if (!target.equals("p") && !target.equals("f") && !target.equals("s")) {
                throw bad(where, "an ipc definition ends in p or f (fifo) or s (socket)");
            }
        }
        return new PseudoDefinition(path, type, mode, uid, gid, major, minor, target);
    }

    /** Parses a definitions file: one per line, blank lines and {@code #} comments ignored. */
    public static List<PseudoDefinition> parseFile(List<String> lines, String name) {
        List<PseudoDefinition> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i).strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            out.add(parse(l, name + ":" + (i + 1)));
        }
        return out;
    }

    /** Applies this definition to the tree being written. */
    public void apply(SquashfsWriter w, long mtime) throws IOException {
        EntryMetadata m = EntryMetadata.of(mode, uid, gid, mtime);
        switch (type) {
            case 'd' -> w.addDirectory(path, m);
            case 'm' -> {
                if (!w.modify(path, mode, uid, gid)) {
                    throw new IllegalArgumentException("pseudo definition 'm' for " + path + ": no such entry");
                }
            }
            case 'b', 'c' -> w.addDevice(path, m, type, major, minor);
            case 's' -> w.addSymlink(path, m, target);
            case 'i' -> {
                if (target.equals("s")) {
                    w.addSocket(path, m);
                } else {
                    w.addFifo(path, m);
                }
            }
            case 'l' -> w.addHardLink(path, target);
            default -> throw new IllegalStateException("type " + type);
        }
    }

    private static int parseMode(String s, String where) {
        try {
            int m = Integer.parseInt(s, 8);
            if (m < 0 || m > 07777) {
                throw new NumberFormatException();
            }
            return m;
        } catch (NumberFormatException e) {
            throw bad(where, "mode must be octal 0..7777, not '" + s + "'");
        }
    }

    private static long parseId(String s, String what, String where) {
        try {
            long v = Long.parseLong(s);
            if (v < 0 || v > 0xFFFF_FFFFL) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(where, what + " must be a number 0..4294967295, not '" + s + "'");
        }
    }

    private static int parseDev(String s, String what, int max, String where) {
        try {
            int v = Integer.parseInt(s);
            if (v < 0 || v > max) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(where, what + " must be a number 0.." + max + ", not '" + s + "'");
        }
    }

    private static List<String> tokens(String line, String where) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = null;
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(line.charAt(++i));
            } else if (c == '"') {
                cur = cur == null ? new StringBuilder() : cur;
                quoted = !quoted;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (cur != null) {
                    out.add(cur.toString());
                    cur = null;
                }
            } else {
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(c);
            }
        }
        if (quoted) {
            throw bad(where, "unterminated quote");
        }
        if (cur != null) {
            out.add(cur.toString());
        }
        return out;
    }

    private static IllegalArgumentException bad(String where, String msg) {
        return new IllegalArgumentException("pseudo definition " + where + ": " + msg);
    }
}
