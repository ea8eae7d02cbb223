package dev.cairn.pipeline;

import dev.cairn.squashfs.EntryAttributes;
import dev.cairn.squashfs.EntryGate;
import dev.cairn.squashfs.EntryMetadata;
import dev.cairn.squashfs.SquashfsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code rootfs.overlay}: directory trees laid over the root filesystem's source, in order (as
 * mkosi's ExtraTrees). A file, symlink replaces the source's entry at the same path (whose content
 * is then never read), a directory merges with the source's (which keeps its owner and mode),
 * and a directory only the overlay has is created. Every entry the overlay adds is owned 0:0 with
 * a mode that does not depend on the checkout's umask: directories 0755, files 0755 when any
 * execute bit is set and else 0644, symlinks as links. Device nodes, FIFOs and sockets are
 * refused (a {@code rootfs.pseudo} line makes them), as are relative symlinks that climb above
 * the root, and an overlay that puts a directory where the source (or an earlier overlay) has
 * anything else, or the other way round.
 */
final class RootfsOverlay {
    /** One path of the merged overlays: the later overlay's entry wins. */
    private record Entry(Path source, int type) {
    }

    private final TreeMap<String, Entry> entries = new TreeMap<>();
    private final List<Integer> counts = new ArrayList<>();

    private RootfsOverlay() {
    }

    /** Reads the overlays' trees (not their content), in order; {@code skip}: paths never read (the output directory). */
    static RootfsOverlay scan(List<Path> dirs, Set<Path> skip) throws IOException {
        RootfsOverlay o = new RootfsOverlay();
        for (Path dir : dirs) {
            o.counts.add(o.scanOne(dir, skip));
        }
        return o;
    }

