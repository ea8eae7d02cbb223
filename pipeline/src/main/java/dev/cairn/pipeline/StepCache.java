package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.io.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The content-addressed step cache in {@code OUT/.cairn-cache}, backed by registry caches when the
 * build names some ({@link RegistryStepCache}): a step's outputs are stored under
 * {@code STEP/KEY/}, where KEY is the SHA-256 of everything the step reads (content digests of its
 * input files and trees, its version, its parameters, the certificates it signs with), never a
 * path, a time or private key material. A later build with the same KEY copies the outputs instead
 * of recomputing them; the copies are checked against the digests recorded with them, so a damaged
 * cache is a miss, never a wrong artifact. Only the newest entry of each step is kept locally.
 */
final class StepCache {
    static final String RESULT = "result.json";
    private final Path dir;
    private final boolean force;
    private final RegistryStepCache remote;
    private final List<StepReport> reports = new ArrayList<>();
    /** Entries to offer the registry caches once the whole set has passed its check. */
    private final List<Runnable> pending = new ArrayList<>();

    StepCache(Path dir, boolean force, RegistryStepCache remote) {
        this.dir = dir;
        this.force = force;
        this.remote = remote;
    }

    /** A builder for a step key; it also keeps what went into it, for {@code --explain-cache}. */
    static final class Key {
        private final MessageDigest md = sha256();
        private final List<String> material = new ArrayList<>();
        private String hex;

