package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.io.FormatException;
import dev.cairn.squashfs.ImageInfo;
import dev.cairn.squashfs.SquashfsImage;
import dev.cairn.verity.VerifyResult;
import dev.cairn.verity.VerityResult;
import dev.cairn.verity.VerityVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;

/**
 * What a cache entry says about its step is never taken on its word: each cacheable step's result
 * is rebuilt from the cached files and this build's own inputs, and the entry's {@code result.json}
 * must say exactly the same (same keys, same values), or the entry is not used. So nothing of a
 * cache entry reaches the kernel command line, the manifest or a signature except what the cached
 * files themselves prove: the root hash (the whole dm-verity tree is checked against it), the
 * SquashFS's size, digest and inode count, the initramfs's entry count.
 */
final class CachedResults {
    private CachedResults() {
    }

    /** The rootfs step's result for the image {@code img} (SquashFS, then superblock and tree at the hash offset). */
    static ObjectNode rootfs(JsonNode claimed, Path img, String compression, int threads) throws IOException {
        return rootfs(claimed, img, compression, threads, ManifestJson.object());
    }

    /**
     * As {@link #rootfs(JsonNode, Path, String, int)}, with {@code tree} (the overlay and clean-up
     * records this build derives) added to the rebuilt result before it is compared.
     */
    static ObjectNode rootfs(JsonNode claimed, Path img, String compression, int threads, ObjectNode tree) throws IOException {
        JsonNode cv = claimed.path("verity");
        String rootHash = cv.path("rootHash").asText("");
        if (!rootHash.matches("[0-9a-f]{64}")) {
            throw new FormatException("verity.rootHash", rootHash, "not a sha256 root hash");
        }
        JsonNode off = cv.path("hashOffset");
        long size = Files.size(img);
        if (!off.isIntegralNumber() || off.asLong() <= 0 || off.asLong() % 4096 != 0 || off.asLong() >= size) {
            throw new FormatException("verity.hashOffset", off, "not a 4 KiB-aligned offset inside the image");
        }
        long hashOffset = off.asLong();
        VerifyResult v = VerityVerifier.verifyRegion(img, 0, hashOffset, img, hashOffset, size - hashOffset,
                HexFormat.of().parseHex(rootHash), threads);
        if (!(v instanceof VerifyResult.Intact intact)) {
            throw new FormatException("verity.rootHash", rootHash, "the cached image's hash tree does not verify against it");
        }
        ImageInfo info;
        try (SquashfsImage sq = SquashfsImage.open(img)) {
            info = sq.info();
        }
        if (!info.compression().equals(compression)) {
            throw new FormatException("squashfs.compression", info.compression(), "the spec asks for " + compression);
        }
        ObjectNode r = result(compression, hashOffset, digest(img, hashOffset), info.inodes(), intact.params());
        r.setAll(tree);
        same(claimed, r, "rootfs");
        return r;
    }

