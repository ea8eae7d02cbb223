package dev.cairn.cli.build;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * The content-addressed step cache in {@code OUT/.cairn-cache}: a step's outputs are stored under
 * {@code STEP/KEY/}, where KEY is the SHA-256 of everything the step reads (content digests of its
 * input files and trees, options, key fingerprints). A later build with the same KEY copies the
 * outputs instead of recomputing them; the copies are checked against the digests recorded with
 * them, so a damaged cache is a miss, never a wrong artifact. Only the newest entry of each step
 * is kept.
 */
final class StepCache {
    private final Path dir;
    private final boolean force;

    StepCache(Path dir, boolean force) {
        this.dir = dir;
        this.force = force;
    }

    /** A builder for a step key. */
    static final class Key {
        private final MessageDigest md = sha256();

        Key add(String label, String value) {
            md.update((label + "=" + value.length() + ":" + value + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return this;
        }

        Key addFile(String label, Path file) throws IOException {
            return add(label, file + "@" + digest(file));
        }

        /**
         * Every entry under {@code root}: relative path, type, permissions, owner, link target and
         * the SHA-256 of each regular file's content. Times and inode numbers are left out, so a
         * fresh checkout of the same tree (a CI job restoring the cache) is a hit; reading the tree
         * costs a fraction of compressing it.
         */
        Key addTree(String label, Path root) throws IOException {
            List<String> lines = new ArrayList<>();
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid", LinkOption.NOFOLLOW_LINKS);
                    String rel = root.relativize(p).toString();
                    String what = Files.isSymbolicLink(p) ? "-> " + Files.readSymbolicLink(p)
                            : Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? digest(p) : "";
                    lines.add(rel + "\0" + a.get("mode") + " " + a.get("uid") + " " + a.get("gid") + " " + what);
                }
            }
            lines.sort(null);
            return add(label, String.join("\n", lines));
        }

        String hex() {
            return HexFormat.of().formatHex(md.digest());
        }
    }

    /** Copies the cached outputs of {@code step}/{@code key} into {@code target}; empty on a miss. */
    Optional<ObjectNode> restore(String step, String key, Path target, List<String> files) throws IOException {
        Path entry = dir.resolve(step).resolve(key);
        Path result = entry.resolve("result.json");
        if (force || !Files.isRegularFile(result)) {
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

    /** Records the outputs {@code files} (in {@code source}) and {@code result} as step/key, replacing older entries. */
    void store(String step, String key, Path source, List<String> files, ObjectNode result) throws IOException {
        Path stepDir = dir.resolve(step);
        Files.createDirectories(stepDir);
        Path tmp = Files.createTempDirectory(stepDir, ".new-");
        try {
            ObjectNode digests = result.putObject("files");
            for (String f : files) {
                Files.copy(source.resolve(f), tmp.resolve(f));
                digests.put(f, digest(tmp.resolve(f)));
            }
            Files.write(tmp.resolve("result.json"), ManifestJson.encode(result));
            try (Stream<Path> old = Files.list(stepDir)) {
                for (Path o : old.toList()) {
                    if (!o.equals(tmp)) {
                        dev.cairn.io.FileTrees.delete(o);
                    }
                }
            }
            Files.move(tmp, stepDir.resolve(key), StandardCopyOption.ATOMIC_MOVE);
        } finally {
            if (Files.exists(tmp)) {
                dev.cairn.io.FileTrees.delete(tmp);
            }
        }
        result.remove("files");
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

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
