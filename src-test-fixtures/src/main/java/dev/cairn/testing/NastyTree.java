package dev.cairn.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;

/**
 * A file tree built to break file-system writers: unicode names that sort differently by UTF-16
 * and by bytes, 255-byte names, a 10 000-entry directory, deep nesting, hard links (also across
 * directories), relative/absolute/dangling symlinks, empty and sparse files, a file larger than
 * 4 GiB stored sparsely on disk, exact block-size boundaries, duplicate content, unusual modes
 * (setuid, sticky, 0000), fixed mtimes, user xattrs (one large value shared by two files) and,
 * when running as root, other owners, device nodes, a fifo and a socket. Deterministic: the
 * content depends only on the options.
 *
 * @param bigDirectoryEntries entries of the large directory (10 000 in the oracle tests)
 * @param hugeFile            add the sparse file larger than 4 GiB
 */
public record NastyTree(int bigDirectoryEntries, boolean hugeFile) {
    public static final long HUGE_SIZE = (4L << 30) + 12345;

    public static boolean isRoot() {
        try {
            return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Creates the tree in {@code root} (created if missing); {@code reverse} creates entries in the opposite order. */
    public void create(Path root, boolean reverse) throws IOException {
        Files.createDirectories(root);
        List<Step> steps = steps(root);
        if (reverse) {
            // parents must exist first: create every directory up front, then the rest reversed
            for (Step s : steps) {
                if (s.directory) {
                    s.run();
                }
            }
            List<Step> rest = new ArrayList<>(steps);
            rest.removeIf(s -> s.directory);
            for (int i = rest.size() - 1; i >= 0; i--) {
                rest.get(i).run();
            }
        } else {
            for (Step s : steps) {
                s.run();
            }
        }
        // links and times last: they depend on the files existing
        links(root);
        times(root);
    }

    private record Step(boolean directory, IoRunnable action) {
        void run() throws IOException {
            action.run();
        }
    }

    @FunctionalInterface
    private interface IoRunnable {
        void run() throws IOException;
    }

    private List<Step> steps(Path r) {
        List<Step> s = new ArrayList<>();
        s.add(dir(r.resolve("big")));
        for (int i = 0; i < bigDirectoryEntries; i++) {
            Path p = r.resolve("big").resolve(String.format("entry-%05d", i));
            String content = "entry " + (i % 97) + "\n";
            s.add(file(() -> Files.writeString(p, content)));
        }
        Path deep = r.resolve("deep");
        for (int i = 0; i < 40; i++) {
            deep = deep.resolve("level" + i);
        }
        Path deepest = deep;
        s.add(dir(deepest));
        s.add(file(() -> Files.writeString(deepest.resolve("bottom.txt"), "at the bottom\n")));
        s.add(dir(r.resolve("unicode")));
        for (String n : new String[] {"ünïcødé", "日本語のファイル", "emoji-😀", "private-\uE000", "mixed-\uFFFD-é", "z"}) {
            s.add(file(() -> Files.writeString(r.resolve("unicode").resolve(n), n + "\n")));
        }
        s.add(file(() -> Files.writeString(r.resolve("n".repeat(255)), "long name\n")));
        s.add(file(() -> Files.writeString(r.resolve("x".repeat(253) + "é"), "almost\n")));
        s.add(dir(r.resolve("empty-dir")));
        s.add(file(() -> Files.createFile(r.resolve("empty-file"))));
        s.add(dir(r.resolve("data")));
        s.add(file(() -> SeededData.writeFile(r.resolve("data/random-1m"), 1, 1 << 20)));
        s.add(file(() -> SeededData.writeFile(r.resolve("data/copy-of-random-1m"), 1, 1 << 20)));
        s.add(file(() -> SeededData.writeFile(r.resolve("data/block-exact"), 2, 128 * 1024)));
        s.add(file(() -> SeededData.writeFile(r.resolve("data/block-plus-one"), 3, 128 * 1024 + 1)));
        s.add(file(() -> Files.writeString(r.resolve("data/text"), "the quick brown fox\n".repeat(20000))));
        s.add(file(() -> sparse(r.resolve("data/sparse-10m"), 10 << 20, new long[] {0, 5 << 20})));
        if (hugeFile) {
            s.add(file(() -> sparse(r.resolve("data/huge-sparse"), HUGE_SIZE, new long[] {1 << 20, HUGE_SIZE - 4000})));
        }
        s.add(dir(r.resolve("modes")));
        s.add(file(() -> mode(Files.writeString(r.resolve("modes/setuid"), "suid\n"), 04755)));
        s.add(file(() -> mode(Files.writeString(r.resolve("modes/private"), "secret-ish\n"), 0600)));
        s.add(dir(r.resolve("modes/sticky")));
        s.add(file(() -> mode(r.resolve("modes/sticky"), 01777)));
        s.add(dir(r.resolve("xattrs")));
        s.add(file(() -> xattr(Files.writeString(r.resolve("xattrs/small"), "x\n"), "user.comment", "hello".getBytes(StandardCharsets.UTF_8))));
        byte[] big = SeededData.bytes(7, 3000);
        s.add(file(() -> xattr(Files.writeString(r.resolve("xattrs/big-a"), "a\n"), "user.big", big)));
        s.add(file(() -> xattr(Files.writeString(r.resolve("xattrs/big-b"), "b\n"), "user.big", big)));
        s.add(file(() -> xattr(r.resolve("xattrs"), "user.dir", "on a directory".getBytes(StandardCharsets.UTF_8))));
        if (isRoot()) {
            s.add(dir(r.resolve("dev")));
            s.add(file(() -> exec("mknod", r.resolve("dev/null").toString(), "c", "1", "3")));
            s.add(file(() -> exec("mknod", r.resolve("dev/loop0").toString(), "b", "7", "0")));
            s.add(file(() -> exec("mknod", r.resolve("dev/whiteout").toString(), "c", "0", "0")));
            s.add(file(() -> exec("mknod", r.resolve("dev/big-minor").toString(), "c", "250", "300")));
            s.add(file(() -> exec("mkfifo", r.resolve("dev/fifo").toString())));
            s.add(file(() -> socket(r.resolve("dev/socket"))));
            // unreadable for anyone but root
            s.add(file(() -> mode(Files.writeString(r.resolve("modes/nothing"), "none\n"), 0)));
            s.add(dir(r.resolve("owners")));
            s.add(file(() -> owner(Files.writeString(r.resolve("owners/user"), "u\n"), 1000, 1000)));
            s.add(file(() -> owner(Files.writeString(r.resolve("owners/nobody"), "n\n"), 65534, 65534)));
            s.add(file(() -> owner(Files.writeString(r.resolve("owners/mixed"), "m\n"), 0, 42)));
        }
        return s;
    }

    private void links(Path r) throws IOException {
        Files.createDirectories(r.resolve("links"));
        Files.writeString(r.resolve("links/target"), "linked\n");
        Files.createLink(r.resolve("links/hard-1"), r.resolve("links/target"));
        Files.createLink(r.resolve("links/hard-2"), r.resolve("links/target"));
        Files.createLink(r.resolve("data/hard-across"), r.resolve("links/target"));
        Files.createSymbolicLink(r.resolve("links/relative"), Path.of("target"));
        Files.createSymbolicLink(r.resolve("links/absolute"), Path.of("/etc/hostname"));
        Files.createSymbolicLink(r.resolve("links/dangling"), Path.of("does/not/exist"));
        Files.createSymbolicLink(r.resolve("links/to-dir"), Path.of("../deep"));
        Files.createSymbolicLink(r.resolve("links/long"), Path.of("t".repeat(1000)));
    }

    /** Fixed, distinct mtimes for everything (symlinks included), deepest first so parents keep theirs. */
    private static void times(Path r) throws IOException {
        List<Path> all = new ArrayList<>();
        try (var walk = Files.walk(r)) {
            walk.forEach(all::add);
        }
        all.sort((a, b) -> b.toString().compareTo(a.toString()));
        for (int i = 0; i < all.size(); i++) {
            Path p = all.get(i);
            long t = 1_600_000_000L + (r.relativize(p).toString().hashCode() & 0xFFFFF);
            if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.getFileAttributeView(p, java.nio.file.attribute.BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setTimes(FileTime.fromMillis(t * 1000), null, null);
            } else {
                // the JDK opens the file to set its times: never do that to a fifo, socket or device
                exec("touch", "-h", "-m", "-d", "@" + t, p.toString());
            }
        }
    }

    private static Step dir(Path p) {
        return new Step(true, () -> Files.createDirectories(p));
    }

    private static Step file(IoRunnable r) {
        return new Step(false, r);
    }

    private static void sparse(Path p, long size, long[] dataAt) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
            for (long at : dataAt) {
                f.seek(at);
                f.write(SeededData.bytes(at, 3000));
            }
        }
    }

    private static void mode(Path p, int mode) throws IOException {
        Files.setAttribute(p, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    private static void owner(Path p, int uid, int gid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    }

    private static void xattr(Path p, String name, byte[] value) throws IOException {
        UserDefinedFileAttributeView v = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class);
        v.write(name.substring("user.".length()), ByteBuffer.wrap(value));
    }

    private static void socket(Path p) throws IOException {
        try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(p));
        }
    }

    private static void exec(String... cmd) throws IOException {
        try {
            Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (proc.waitFor() != 0) {
                throw new IOException(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new java.io.InterruptedIOException());
        }
    }
}