        Key add(String label, String value) {
            if (hex != null) {
                throw new IllegalStateException("key already computed");
            }
            md.update((label + "=" + value.length() + ":" + value + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            material.add(label + "=" + (value.length() <= 96 && !value.contains("\n") ? value
                    : "sha256:" + HexFormat.of().formatHex(sha256().digest(value.getBytes(java.nio.charset.StandardCharsets.UTF_8)))));
            return this;
        }

        /** A file's content (its SHA-256), not its path. */
        Key addFile(String label, Path file) throws IOException {
            return add(label, "sha256:" + digest(file));
        }

        /**
         * Every entry under {@code root} as the image writers read it: relative path, type,
         * permissions, link target, device numbers, hard-link group, user extended attributes and
         * the SHA-256 of each regular file's content. Owners are left out (the writers make every
         * entry root's), and so are times, inode numbers and where the tree lies, so a fresh
         * checkout of the same tree (a CI job on a new machine, under any uid) is a hit. Paths in
         * {@code skip} (the output directory, when it lies inside the tree) are left out with
         * everything below them, as the writers leave them out. Lines sort by UTF-8 bytes.
         */
        Key addTree(String label, Path root, java.util.Set<Path> skip) throws IOException {
            List<byte[]> lines = new ArrayList<>();
            Map<Object, String> linkGroups = new java.util.HashMap<>();
            List<Path> entries = new ArrayList<>();
            Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult preVisitDirectory(Path d, java.nio.file.attribute.BasicFileAttributes a) {
                    if (skip.contains(d.toAbsolutePath().normalize())) {
                        return java.nio.file.FileVisitResult.SKIP_SUBTREE;
                    }
                    entries.add(d);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) {
                    if (!skip.contains(f.toAbsolutePath().normalize())) {
                        entries.add(f);
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
            entries.sort(java.util.Comparator.comparing(p -> root.relativize(p).toString()));
            for (Path p : entries) {
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,rdev,nlink,ino,dev", LinkOption.NOFOLLOW_LINKS);
                String rel = root.relativize(p).toString();
                StringBuilder line = new StringBuilder(rel).append('\0').append(a.get("mode"));
                if (Files.isSymbolicLink(p)) {
                    line.append(" -> ").append(Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    line.append(' ').append(digest(p));
                    if (((Number) a.get("nlink")).intValue() > 1) {
                        // the first path of the group (in sorted order) names it: same grouping, same key
                        line.append(" link ").append(linkGroups.computeIfAbsent(List.of(a.get("dev"), a.get("ino")), x -> rel));
                    }
                } else if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    line.append(" rdev ").append(a.get("rdev"));
                }
                java.nio.file.attribute.UserDefinedFileAttributeView x = Files.getFileAttributeView(p,
                        java.nio.file.attribute.UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
                // user.* extended attributes exist only on regular files and directories (the kernel refuses them on
                // links and device nodes; reading a device node's list throws UnsupportedOperationException)
                if (x != null && (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                    List<String> names;
                    try {
                        names = new ArrayList<>(x.list());
                    } catch (IOException | UnsupportedOperationException e) {
                        names = List.of();
                    }
                    names.sort(null);
                    for (String n : names) {
                        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(x.size(n));
                        x.read(n, b);
                        line.append(" xattr user.").append(n).append('=').append(HexFormat.of().formatHex(b.array(), 0, b.position()));
                    }
                }
                lines.add(line.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            lines.sort(java.util.Arrays::compareUnsigned);
            StringBuilder all = new StringBuilder();
            for (byte[] l : lines) {
                all.append(new String(l, java.nio.charset.StandardCharsets.UTF_8)).append('\n');
            }
            return add(label, all.toString());
        }

        String hex() {
            if (hex == null) {
                hex = HexFormat.of().formatHex(md.digest());
            }
            return hex;
        }

        List<String> material() {
            return List.copyOf(material);
        }
    }

    /**
     * Copies the cached outputs of {@code step}/{@code key} into {@code target}: from the local
     * cache, else from the first registry cache that has a sound entry (which then becomes the
     * local one). Empty on a miss. Records the step's report either way.
     */
    Optional<ObjectNode> restore(String step, Key key, Path target, List<String> files) throws IOException {
        if (force) {
            reports.add(new StepReport(step, StepReport.Cache.FORCED, null, key.hex(), key.material()));
            return Optional.empty();
        }
        Optional<ObjectNode> local = restoreLocal(step, key.hex(), target, files);
        if (local.isPresent()) {
            reports.add(new StepReport(step, StepReport.Cache.HIT, "local", key.hex(), key.material()));
            return local;
        }
        if (remote != null) {
            Optional<String> from = remote.fetch(step, key, files, this);
            if (from.isPresent()) {
                Optional<ObjectNode> r = restoreLocal(step, key.hex(), target, files);
                if (r.isPresent()) {
                    reports.add(new StepReport(step, StepReport.Cache.HIT, from.get(), key.hex(), key.material()));
                    return r;
                }
            }
        }
        reports.add(new StepReport(step, StepReport.Cache.MISS, null, key.hex(), key.material()));
        return Optional.empty();
    }

    /** Forgets a hit that the caller found unsound after all (the step is then built): it counts as a miss. */
    void rejectHit(String step, Key key) throws IOException {
        reports.removeIf(r -> r.step().equals(step));
        reports.add(new StepReport(step, StepReport.Cache.MISS, null, key.hex(), key.material()));
        FileTrees.delete(dir.resolve(step).resolve(key.hex()));
    }

    /** Records a step that is never cached. */
    void notCached(String step) {
        reports.add(new StepReport(step, StepReport.Cache.NOT_CACHEABLE, null, null, List.of()));
    }

    /** Adds a line to the notes of {@code step}'s report (recorded when the step asked the cache). */
    void note(String step, String line) {
        for (int i = reports.size() - 1; i >= 0; i--) {
            if (reports.get(i).step().equals(step)) {
                reports.set(i, reports.get(i).withNote(line));
                return;
            }
        }
        throw new IllegalStateException("no report of step " + step + " yet");
    }

    List<StepReport> reports() {
        return List.copyOf(reports);
    }

    StepReport report(String step) {
        return reports.stream().filter(r -> r.step().equals(step)).reduce((a, b) -> b).orElse(null);
    }

    private Optional<ObjectNode> restoreLocal(String step, String key, Path target, List<String> files) throws IOException {
        Path entry = dir.resolve(step).resolve(key);
        Path result = entry.resolve(RESULT);
        if (!Files.isRegularFile(result)) {
            return Optional.empty();
        }
        ObjectNode r;
        try {
            r = (ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readAllBytes(result));
        } catch (IOException | ClassCastException e) {
            return Optional.empty();
        }
        for (String f : files) {
            Path cached = entry.resolve(f);
            if (!Files.isRegularFile(cached) || !digest(cached).equals(r.path("files").path(f).asText())) {
                return Optional.empty();
            }
        }
        for (String f : files) {
            Files.copy(entry.resolve(f), target.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        r.remove("files");
        return Optional.of(r);
    }

    /**
     * Records the outputs {@code files} (in {@code source}) and {@code result} as step/key, replacing
     * older entries, then offers the entry to the registry caches the build writes to.
     */
    void store(String step, Key key, Path source, List<String> files, ObjectNode result) throws IOException {
        Path stepDir = dir.resolve(step);
        Files.createDirectories(stepDir);
        Path tmp = dev.cairn.io.AtomicOutput.createTempDirectory(stepDir, ".new-"); // Ctrl-C removes it
        try {
            ObjectNode digests = result.putObject("files");
            for (String f : files) {
                Files.copy(source.resolve(f), tmp.resolve(f));
                digests.put(f, digest(tmp.resolve(f)));
            }
            Files.write(tmp.resolve(RESULT), ManifestJson.encode(result));
            install(stepDir, tmp, key.hex());
        } finally {
            try {
                if (Files.exists(tmp)) {
                    FileTrees.delete(tmp);
                }
            } finally {
                dev.cairn.io.AtomicOutput.settled(tmp);
                result.remove("files");
            }
        }
        if (remote != null) {
            Path entry = dir.resolve(step).resolve(key.hex());
            pending.add(() -> remote.store(step, key, entry, files));
        }
    }

    /** Offers this build's new entries to the registry caches: only once the set they belong to has verified. */
    void publishRemote() {
        pending.forEach(Runnable::run);
        pending.clear();
    }

    /** Removes half-written entries ({@code STEP/.new-*}) an interrupted build left; the caller holds the output directory. */
    void sweep() throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> steps = Files.list(dir)) {
            for (Path step : steps.toList()) {
                if (!Files.isDirectory(step, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                try (Stream<Path> entries = Files.list(step)) {
                    for (Path e : entries.toList()) {
                        if (e.getFileName().toString().startsWith(".new-")) {
                            FileTrees.delete(e);
                        }
                    }
                }
            }
        }
    }

    /**
     * A temp directory beside the entries of {@code step}, for an entry being fetched: a JVM
     * shutdown (Ctrl-C) removes it until {@link #install} or {@link #discard} settled it.
     */
    Path newEntryDir(String step) throws IOException {
        Path stepDir = dir.resolve(step);
        Files.createDirectories(stepDir);
        return dev.cairn.io.AtomicOutput.createTempDirectory(stepDir, ".new-");
    }

    /** Deletes an entry directory from {@link #newEntryDir} that was not installed. */
    static void discard(Path tmp) throws IOException {
        try {
            FileTrees.delete(tmp);
        } finally {
            dev.cairn.io.AtomicOutput.settled(tmp);
        }
    }

    /** Makes the complete entry {@code tmp} the one entry of its step, under {@code key}. */
    void install(Path stepDir, Path tmp, String key) throws IOException {
        try (Stream<Path> old = Files.list(stepDir)) {
            for (Path o : old.toList()) {
                if (!o.equals(tmp)) {
                    FileTrees.delete(o);
                }
            }
        }
        Files.move(tmp, stepDir.resolve(key), StandardCopyOption.ATOMIC_MOVE);
        dev.cairn.io.AtomicOutput.settled(tmp);
    }

    static String digest(Path file) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
