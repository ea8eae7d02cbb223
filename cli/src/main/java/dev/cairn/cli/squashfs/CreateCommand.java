package dev.cairn.cli.squashfs;

import dev.cairn.cli.JsonOption;
import dev.cairn.cli.Progress;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.io.AtomicOutput;
import dev.cairn.pipeline.selinux.FileContexts;
import dev.cairn.squashfs.Compression;
import dev.cairn.squashfs.DirectorySource;
import dev.cairn.squashfs.PseudoDefinition;
import dev.cairn.squashfs.SourceFilter;
import dev.cairn.squashfs.SquashfsImage;
import dev.cairn.squashfs.SquashfsOptions;
import dev.cairn.squashfs.SquashfsResult;
import dev.cairn.squashfs.SquashfsWriter;
import dev.cairn.squashfs.TarSource;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn squashfs create}: mksquashfs in pure Java. */
@Command(name = "create", mixinStandardHelpOptions = true,
        description = {"Create a SquashFS image from a directory, a tarball (plain, gz, zst, xz) or '-' (tar on stdin).",
                "Always a new image (mksquashfs -noappend); output is byte-identical for the same input and options."})
final class CreateCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "SOURCE", description = "Directory, tar archive, or '-' for a tar on stdin.")
    String source;
    @Parameters(index = "1", paramLabel = "IMAGE", description = "Image to write (replaced atomically).")
    Path image;
    @Option(names = {"--comp", "-comp"}, paramLabel = "ALG", description = "gzip (default), xz, lz4 or zstd.")
    String comp = "gzip";
    @Option(names = {"--level", "-Xcompression-level"}, paramLabel = "N",
            description = "Compression level (defaults as mksquashfs: gzip 9, zstd 15, xz 6; lz4: 0 fast, 1 high compression).")
    Integer level;
    @Option(names = {"--block-size", "-b"}, paramLabel = "SIZE", description = "Data block size, 4K to 1M, a power of two (default 128K).")
    String blockSize = "128K";
    @Option(names = {"--all-root", "-all-root"}, description = "Make every entry owned by 0:0.")
    boolean allRoot;
    @Option(names = {"--force-uid", "-force-uid"}, paramLabel = "UID", description = "Make every entry owned by UID.")
    Long forceUid;
    @Option(names = {"--force-gid", "-force-gid"}, paramLabel = "GID", description = "Make every entry's group GID.")
    Long forceGid;
    @Option(names = {"--no-xattrs", "-no-xattrs"}, description = "Do not store extended attributes.")
    boolean noXattrs;
    @Option(names = {"--exclude", "-e"}, paramLabel = "PATTERN",
            description = "Leave out paths matching the glob PATTERN, relative to SOURCE (repeatable; ** crosses directories).")
    List<String> excludes = new ArrayList<>();
    @Option(names = {"--no-fragments", "-no-fragments"}, description = "Store small files in their own blocks.")
    boolean noFragments;
    @Option(names = {"--always-use-fragments", "-always-use-fragments", "--tailends"},
            description = "Also pack the tail ends of large files into fragments.")
    boolean alwaysFragments;
    @Option(names = {"--no-duplicates", "-no-duplicates"}, description = "Store every file, even when its content was seen before.")
    boolean noDuplicates;
    @Option(names = {"--no-sparse", "-no-sparse"}, description = "Store all-zero blocks instead of holes.")
    boolean noSparse;
    @Option(names = {"--no-exports", "-no-exports"}, description = "Leave out the NFS export table.")
    boolean noExports;
    @Option(names = {"--mtime", "-all-time"}, paramLabel = "SECONDS",
            description = "Set every inode's mtime and the creation time to SECONDS.")
    Long mtime;
    @Mixin
    SourceDateEpochOption sourceDateEpoch;
    @Option(names = {"--processors", "-processors"}, paramLabel = "N", description = "Compression threads (default: all processors).")
    Integer processors;
    @Option(names = {"--pseudo", "-p"}, paramLabel = "DEFINITION",
            description = "mksquashfs pseudo definition, e.g. 'dev/console c 600 0 0 5 1' (repeatable).")
    List<String> pseudo = new ArrayList<>();
    @Option(names = {"--pseudo-file", "-pf"}, paramLabel = "FILE", description = "File of pseudo definitions, one per line.")
    List<Path> pseudoFiles = new ArrayList<>();
    @Option(names = "--file-contexts", paramLabel = "FILE",
            description = {"Label every entry with security.selinux as 'setfiles -r ROOT FILE ROOT' would (SELinux file_contexts,",
                    "with FILE.homedirs, FILE.local, FILE.subs_dist and FILE.subs beside it); replaces labels from SOURCE."})
    Path fileContexts;
    private final AtomicLong labelled = new AtomicLong();
    private final AtomicLong unlabelled = new AtomicLong();
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        SquashfsOptions options = options();
        List<PseudoDefinition> defs = pseudoDefinitions();
        if (fileContexts != null && noXattrs) {
            throw new IllegalArgumentException("--file-contexts labels entries with an xattr: it contradicts --no-xattrs");
        }
        FileContexts contexts = fileContexts == null ? null : FileContexts.load(fileContexts);
        Long clamp = null;
        long entryTime = options.mkfsTime();
        SourceFilter filter = new SourceFilter(excludes, allRoot ? Long.valueOf(0) : forceUid, allRoot ? Long.valueOf(0) : forceGid);
        if (mtime == null) {
            Optional<Instant> sde = sourceDateEpoch.instant(spec.commandLine());
            if (sde.isPresent()) {
                // SOURCE_DATE_EPOCH: creation time, and no entry newer than it (as mksquashfs).
                clamp = sde.get().getEpochSecond();
                options = options.withSourceDateEpoch(clamp);
                entryTime = clamp;
            }
        }
        SquashfsResult r;
        try (AtomicOutput out = AtomicOutput.open(image);
             SquashfsWriter w = new SquashfsWriter(out.channel(), options)) {
            out.flushInBackground(); // the image grows for seconds: commit() then has little left to sync
            if (contexts != null) {
                w.addEntryAttributes(contexts.labeller(labelled, unlabelled));
            }
            try (Progress progress = Progress.start(spec.commandLine().getErr(), "creating " + image.getFileName(), -1, json.enabled())) {
                addSource(w, filter, out.tempPath(), progress);
                for (PseudoDefinition d : defs) {
                    d.apply(w, entryTime);
                }
                r = w.finish();
            }
            SquashfsImage.check(out.tempPath()); // re-read every table before the image may replace IMAGE
            out.commit();
        }
        print(r, options);
        return 0;
    }

    /**
     * Adds SOURCE; when IMAGE lies inside it, neither IMAGE nor the temp file it grows in is an entry.
     * {@code progress} counts what is read of the total, as mksquashfs: a directory's file content
     * (totalled first from metadata, only when the progress line shows), a tar archive's bytes as
     * stored (compressed or not), or the bytes of a tar on standard input (no total).
     */
    private void addSource(SquashfsWriter w, SourceFilter filter, Path temp, Progress progress) throws IOException {
        if (source.equals("-")) {
            TarSource.add(progress.counting(System.in), w, filter);
            return;
        }
        Path src = Path.of(source);
        if (Files.isDirectory(src)) {
            Set<Path> skip = Set.of(image.toAbsolutePath().normalize(), temp.toAbsolutePath().normalize());
            if (progress.enabled()) {
                progress.restart(progress.label(), DirectorySource.contentBytes(src, filter, skip));
                w.onContentRead(progress::advance);
            }
            DirectorySource.add(src, w, filter, skip);
        } else if (Files.isRegularFile(src)) {
            if (progress.enabled()) {
                progress.restart(progress.label(), Files.size(src));
            }
            try (InputStream in = progress.counting(Files.newInputStream(src))) {
                TarSource.add(in, w, filter);
            }
        } else {
            throw new java.nio.file.NoSuchFileException(source, null, "no such directory or tar archive");
        }
    }

    SquashfsOptions options() throws IOException {
        Compression c = Compression.parse(comp.toLowerCase(Locale.ROOT));
        SquashfsOptions o = SquashfsOptions.defaults(c).withBlockSize(parseSize(blockSize));
        if (level != null) {
            o = o.withLevel(c.checkLevel(level));
        }
        if (processors != null) {
            if (processors < 1 || processors > 1024) {
                throw new IllegalArgumentException("--processors must be between 1 and 1024, not " + processors);
            }
            o = o.withProcessors(processors);
        }
        o = o.withFragments(!noFragments, alwaysFragments).withDuplicates(!noDuplicates).withXattrs(!noXattrs)
                .withSparse(!noSparse).withExportable(!noExports);
        if (noFragments && alwaysFragments) {
            throw new IllegalArgumentException("--no-fragments and --always-use-fragments contradict each other");
        }
        if (mtime != null) {
            o = o.withTime(mtime);
        }
        return o;
    }

    private List<PseudoDefinition> pseudoDefinitions() throws IOException {
        List<PseudoDefinition> defs = new ArrayList<>();
        for (Path f : pseudoFiles) {
            defs.addAll(PseudoDefinition.parseFile(Files.readAllLines(f, StandardCharsets.UTF_8), f.toString()));
        }
        for (int i = 0; i < pseudo.size(); i++) {
            defs.add(PseudoDefinition.parse(pseudo.get(i), "--pseudo #" + (i + 1)));
        }
        return defs;
    }

    static int parseSize(String s) {
        String v = s.trim().toUpperCase(Locale.ROOT);
        long mult = 1;
        if (v.endsWith("K")) {
            mult = 1024;
            v = v.substring(0, v.length() - 1);
        } else if (v.endsWith("M")) {
            mult = 1024 * 1024;
            v = v.substring(0, v.length() - 1);
        }
        try {
            long n = Long.parseLong(v) * mult;
            if (n < 4096 || n > (1 << 20) || Long.bitCount(n) != 1) {
                throw new NumberFormatException();
            }
            return Math.toIntExact(n);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("--block-size must be a power of two from 4K to 1M, not '" + s + "'");
        }
    }

    private void print(SquashfsResult r, SquashfsOptions o) {
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("image", image.toString());
            m.put("compression", o.compression().label());
            m.put("level", o.level());
            m.put("blockSize", o.blockSize());
            m.put("bytesUsed", r.bytesUsed());
            m.put("imageSize", r.imageSize());
            m.put("inputBytes", r.inputBytes());
            m.put("ratio", Math.round(r.ratio() * 10000) / 10000.0);
            m.put("inodes", r.inodes());
            m.put("fragments", r.fragments());
            m.put("ids", r.ids());
            m.put("xattrIds", r.xattrIds());
            m.put("duplicateFiles", r.duplicateFiles());
            m.put("duplicateBytes", r.duplicateBytes());
            m.put("sparseBytes", r.sparseBytes());
            if (fileContexts != null) {
                m.put("selinux", Map.of("labelled", labelled.get(), "unlabelled", unlabelled.get()));
            }
            JsonOption.print(out, m);
            return;
        }
        out.printf(Locale.ROOT, "Created %s: %d bytes (%d used), %s block size %d%n", image, r.imageSize(), r.bytesUsed(),
                o.compression().label(), o.blockSize());
        out.printf(Locale.ROOT, "%d inodes, %d fragments, %d ids, %d xattr sets%n", r.inodes(), r.fragments(), r.ids(), r.xattrIds());
        out.printf(Locale.ROOT, "%d input bytes, %.2f%% of input; %d duplicate files (%d bytes) stored once, %d sparse bytes%n",
                r.inputBytes(), r.ratio() * 100, r.duplicateFiles(), r.duplicateBytes(), r.sparseBytes());
        if (fileContexts != null) {
            out.printf(Locale.ROOT, "SELinux: %d entries labelled, %d left as they were (<<none>> or no matching context)%n",
                    labelled.get(), unlabelled.get());
        }
    }
}
