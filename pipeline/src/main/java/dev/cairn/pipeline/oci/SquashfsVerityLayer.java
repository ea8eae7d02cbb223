package dev.cairn.pipeline.oci;

import dev.cairn.oci.Descriptor;
import dev.cairn.oci.Digest;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciLayout;
import dev.cairn.squashfs.Compression;
import dev.cairn.squashfs.DirectorySource;
import dev.cairn.squashfs.SourceFilter;
import dev.cairn.squashfs.SquashfsOptions;
import dev.cairn.squashfs.SquashfsResult;
import dev.cairn.squashfs.SquashfsWriter;
import dev.cairn.squashfs.TarSource;
import dev.cairn.verity.VerityFormatter;
import dev.cairn.verity.VerityParams;
import dev.cairn.verity.VerityProgress;
import dev.cairn.verity.VerityResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * A stacker/atomfs SquashFS layer: the squashfs module writes the image (padded to 4 KiB), the
 * verity module appends superblock and hash tree (sha256, 4096/4096, 32-byte salt) at that
 * offset, and the oci module stores the whole file as one blob. Only {@code cli} knows all three.
 *
 * <p>Salt and superblock UUID are derived from the SquashFS bytes, so the same tree always gives
 * the same blob: salt = SHA-256("cairn oci squashfs verity salt\0" ‖ SHA-256(squashfs)), UUID =
 * the first 16 bytes of SHA-256("cairn oci squashfs verity uuid\0" ‖ SHA-256(squashfs)) with the
 * RFC 4122 version 4 / variant bits set.
 */
public final class SquashfsVerityLayer {
    private SquashfsVerityLayer() {
    }

    public record Result(Descriptor layer, SquashfsResult squashfs, VerityResult verity) {
    }

    public static Result build(OciLayout layout, Path source, Compression comp, long mtime, int threads) throws IOException {
        Path temp = layout.tempFile();
        try {
            SquashfsOptions o = SquashfsOptions.defaults(comp).withTime(mtime);
            SquashfsResult sq;
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 SquashfsWriter w = new SquashfsWriter(ch, o)) {
                if (Files.isDirectory(source)) {
                    DirectorySource.add(source, w, new SourceFilter(List.of(), 0L, 0L), Set.of(layout.dir().toAbsolutePath().normalize()));
                } else if (Files.isRegularFile(source)) {
                    try (InputStream in = Files.newInputStream(source)) {
                        TarSource.add(in, w, new SourceFilter(List.of(), null, null));
                    }
                } else {
                    throw new java.nio.file.NoSuchFileException(source.toString(), null, "no such directory or tar archive");
                }
                sq = w.finish();
            }
            byte[] content = sha256Of(temp);
            byte[] salt = derive("cairn oci squashfs verity salt\0", content);
            byte[] u = derive("cairn oci squashfs verity uuid\0", content);
            u[6] = (byte) ((u[6] & 0x0f) | 0x40);
            u[8] = (byte) ((u[8] & 0x3f) | 0x80);
            ByteBuffer b = ByteBuffer.wrap(u);
            UUID uuid = new UUID(b.getLong(), b.getLong());
            VerityParams p = VerityParams.defaults(salt, uuid).withHashOffset(sq.imageSize());
            VerityResult v = VerityFormatter.format(temp, temp, p, threads, VerityProgress.NONE);
            String type = comp == Compression.ZSTD ? MediaTypes.STACKER_SQUASHFS_ZSTD : MediaTypes.STACKER_SQUASHFS_GZIP;
            Descriptor d = layout.ingest(temp, type).withAnnotation(MediaTypes.ATOMFS_VERITY_ROOT_HASH, v.rootHashHex());
            return new Result(d, sq, v);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static byte[] sha256Of(Path p) throws IOException {
        MessageDigest md = Digest.newSha256();
        try (InputStream in = Files.newInputStream(p)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }

    private static byte[] derive(String label, byte[] content) {
        MessageDigest md = Digest.newSha256();
        md.update(label.getBytes(StandardCharsets.US_ASCII));
        return md.digest(content);
    }
}