    private int scanOne(Path root, Set<Path> skip) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, "rootfs.overlay " + root + ": no such directory");
        }
        int[] n = {0};
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                if (skip.contains(d.toAbsolutePath().normalize())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (!d.equals(root)) {
                    put(root, d, EntryAttributes.S_IFDIR);
                    n[0]++;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                if (skip.contains(f.toAbsolutePath().normalize())) {
                    return FileVisitResult.CONTINUE;
                }
                String rel = relative(root, f);
                if (a.isSymbolicLink()) {
                    checkLink(root, rel, Files.readSymbolicLink(f));
                    put(root, f, EntryAttributes.S_IFLNK);
                } else if (a.isRegularFile()) {
                    put(root, f, EntryAttributes.S_IFREG);
                } else {
                    throw new PipelineException(PipelineException.Kind.BAD_INPUT, "rootfs.overlay " + root + ": " + rel
                            + " is a device node, FIFO or socket: an overlay holds directories, files and symlinks "
                            + "(make special files with a rootfs.pseudo line)");
                }
                n[0]++;
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path f, IOException e) throws IOException {
                throw e;
            }
        });
        return n[0];
    }

    private void put(Path root, Path p, int type) throws PipelineException {
        String rel = relative(root, p);
        Entry old = entries.get(rel);
        if (old != null && (old.type() == EntryAttributes.S_IFDIR) != (type == EntryAttributes.S_IFDIR)) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, "rootfs.overlay " + root + ": " + rel + " is a "
                    + kind(type) + " but an earlier overlay has a " + kind(old.type()) + " there: an overlay cannot replace a "
                    + "directory with something else or the other way round");
        }
        entries.put(rel, new Entry(p, type));
    }

    /** A relative target must stay inside the root when followed from the link's directory in the image. */
    static void checkLink(Path root, String rel, Path target) throws PipelineException {
        String t = target.toString();
        if (t.isEmpty() || t.indexOf('\0') >= 0) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, "rootfs.overlay " + root + ": " + rel + " is a symlink "
                    + "with an empty target");
        }
        if (t.startsWith("/")) {
            return; // resolved inside the image's root when followed there; the build never follows it
        }
        int depth = rel.split("/").length - 1; // directories above the link
        for (String part : t.split("/")) {
            if (part.equals("..")) {
                if (--depth < 0) {
                    throw new PipelineException(PipelineException.Kind.BAD_INPUT, "rootfs.overlay " + root + ": " + rel
                            + " -> " + t + " climbs above the root: a symlink in an overlay must point inside the image");
                }
            } else if (!part.isEmpty() && !part.equals(".")) {
                depth++;
            }
        }
    }

    private static String relative(Path root, Path p) {
        StringBuilder b = new StringBuilder();
        for (Path part : root.relativize(p)) {
            b.append(b.length() == 0 ? "" : "/").append(part);
        }
        return b.toString();
    }

    private static String kind(int type) {
        return switch (type) {
            case EntryAttributes.S_IFDIR -> "directory";
            case EntryAttributes.S_IFREG -> "file";
            case EntryAttributes.S_IFLNK -> "symlink";
            case 0 -> "nothing";
            default -> "special file";
        };
    }

    /** Entries each overlay directory holds (its root not counted), in the spec's order. */
    List<Integer> counts() {
        return List.copyOf(counts);
    }

    /**
     * While the source is added: SKIP a source non-directory the overlay replaces with a
     * non-directory (its content is never read), else ADD; a kind mismatch is found when the
     * overlay is added.
     */
    EntryGate.Verdict source(String path, int type) {
        Entry e = entries.get(path);
        return e != null && e.type() != EntryAttributes.S_IFDIR && type != EntryAttributes.S_IFDIR ? EntryGate.Verdict.SKIP
                : EntryGate.Verdict.ADD;
    }

    /** Adds the overlays' entries (after the source, before pseudo definitions), parents first. */
    void addTo(SquashfsWriter w, long mtime) throws IOException {
        for (var me : entries.entrySet()) {
            String path = me.getKey();
            Entry e = me.getValue();
            int existing = w.typeOf(path);
            boolean isDir = e.type() == EntryAttributes.S_IFDIR;
            if (existing != 0 && (existing == EntryAttributes.S_IFDIR) != isDir) {
                throw new PipelineException(PipelineException.Kind.BAD_INPUT, "rootfs.overlay: " + path + " is a " + kind(e.type())
                        + " in the overlay but a " + kind(existing) + " in the source: an overlay cannot replace a directory with "
                        + "something else or the other way round"
                        + (existing == EntryAttributes.S_IFLNK ? " (a symlink such as merged /usr's lib -> usr/lib: put the files "
                        + "under the link's target)" : ""));
            }
            switch (e.type()) {
                case EntryAttributes.S_IFDIR -> {
                    if (existing == 0) {
                        w.addDirectory(path, EntryMetadata.of(0755, 0, 0, mtime));
                    }
                }
                case EntryAttributes.S_IFLNK -> w.addSymlink(path, EntryMetadata.of(0777, 0, 0, mtime),
                        Files.readSymbolicLink(e.source()).toString());
                default -> {
                    Set<PosixFilePermission> perms = Files.getPosixFilePermissions(e.source(), LinkOption.NOFOLLOW_LINKS);
                    boolean exec = perms.contains(PosixFilePermission.OWNER_EXECUTE) || perms.contains(PosixFilePermission.GROUP_EXECUTE)
                            || perms.contains(PosixFilePermission.OTHERS_EXECUTE);
                    if (!Files.isRegularFile(e.source(), LinkOption.NOFOLLOW_LINKS)) {
                        throw new PipelineException(PipelineException.Kind.BAD_INPUT, "rootfs.overlay: " + e.source()
                                + " changed while the build ran (no longer a regular file)");
                    }
                    try (InputStream in = Files.newInputStream(e.source(), LinkOption.NOFOLLOW_LINKS)) {
                        w.addFile(path, EntryMetadata.of(exec ? 0755 : 0644, 0, 0, mtime), in);
                    }
                }
            }
        }
    }
}
