package dev.cairn.pipeline.sysext;

import dev.cairn.signing.KeyMaterial;
import dev.cairn.squashfs.Compression;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One extension image for {@link SysextBuilder#build}. Make one with {@link #builder}.
 *
 * @param source          a directory, or a tar archive (plain, gzip, zstd or xz), holding the extension's tree:
 *                        {@code usr/} and {@code opt/} for a sysext, {@code etc/} for a confext
 * @param output          the image file to write; its name must be {@code NAME.raw}
 * @param release         the extension-release file cairn writes into the image (kind, name, ID, versions, architecture)
 * @param format          a GPT disk image with verity partitions, or the naked SquashFS with verity sidecar files
 * @param key             the key that signs the root hash (a {@code verity}-role key); null: unsigned
 * @param compression     the SquashFS compressor
 * @param allRoot         store every entry as owned by 0:0 (mksquashfs {@code -all-root})
 * @param sourceDateEpoch every time stamp in the image (SquashFS inodes and creation time), seconds since 1970
 * @param threads         compression and hashing threads (the output does not depend on it)
 */
public record SysextRequest(Path source, Path output, ExtensionRelease release, Format format, KeyMaterial key,
                            Compression compression, boolean allRoot, long sourceDateEpoch, int threads) {
    /** What {@link SysextBuilder} writes. */
    public enum Format {
        /**
         * A Discoverable Disk Image: root, root-verity and (signed) root-verity-sig partitions, typed for the
         * release's architecture (x86-64 when it names none or {@code _any}).
         */
        DDI,
        /**
         * The naked SquashFS as {@code NAME.raw}, with the sidecar files systemd looks for beside it:
         * {@code NAME.verity} (verity superblock and hash tree), {@code NAME.roothash} and, signed,
         * {@code NAME.roothash.p7s}.
         */
        SQUASHFS
    }

    public SysextRequest {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(output, "output");
        Objects.requireNonNull(release, "release");
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(compression, "compression");
        ExtensionRelease.checkFileName(output, release.name());
        if (sourceDateEpoch < 0 || sourceDateEpoch > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("the source date epoch must be 0 … 2^32-1 (SquashFS time stamps), not " + sourceDateEpoch);
        }
        if (threads < 1 || threads > 1024) {
            throw new IllegalArgumentException("threads must be between 1 and 1024, not " + threads);
        }
    }

    public static Builder builder(Path source, Path output, ExtensionRelease release) {
        return new Builder(source, output, release);
    }

    /** Whether the root hash gets signed. */
    public boolean signed() {
        return key != null;
    }

    /** A mutable builder for {@link SysextRequest}; source, output and release are required, the rest optional. */
    public static final class Builder {
        private final Path source;
        private final Path output;
        private final ExtensionRelease release;
        private Format format = Format.DDI;
        private KeyMaterial key;
        private Compression compression = Compression.GZIP;
        private boolean allRoot = true;
        private long sourceDateEpoch;
        private int threads = 1;

        private Builder(Path source, Path output, ExtensionRelease release) {
            this.source = source;
            this.output = output;
            this.release = release;
        }

        /** Default {@link Format#DDI}. */
        public Builder format(Format f) {
            this.format = f;
            return this;
        }

        /** The signing key; default none (unsigned). */
        public Builder key(KeyMaterial k) {
            this.key = k;
            return this;
        }

        /** Default gzip (mksquashfs's default; every kernel with SquashFS reads it). */
        public Builder compression(Compression c) {
            this.compression = c;
            return this;
        }

        public Builder allRoot(boolean on) {
            this.allRoot = on;
            return this;
        }

        /** Default 0. */
        public Builder sourceDateEpoch(long seconds) {
            this.sourceDateEpoch = seconds;
            return this;
        }

        /** Default 1. */
        public Builder threads(int n) {
            this.threads = n;
            return this;
        }

        public SysextRequest build() {
            return new SysextRequest(source, output, release, format, key, compression, allRoot, sourceDateEpoch, threads);
        }
    }
}