    /**
     * The clean-up counts a rootfs entry records, when they have the form this build's clean-ups
     * give ({@code [{name, removed, emptied}]}, the names in the spec's order, counts 0 ... 2^31-1).
     * What was removed cannot be read back from the image; the counts are taken from the entry,
     * which the cache key ties to the same source, overlays and clean-ups.
     */
    static com.fasterxml.jackson.databind.node.ArrayNode cleanCounts(JsonNode claimed, List<BuildSpec.Cleanup> order)
            throws FormatException {
        com.fasterxml.jackson.databind.node.ArrayNode out = ManifestJson.object().arrayNode();
        JsonNode c = claimed.path("clean");
        if (order.isEmpty()) {
            return out;
        }
        if (!c.isArray() || c.size() != order.size()) {
            throw new FormatException("clean", c, "not the clean-ups of this spec");
        }
        for (int i = 0; i < order.size(); i++) {
            JsonNode e = c.get(i);
            if (!order.get(i).specName().equals(e.path("name").asText()) || e.size() != 3) {
                throw new FormatException("clean[" + i + "]", e, "not the clean-up " + order.get(i).specName());
            }
            ObjectNode n = out.addObject();
            n.put("name", order.get(i).specName());
            for (String k : new String[] {"removed", "emptied"}) {
                JsonNode v = e.path(k);
                if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > Integer.MAX_VALUE) {
                    throw new FormatException("clean[" + i + "]." + k, v, "not a count");
                }
                n.put(k, v.asInt());
            }
        }
        return out;
    }

    /** The rootfs step's result, in the order the manifest records it. */
    static ObjectNode result(String compression, long squashfsSize, String squashfsSha256, long inodes, VerityResult v) {
        ObjectNode res = ManifestJson.object();
        ObjectNode s = res.putObject("squashfs");
        s.put("compression", compression);
        s.put("size", squashfsSize);
        s.put("sha256", squashfsSha256);
        s.put("inodes", inodes);
        ObjectNode vn = res.putObject("verity");
        vn.put("rootHash", v.rootHashHex());
        vn.put("algorithm", v.hash().veritysetupName());
        vn.put("hashType", v.hashType());
        vn.put("dataBlockSize", v.dataBlockSize());
        vn.put("hashBlockSize", v.hashBlockSize());
        vn.put("dataBlocks", v.dataBlocks());
        vn.put("hashOffset", v.hashOffset());
        vn.put("salt", v.saltHex());
        vn.put("uuid", v.uuid().toString());
        return res;
    }

    /** The initramfs step's result for the archive {@code file}, whose modules this build resolved as {@code modules}. */
    static ObjectNode initramfs(JsonNode claimed, Path file, List<String> modules) throws IOException {
        return initramfs(claimed, file, modules, null);
    }

    /**
     * The initramfs step's result for {@code file}: with {@code ready} (kernel.initramfs.file beside
     * dir), the file must start with exactly that file's bytes and zeros to a multiple of 4, and
     * cairn's archive follows.
     */
    static ObjectNode initramfs(JsonNode claimed, Path file, List<String> modules, Path ready) throws IOException {
        long entries = 0;
        long offset = 0;
        String readySha256 = null;
        long readySize = 0;
        if (ready != null) {
            readySize = Files.size(ready);
            readySha256 = StepCache.digest(ready);
            offset = readySize + BuildPipeline.initrdPadding(readySize);
            if (Files.size(file) < offset) {
                throw new FormatException("initramfs", file, "shorter than the ready initramfs it must start with");
            }
            MessageDigest md = StepCache.sha256();
            byte[] pad;
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (long left = readySize; left > 0; ) {
                    int n = in.read(buf, 0, Math.toIntExact(Math.min(buf.length, left)));
                    if (n < 0) {
                        throw new java.io.EOFException(file.toString());
                    }
                    md.update(buf, 0, n);
                    left -= n;
                }
                pad = in.readNBytes(Math.toIntExact(offset - readySize));
            }
            if (!HexFormat.of().formatHex(md.digest()).equals(readySha256)) {
                throw new FormatException("initramfs", file, "does not start with the ready initramfs " + ready);
            }
            for (byte b : pad) {
                if (b != 0) {
                    throw new FormatException("initramfs", file, "the padding after the ready initramfs is not zeros");
                }
            }
        }
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            in.skipNBytes(offset);
            if (in.readNBytes(head, 0, 4) != 4 || (head[0] & 0xff) != 0x28 || (head[1] & 0xff) != 0xb5) {
                throw new FormatException("initramfs", file, "not a zstd-compressed archive" + (ready != null ? " after the ready file" : ""));
            }
        }
        try (InputStream at = Files.newInputStream(file)) {
            at.skipNBytes(offset);
            try (InputStream raw = new org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream(
                    new java.io.BufferedInputStream(at));
                 CpioArchiveInputStream cpio = new CpioArchiveInputStream(raw)) {
                while (cpio.getNextEntry() != null) {
                    entries++;
                }
            }
        }
        ObjectNode r = ManifestJson.object();
        r.putArray("modules").addAll(modules.stream().map(com.fasterxml.jackson.databind.node.TextNode::valueOf).toList());
        r.put("entries", entries);
        if (ready != null) {
            ObjectNode f = r.putObject("file");
            f.put("size", readySize);
            f.put("sha256", readySha256);
        }
        r.put("source", ready != null ? "file+dir" : "dir");
        same(claimed, r, "initramfs");
        return r;
    }

    /** The claimed result must be exactly the rebuilt one: no key more or less, no other value. */
    static void same(JsonNode claimed, JsonNode rebuilt, String step) throws FormatException {
        // compared as the manifest will hold them (text), so 10 read back from JSON equals the 10L a step put
        if (!java.util.Arrays.equals(ManifestJson.encode(claimed), ManifestJson.encode(rebuilt))) {
            JsonNode a = reparse(claimed);
            JsonNode b = reparse(rebuilt);
            throw new FormatException(step + " result.json", difference(a, b, ""), "differs from what the cached files prove");
        }
    }

    private static JsonNode reparse(JsonNode n) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(ManifestJson.encode(n));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String difference(JsonNode a, JsonNode b, String path) {
        if (a.isObject() && b.isObject()) {
            Set<String> keys = new TreeSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (Iterator<String> it = keys.iterator(); it.hasNext(); ) {
                String k = it.next();
                if (!a.path(k).equals(b.path(k))) {
                    return difference(a.path(k), b.path(k), path.isEmpty() ? k : path + "." + k);
                }
            }
        }
        return path.isEmpty() ? "(the whole result)" : path;
    }

    /** SHA-256 of the first {@code length} bytes of {@code file}. */
    static String digest(Path file, long length) throws IOException {
        MessageDigest md = StepCache.sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            long left = length;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new FormatException("file", file, "shorter than " + length + " bytes");
                }
                md.update(buf, 0, n);
                left -= n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
