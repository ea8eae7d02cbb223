package dev.cairn.oci;

import dev.cairn.io.FormatException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes deterministic tar layers ({@code application/vnd.oci.image.layer.v1.tar[+gzip|+zstd]}):
 * entries sorted by UTF-8 byte order of their path (directories before their content), every
 * mtime the given time, owner 0:0 without names, permission bits kept, PAX headers for long names.
 * gzip carries no timestamp or name; zstd is single-threaded level 3. Both the layer digest and
 * the diff_id (digest of the uncompressed tar) are computed while writing.
 */
public final class TarLayerWriter {
    private TarLayerWriter() {
    }

    /** Layer compression. */
    public enum Compression {
        NONE(MediaTypes.LAYER_TAR), GZIP(MediaTypes.LAYER_TAR_GZIP), ZSTD(MediaTypes.LAYER_TAR_ZSTD);

        private final String mediaType;

        Compression(String mediaType) {
            this.mediaType = mediaType;
        }

        public String mediaType() {
            return mediaType;
        }
    }

    /** The stored layer and its diff_id. */
    public record TarLayer(Descriptor descriptor, Digest diffId, long entries, long uncompressedSize) {
    }

    /**
     * Writes the tree below {@code root} as a layer into {@code layout}; when the layout lies
     * inside the tree, its directory (with the blob being written) is not part of the layer.
     */
    public static TarLayer fromDirectory(OciLayout layout, Path root, Compression c, long mtime, Consumer<String> warn)
            throws IOException {
        if (!Files.isDirectory(root)) {
            throw new java.nio.file.NoSuchFileException(root.toString(), null, "not a directory");
        }
        Path self = layout.dir().toAbsolutePath().normalize();
        return write(layout, c, tar -> {
            long[] n = {0};
            addDir(tar, root, "", mtime, warn, n, self);
            return n[0];
        });
    }

    /**
     * A new entry with {@code e}'s name, type, link target, mode, device numbers and xattrs (PAX
     * {@code SCHILY.xattr.*}/{@code LIBARCHIVE.xattr.*}, in sorted order: overlay whiteouts such as
     * {@code user.overlay.opaque} travel this way); owners, times and size are the caller's choice.
     */
    public static TarArchiveEntry copyHeader(TarArchiveEntry e) {
        TarArchiveEntry o = new TarArchiveEntry(e.getName(), e.getLinkFlag());
        if (e.isSymbolicLink() || e.isLink()) {
            o.setLinkName(e.getLinkName());
        }
        o.setMode(e.getMode());
        if (e.isCharacterDevice() || e.isBlockDevice()) {
            o.setDevMajor(e.getDevMajor());
            o.setDevMinor(e.getDevMinor());
        }
        for (var h : new java.util.TreeMap<>(e.getExtraPaxHeaders()).entrySet()) {
            if (h.getKey().startsWith("SCHILY.xattr.") || h.getKey().startsWith("LIBARCHIVE.xattr.")) {
                o.addPaxHeader(h.getKey(), h.getValue());
            }
        }
        return o;
    }

