package dev.cairn.cli.squashfs;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.Main;
import dev.cairn.squashfs.Extractor;
import dev.cairn.squashfs.ImageInfo;
import dev.cairn.squashfs.SquashfsEntry;
import dev.cairn.squashfs.SquashfsImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn squashfs}: create and read SquashFS images. */
@Command(name = "squashfs", mixinStandardHelpOptions = true,
        description = "SquashFS images: create (like mksquashfs), ls, cat, extract, info (like unsquashfs).")
public final class SquashfsCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("create", Main.make(CreateCommand.class));
        m.put("ls", Main.make(Ls.class));
        m.put("cat", Main.make(Cat.class));
        m.put("extract", Main.make(Extract.class));
        m.put("info", Main.make(Info.class));
        return m;
    }

    /** The path as {@code ls} shows it: "/" for the root, "/a/b" below it. */
    static String display(SquashfsEntry e) {
        return "/" + e.path();
    }

    /** One line in the format of {@code unsquashfs -lln -UTC} (with "/" in place of "squashfs-root"). */
    static String longLine(SquashfsEntry e) {
        return e.listingLine(display(e));
    }

    static Map<String, Object> json(SquashfsImage img, SquashfsEntry e) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("path", display(e));
        m.put("type", e.type().name().toLowerCase(Locale.ROOT));
        m.put("mode", String.format("%04o", e.mode()));
        m.put("uid", e.uid());
        m.put("gid", e.gid());
        m.put("mtime", e.mtime());
        m.put("inode", e.inodeNumber());
        m.put("nlink", e.nlink());
        m.put("size", e.size());
        if (e.target() != null) {
            m.put("target", e.target());
        }
        if (e.type() == SquashfsEntry.Type.BLOCK_DEVICE || e.type() == SquashfsEntry.Type.CHAR_DEVICE) {
            m.put("major", e.major());
            m.put("minor", e.minor());
        }
        Map<String, String> x = new LinkedHashMap<>();
        for (Map.Entry<String, byte[]> a : img.xattrs(e).entrySet()) {
            x.put(a.getKey(), HexFormat.of().formatHex(a.getValue()));
        }
        if (!x.isEmpty()) {
            m.put("xattrsHex", x);
        }
        return m;
    }

    @Command(name = "ls", mixinStandardHelpOptions = true,
            description = "List the image (recursively) from PATH; -l as 'unsquashfs -lln -UTC'.")
    static final class Ls implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "IMAGE")
        Path image;
        @Parameters(index = "1", arity = "0..1", paramLabel = "PATH", description = "Subtree to list (default: all).")
        String path = "";
        @Option(names = "-l", description = "Long listing: mode, uid/gid, size or device, mtime (UTC).")
        boolean longFormat;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            try (SquashfsImage img = SquashfsImage.open(image)) {
                SquashfsEntry start = img.lookup(path);
                if (json.enabled()) {
                    List<Object> all = new ArrayList<>();
                    img.walk(start, e -> all.add(json(img, e)));
                    JsonOption.print(out, all);
                } else {
                    img.walk(start, e -> out.println(longFormat ? longLine(e) : display(e)));
                }
            }
            return 0;
        }
    }

    @Command(name = "cat", mixinStandardHelpOptions = true, description = "Write the content of the file at PATH to stdout.")
    static final class Cat implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "IMAGE")
        Path image;
        @Parameters(index = "1", paramLabel = "PATH")
        String path;

        @Override
        public Integer call() throws IOException {
            try (SquashfsImage img = SquashfsImage.open(image)) {
                SquashfsEntry e = img.lookup(path);
                if (e.type() != SquashfsEntry.Type.FILE) {
                    throw new IllegalArgumentException(path + " is a " + e.type().name().toLowerCase(Locale.ROOT) + ", not a regular file");
                }
                PrintStream stdout = System.out;
                try (InputStream in = img.open(e)) {
                    in.transferTo(stdout);
                }
                stdout.flush();
            }
            return 0;
        }
    }

    @Command(name = "extract", mixinStandardHelpOptions = true,
            description = {"Extract the image (or the given paths) into DIR, which must be new or empty.",
                    "Owners and device nodes are restored only when running as root; so are trusted. and most security."
                            + " extended attributes (user. ones always): what the kernel refuses is counted in one warning per namespace."})
    static final class Extract implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "IMAGE")
        Path image;
        @Parameters(index = "1", paramLabel = "DIR")
        Path dir;
        @Parameters(index = "2..*", paramLabel = "PATH", description = "Only these paths (and what is below them).")
        List<String> paths = new ArrayList<>();
        @Option(names = {"-q", "--quiet"}, description = "Do not print warnings about skipped entries.")
        boolean quiet;

        @Override
        public Integer call() throws IOException {
            PrintWriter err = spec.commandLine().getErr();
            try (SquashfsImage img = SquashfsImage.open(image)) {
                long n = Extractor.extract(img, dir, paths, isRoot(), w -> {
                    if (!quiet) {
                        err.println("cairn: warning: " + w);
                    }
                });
                spec.commandLine().getOut().println("Extracted " + n + " entries into " + dir);
            }
            return 0;
        }

        private static boolean isRoot() {
            try {
                return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
            } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
                return false;
            }
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true, description = "Show the superblock: compression, sizes, counts, flags.")
    static final class Info implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "IMAGE")
        Path image;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            ImageInfo i;
            try (SquashfsImage img = SquashfsImage.open(image)) {
                i = img.info();
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
                JsonOption.print(out, i);
                return 0;
            }
            out.println("SquashFS 4.0 image " + image);
            out.println("Compression:  " + i.compression());
            out.println("Block size:   " + i.blockSize());
            out.println("Bytes used:   " + i.bytesUsed() + " (file " + i.imageSize() + ")");
            out.println("Inodes:       " + i.inodes());
            out.println("Fragments:    " + i.fragments());
            out.println("Ids:          " + i.ids());
            out.println("Xattr sets:   " + i.xattrIds());
            out.println("Created:      " + DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(i.mkfsTime())));
            out.println("Exportable:   " + (i.exportable() ? "yes" : "no"));
            out.println("Flags:        " + String.join(" ", i.flags()));
            return 0;
        }
    }
}
