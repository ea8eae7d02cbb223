package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Compares two directory trees entry by entry without following symlinks: type, mode, owners
 * (when asked), mtime, size, device numbers, symlink targets, content, user xattrs, link counts
 * and which names share an inode.
 */
final class TreeComparison {
    private TreeComparison() {
    }

    /**
     * Asserts that {@code actual} reproduces {@code expected}.
     *
     * @param owners     compare uid/gid
     * @param skip       relative paths missing from {@code actual} on purpose (and below them)
     * @param dirNlink   compare directory link counts
     */
    static void assertSameTree(Path expected, Path actual, boolean owners, List<String> skip, boolean dirNlink) throws IOException {
        Map<String, Path> a = index(expected, skip);
        Map<String, Path> b = index(actual, skip);
        assertThat(b.keySet()).as("entries of " + actual).containsExactlyElementsOf(a.keySet());
        Map<Object, String> groupA = new HashMap<>();
        Map<Object, String> groupB = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (String rel : a.keySet()) {
            Path pa = a.get(rel);
            Path pb = b.get(rel);
            Map<String, Object> x = Files.readAttributes(pa, "unix:*", LinkOption.NOFOLLOW_LINKS);
            Map<String, Object> y = Files.readAttributes(pb, "unix:*", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) x.get("mode");
            boolean dir = (mode & 0170000) == 0040000;
            boolean link = (mode & 0170000) == 0120000;
            check(problems, rel, "mode", Integer.toOctalString(mode), Integer.toOctalString((Integer) y.get("mode")));
            if (owners) {
                check(problems, rel, "uid", x.get("uid"), y.get("uid"));
                check(problems, rel, "gid", x.get("gid"), y.get("gid"));
            }
            check(problems, rel, "mtime", seconds(x), seconds(y));
            if (!dir || dirNlink) {
                check(problems, rel, "nlink", x.get("nlink"), y.get("nlink"));
            }
            if ((mode & 0170000) == 0020000 || (mode & 0170000) == 0060000) {
                check(problems, rel, "rdev", x.get("rdev"), y.get("rdev"));
            }
            if (link) {
                check(problems, rel, "target", Files.readSymbolicLink(pa).toString(), Files.readSymbolicLink(pb).toString());
            } else if ((mode & 0170000) == 0100000) {
                check(problems, rel, "size", x.get("size"), y.get("size"));
                if (Files.mismatch(pa, pb) != -1) {
                    problems.add(rel + ": content differs");
                }
                if ((Integer) x.get("nlink") > 1) {
                    // link structure: the same names share an inode on both sides
                    String firstA = groupA.putIfAbsent(List.of(x.get("dev"), x.get("ino")), rel);
                    String firstB = groupB.putIfAbsent(List.of(y.get("dev"), y.get("ino")), rel);
                    check(problems, rel, "hard link group", firstA, firstB);
                }
            }
            if (dir || (mode & 0170000) == 0100000) {
                check(problems, rel, "xattrs", userXattrs(pa), userXattrs(pb));
            }
        }
        assertThat(problems).as("differences between " + expected + " and " + actual).isEmpty();
    }

    private static void check(List<String> problems, String rel, String what, Object a, Object b) {
        if (a == null ? b != null : !a.equals(b)) {
            problems.add(rel + ": " + what + " " + a + " != " + b);
        }
    }

    private static long seconds(Map<String, Object> attrs) {
        return ((java.nio.file.attribute.FileTime) attrs.get("lastModifiedTime")).toMillis() / 1000;
    }

    private static Map<String, Path> index(Path root, List<String> skip) throws IOException {
        Map<String, Path> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(p -> {
                String rel = root.relativize(p).toString();
                for (String k : skip) {
                    if (rel.equals(k) || rel.startsWith(k + "/")) {
                        return;
                    }
                }
                m.put(rel, p);
            });
        }
        return m;
    }

    static Map<String, String> userXattrs(Path p) throws IOException {
        Map<String, String> out = new TreeMap<>();
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        for (String n : new TreeSet<>(v.list())) {
            ByteBuffer b = ByteBuffer.allocate(v.size(n));
            v.read(n, b);
            out.put(n, java.util.HexFormat.of().formatHex(b.array(), 0, b.position()));
        }
        return out;
    }
}