    /**
     * Re-writes a tar archive (plain, gzip or zstd, detected by magic) as a layer, in its own entry
     * order, every mtime set to {@code mtime}, numeric owners kept, owner names dropped, devices
     * (overlay whiteouts are 0:0 character devices) and xattr records ({@code SCHILY.xattr.*},
     * {@code LIBARCHIVE.xattr.*}, e.g. {@code user.overlay.opaque}) kept.
     */
    public static TarLayer fromTar(OciLayout layout, Path tarFile, Compression c, long mtime) throws IOException {
        return write(layout, c, tar -> {
            long n = 0;
            try (InputStream raw = new BufferedInputStream(Files.newInputStream(tarFile));
                 TarArchiveInputStream in = new TarArchiveInputStream(new dev.cairn.io.TarHeaderGuard(decompress(raw)))) {
                for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                    TarArchiveEntry o = copyHeader(e);
                    normalise(o, mtime);
                    o.setUserId(e.getLongUserId()); // owners of a tar are meaningful (a rootfs); names are not kept
                    o.setGroupId(e.getLongGroupId());
                    if (e.isFile()) {
                        o.setSize(e.getSize());
                    }
                    tar.putArchiveEntry(o);
                    if (e.isFile()) {
                        in.transferTo(tar);
                    }
                    tar.closeArchiveEntry();
                    n++;
                }
            }
            return n;
        });
    }

    private interface Body {
        long write(TarArchiveOutputStream tar) throws IOException;
    }

    private static TarLayer write(OciLayout layout, Compression c, Body body) throws IOException {
        Path temp = layout.tempFile();
        try {
            MessageDigest blobMd = Digest.newSha256();
            MessageDigest tarMd = Digest.newSha256();
            long[] sizes = new long[2];
            long entries;
            try (OutputStream file = Files.newOutputStream(temp);
                 dev.cairn.io.CountingOutputStream blobCount = new dev.cairn.io.CountingOutputStream(new DigestOutputStream(file, blobMd));
                 OutputStream compressed = compressor(c, blobCount);
                 dev.cairn.io.CountingOutputStream tarCount = new dev.cairn.io.CountingOutputStream(new DigestOutputStream(compressed, tarMd));
                 TarArchiveOutputStream tar = new TarArchiveOutputStream(tarCount, StandardCharsets.UTF_8.name())) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                tar.setAddPaxHeadersForNonAsciiNames(true);
                entries = body.write(tar);
                tar.finish();
                tar.flush();
                tarCount.close();
                sizes[0] = blobCount.count();
                sizes[1] = tarCount.count();
            }
            Digest blob = Digest.sha256(blobMd.digest());
            Descriptor d = layout.adopt(temp, c.mediaType(), blob, sizes[0]);
            return new TarLayer(d, Digest.sha256(tarMd.digest()), entries, sizes[1]);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static OutputStream compressor(Compression c, OutputStream out) throws IOException {
        return switch (c) {
            case NONE -> new dev.cairn.io.NonClosingOutputStream(out);
            case GZIP -> new GZIPOutputStream(new dev.cairn.io.NonClosingOutputStream(out), 1 << 16);
            case ZSTD -> new com.github.luben.zstd.ZstdOutputStream(new dev.cairn.io.NonClosingOutputStream(out), 3);
        };
    }

    static InputStream decompress(InputStream in) throws IOException {
        in.mark(4);
        byte[] m = in.readNBytes(4);
        in.reset();
        if (m.length >= 2 && (m[0] & 0xff) == 0x1f && (m[1] & 0xff) == 0x8b) {
            return new GZIPInputStream(in, 1 << 16);
        }
        if (m.length == 4 && (m[0] & 0xff) == 0x28 && (m[1] & 0xff) == 0xb5 && (m[2] & 0xff) == 0x2f && (m[3] & 0xff) == 0xfd) {
            return new com.github.luben.zstd.ZstdInputStream(in);
        }
        return in;
    }

    private static void normalise(TarArchiveEntry e, long mtime) {
        e.setModTime(mtime * 1000);
        e.setUserId(0);
        e.setGroupId(0);
        e.setUserName("");
        e.setGroupName("");
    }

    private static void addDir(TarArchiveOutputStream tar, Path dir, String prefix, long mtime, Consumer<String> warn,
                               long[] n, Path skip) throws IOException {
        List<Path> children = new ArrayList<>();
        try (var s = Files.newDirectoryStream(dir)) {
            s.forEach(children::add);
        }
        children.sort((a, b) -> Arrays.compareUnsigned(utf8(a), utf8(b)));
        for (Path child : children) {
            if (child.toAbsolutePath().normalize().equals(skip)) {
                continue;
            }
            String name = prefix + child.getFileName().toString();
            PosixFileAttributes a = Files.readAttributes(child, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            int mode = mode(a.permissions());
            TarArchiveEntry e;
            if (a.isSymbolicLink()) {
                e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                e.setLinkName(Files.readSymbolicLink(child).toString());
                e.setMode(0120777);
            } else if (a.isDirectory()) {
                e = new TarArchiveEntry(name + "/");
                e.setMode(040000 | mode);
            } else if (a.isRegularFile()) {
                e = new TarArchiveEntry(name);
                e.setMode(0100000 | mode);
                e.setSize(a.size());
            } else {
                warn.accept(name + ": skipped (devices, fifos and sockets are not copied from a directory)");
                continue;
            }
            normalise(e, mtime);
            tar.putArchiveEntry(e);
            if (a.isRegularFile()) {
                long copied;
                try (InputStream in = Files.newInputStream(child)) {
                    copied = in.transferTo(tar);
                }
                if (copied != a.size()) {
                    throw new FormatException(name, copied, "file changed size while being archived");
                }
            }
            tar.closeArchiveEntry();
            n[0]++;
            if (a.isDirectory()) {
                addDir(tar, child, name + "/", mtime, warn, n, skip);
            }
        }
    }

    private static byte[] utf8(Path p) {
        return p.getFileName().toString().getBytes(StandardCharsets.UTF_8);
    }

    private static int mode(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) {
            m |= switch (p) {
                case OWNER_READ -> 0400;
                case OWNER_WRITE -> 0200;
                case OWNER_EXECUTE -> 0100;
                case GROUP_READ -> 040;
                case GROUP_WRITE -> 020;
                case GROUP_EXECUTE -> 010;
                case OTHERS_READ -> 04;
                case OTHERS_WRITE -> 02;
                case OTHERS_EXECUTE -> 01;
            };
        }
        return m;
    }

}
