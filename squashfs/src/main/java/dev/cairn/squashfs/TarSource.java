package dev.cairn.squashfs;

import dev.cairn.io.FormatException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream;

/**
 * Adds the entries of a tar archive (plain, gzip, zstd or xz, detected by magic) to a
 * {@link SquashfsWriter}, streaming: file content goes from the archive to the compressors
 * without a temporary copy.
 *
 * <p>Keeps ownership, modes, times, hard links, devices, fifos and extended attributes from PAX
 * records ({@code SCHILY.xattr.*} as written by GNU tar and {@code LIBARCHIVE.xattr.*}, base64).
 * Later entries for the same path replace earlier ones, as when extracting. Names with {@code ..}
 * are refused.
 */
public final class TarSource {
    private static final String SCHILY = "SCHILY.xattr.";
    private static final String LIBARCHIVE = "LIBARCHIVE.xattr.";

    private TarSource() {
    }

    /** Adds every entry of the (possibly compressed) tar read from {@code in}; returns entries added. */
    public static long add(InputStream in, SquashfsWriter writer, SourceFilter filter) throws IOException {
        return add(in, writer, filter, null);
    }

    /**
     * Applies the (possibly compressed) tar read from {@code in} as one OCI image layer over what
     * {@code writer} already holds (the lower layers), the way container runtimes flatten an image:
     * <ul>
     * <li>an entry replaces the same path from a lower layer (a file over a directory or a
     * directory over a file too; a directory over a directory keeps the lower contents);</li>
     * <li>a whiteout {@code DIR/.wh.NAME} deletes {@code DIR/NAME} and everything below it from the
     * lower layers and is not itself stored;</li>
     * <li>an opaque whiteout {@code DIR/.wh..wh..opq} removes everything the lower layers put in
     * {@code DIR}; entries of this layer stay, wherever they are in the archive;</li>
     * <li>other {@code .wh..wh.*} names (aufs bookkeeping) are skipped; hard links keep working.</li>
     * </ul>
     * Whiteouts only act on lower layers (image-spec "Whiteouts"). Returns the entries stored.
     */
    public static long addLayer(InputStream in, SquashfsWriter writer, SourceFilter filter) throws IOException {
        return add(in, writer, filter, new Layer(writer));
    }

    private static long add(InputStream in, SquashfsWriter writer, SourceFilter filter, Layer layer) throws IOException {
        SourceFilter.Matcher excluded = filter.matcher();
        XattrSelection xattrs = writer.keepsXattrs() ? filter.xattrSelection() : null;
        long n = 0;
        dev.cairn.io.TarHeaderGuard guard = new dev.cairn.io.TarHeaderGuard(decompress(in));
        try (TarArchiveInputStream tar = new TarArchiveInputStream(guard, StandardCharsets.UTF_8.name())) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String path = normalise(e.getName());
                if (path.isEmpty()) {
                    if (e.isDirectory()) {
                        writer.addDirectory("", metadata(e, filter, xattrs));
                    }
                    continue;
                }
                if (isExcluded(excluded, path)) {
                    continue;
                }
                if (layer != null && layer.whiteout(path)) {
                    continue;
                }
                EntryMetadata m = metadata(e, filter, xattrs);
                if (e.isLink()) {
                    writer.addHardLink(path, normalise(e.getLinkName()));
                } else if (e.isDirectory()) {
                    writer.addDirectory(path, m);
                } else if (e.isSymbolicLink()) {
                    writer.addSymlink(path, m, e.getLinkName());
                } else if (e.isCharacterDevice() || e.isBlockDevice()) {
                    writer.addDevice(path, m, e.isBlockDevice() ? 'b' : 'c', e.getDevMajor(), e.getDevMinor());
                } else if (e.isFIFO()) {
                    writer.addFifo(path, m);
                } else if (e.isFile()) {
                    // as mksquashfs -tar (4.6: a pseudo file with st_blocks = size unless sparse): an entry's
                    // zero blocks count as sparse in the inode only when the archive stores it sparse
                    writer.addFile(path, m, tar, e.isSparse() ? -1 : e.getSize());
                } else {
                    throw new dev.cairn.io.FormatException("tar entry type", path,
                            "unsupported tar entry type '" + (char) e.getLinkFlag() + "'");
                }
                if (layer != null) {
                    layer.added(path);
                }
                n++;
            }
        }
        if (xattrs != null) {
            for (String w : xattrs.warnings()) {
                writer.warning(w);
            }
        }
        if (guard.bytesPassed() < 512) { // the tar reader takes a short input for an empty archive
            throw new dev.cairn.io.FormatException("tar", guard.bytesPassed(), "not a tar archive: it ends after "
                    + guard.bytesPassed() + " bytes, before the first 512-byte header");
        }
        return n;
    }

    /** What one layer has stored so far, so that its whiteouts act on the lower layers only. */
    private static final class Layer {
        private static final String WHITEOUT = ".wh.";
        private static final String OPAQUE = ".wh..wh..opq";
        private final SquashfsWriter writer;
        private final Set<String> added = new HashSet<>();
        private final Set<String> ancestors = new HashSet<>();

        Layer(SquashfsWriter writer) {
            this.writer = writer;
        }

        void added(String path) {
            added.add(path);
            for (int s = path.lastIndexOf('/'); s > 0; s = path.lastIndexOf('/', s - 1)) {
                if (!ancestors.add(path.substring(0, s))) {
                    break;
                }
            }
        }

        /** True when {@code path} is a whiteout (now applied) rather than an entry to store. */
        boolean whiteout(String path) throws IOException {
            int slash = path.lastIndexOf('/');
            String dir = slash < 0 ? "" : path.substring(0, slash);
            String base = path.substring(slash + 1);
            if (!base.startsWith(WHITEOUT)) {
                return false;
            }
            SquashfsWriter.split(path); // refuses '..' and other bad names before anything is removed
            if (base.equals(OPAQUE)) {
                prune(dir);
                return true;
            }
            if (base.startsWith(WHITEOUT + WHITEOUT)) {
                return true;
            }
            String name = base.substring(WHITEOUT.length());
            if (name.isEmpty() || name.equals(".") || name.equals("..")) {
                throw new FormatException("whiteout", path, "a whiteout must name an entry");
            }
            String target = dir.isEmpty() ? name : dir + "/" + name;
            if (!added.contains(target) && !ancestors.contains(target)) {
                writer.remove(target);
            }
            return true;
        }

        /** Removes what lower layers put below {@code dir}, keeping this layer's entries. */
        private void prune(String dir) {
            java.util.List<String> names = writer.childNames(dir);
            if (names == null) {
                return;
            }
            for (String name : names) {
                String p = dir.isEmpty() ? name : dir + "/" + name;
                if (added.contains(p) || ancestors.contains(p)) {
                    prune(p);
                } else {
                    writer.remove(p);
                }
            }
        }
    }

    private static boolean isExcluded(SourceFilter.Matcher m, String path) {
        String p = path;
        while (true) {
            if (m.excluded(p)) {
                return true;
            }
            int slash = p.lastIndexOf('/');
            if (slash < 0) {
                return false;
            }
            p = p.substring(0, slash);
        }
    }

    static InputStream decompress(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(8);
        byte[] magic = in.readNBytes(6);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new GzipCompressorInputStream(in, true);
        }
        if (magic.length >= 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            return new ZstdCompressorInputStream(in);
        }
        if (magic.length >= 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X'
                && magic[4] == 'Z' && magic[5] == 0) {
            return new XZCompressorInputStream(in, true);
        }
        return in;
    }

    static String normalise(String name) {
        String s = name;
        while (s.startsWith("./") || s.startsWith("/")) {
            s = s.substring(s.startsWith("/") ? 1 : 2);
        }
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s.equals(".") ? "" : s;
    }

    /** {@code xattrs} null: the writer drops extended attributes anyway. */
    private static EntryMetadata metadata(TarArchiveEntry e, SourceFilter filter, XattrSelection xattrs) throws IOException {
        long mtime = Math.floorDiv(e.getLastModifiedTime().toMillis(), 1000);
        long uid = e.getLongUserId();
        long gid = e.getLongGroupId();
        EntryMetadata m = new EntryMetadata(e.getMode() & 07777, uid, gid, mtime, xattrs == null ? null : xattrs.select(xattrs(e, xattrs)));
        return filter.apply(m);
    }

    private static SortedMap<String, byte[]> xattrs(TarArchiveEntry e, XattrSelection selection) throws IOException {
        Map<String, String> pax = e.getExtraPaxHeaders();
        if (pax.isEmpty()) {
            return null;
        }
        SortedMap<String, byte[]> out = new TreeMap<>();
        for (Map.Entry<String, String> h : pax.entrySet()) {
            String k = h.getKey();
            if (k.startsWith(LIBARCHIVE)) {
                out.put(k.substring(LIBARCHIVE.length()), Base64.getDecoder().decode(h.getValue()));
            }
        }
        for (Map.Entry<String, String> h : pax.entrySet()) {
            String k = h.getKey();
            String name = k.substring(Math.min(k.length(), SCHILY.length()));
            if (k.startsWith(SCHILY) && !out.containsKey(name)) {
                if (!XattrSelection.storable(name) || !selection.wanted(name)) {
                    // select() leaves it out (counting what SquashFS cannot store, a binary ACL say): its value is never used
                    out.put(name, new byte[0]);
                    continue;
                }
                if (h.getValue().indexOf('\uFFFD') >= 0) {
                    // Commons Compress decodes PAX values as UTF-8: a binary value would arrive corrupted.
                    throw new dev.cairn.io.UnsupportedFeatureException("xattr", e.getName() + " " + k,
                            "binary SCHILY.xattr value; write the archive with bsdtar (LIBARCHIVE.xattr, base64) instead");
                }
                out.put(k.substring(SCHILY.length()), h.getValue().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out;
    }
}
