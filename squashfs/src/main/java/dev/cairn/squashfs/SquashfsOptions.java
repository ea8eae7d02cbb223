package dev.cairn.squashfs;

/**
 * How {@link SquashfsWriter} builds an image. Defaults follow mksquashfs: gzip level 9, 128 KiB
 * blocks, fragments for small files only (no tail packing), duplicate detection, export table.
 *
 * @param compression          compressor
 * @param level                compression level (for lz4: 0 fast, anything else high-compression)
 * @param blockSize            data block size, a power of two from 4 KiB to 1 MiB
 * @param fragments            pack small files into shared fragment blocks
 * @param alwaysUseFragments   also pack the tails of larger files (mksquashfs -always-use-fragments)
 * @param duplicates           store files with identical content once
 * @param sparse               store all-zero blocks as holes
 * @param xattrs               keep extended attributes
 * @param exportable           write the NFS export table
 * @param forcedMtime          when non-null, every inode's mtime
 * @param mkfsTime             superblock creation time (never the clock: reproducible by default)
 * @param processors           compression threads
 * @param compressMetadata     compress the inode, directory, fragment, id and xattr tables (mksquashfs -noI -noD… when false)
 * @param clampMtime           when non-null, no inode's mtime is later than this (SOURCE_DATE_EPOCH)
 */
public record SquashfsOptions(Compression compression, int level, int blockSize, boolean fragments,
                              boolean alwaysUseFragments, boolean duplicates, boolean sparse, boolean xattrs,
                              boolean exportable, Long forcedMtime, long mkfsTime, int processors, Long clampMtime, boolean compressMetadata) {
    public static final int DEFAULT_BLOCK_SIZE = 128 * 1024;

    public SquashfsOptions {
        if (compression == null) {
            throw new IllegalArgumentException("compression is required");
        }
        if (blockSize < 4096 || blockSize > (1 << 20) || Integer.bitCount(blockSize) != 1) {
            throw new IllegalArgumentException("block size must be a power of two from 4K to 1M, not " + blockSize);
        }
        if (processors < 1) {
            throw new IllegalArgumentException("processors must be at least 1");
        }
        if (mkfsTime < 0 || mkfsTime > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("mkfs time must fit in 32 unsigned bits: " + mkfsTime);
        }
        if (forcedMtime != null && (forcedMtime < 0 || forcedMtime > 0xFFFF_FFFFL)) {
            throw new IllegalArgumentException("mtime must fit in 32 unsigned bits: " + forcedMtime);
        }
        if (clampMtime != null && (clampMtime < 0 || clampMtime > 0xFFFF_FFFFL)) {
            throw new IllegalArgumentException("clamp time must fit in 32 unsigned bits: " + clampMtime);
        }
    }

    /** mksquashfs defaults for {@code compression}, one thread per available processor. */
    public static SquashfsOptions defaults(Compression compression) {
        return new SquashfsOptions(compression, compression.defaultLevel(), DEFAULT_BLOCK_SIZE, true, false, true, true,
                true, true, null, 0, Runtime.getRuntime().availableProcessors(), null, true);
    }

    public SquashfsOptions withLevel(int v) {
        return new SquashfsOptions(compression, v, blockSize, fragments, alwaysUseFragments, duplicates, sparse, xattrs, exportable, forcedMtime, mkfsTime, processors, clampMtime, compressMetadata);
    }

    public SquashfsOptions withBlockSize(int v) {
        return new SquashfsOptions(compression, level, v, fragments, alwaysUseFragments, duplicates, sparse, xattrs, exportable, forcedMtime, mkfsTime, processors, clampMtime, compressMetadata);
    }

    public SquashfsOptions withFragments(boolean v, boolean always) {
        return new SquashfsOptions(compression, level, blockSize, v, always, duplicates, sparse, xattrs, exportable, forcedMtime, mkfsTime, processors, clampMtime, compressMetadata);
    }

    public SquashfsOptions withDuplicates(boolean v) {
        return new SquashfsOptions(compression, level, blockSize, fragments, alwaysUseFragments, v, sparse, xattrs, exportable, forcedMtime, mkfsTime, processors, clampMtime, compressMetadata);
    }

    public SquashfsOptions withXattrs(boolean v) {
        return new SquashfsOptions(compression, level, blockSize, fragments, alwaysUseFragments, duplicates, sparse, v, exportable, forcedMtime, mkfsTime, processors, clampMtime, compressMetadata);
    }

    public SquashfsOptions withExportable(boolean v) {
        return new SquashfsOptions(compression, level, blockSize, fragments, alwaysUseFragments, duplicates, sparse, xattrs, v, forcedMtime, mkfsTime, processors, clampMtime, compressMetadata);
    }

    public SquashfsOptions withSparse(boolean v) {
        return new SquashfsOptions(compression, level, blockSize, fragments, alwaysUseFragments, duplicates, v, xattrs, exportable, forcedMtime, mkfsTime, processors, clampMtime, compressMetadata);
    }

    /** Sets every inode's mtime and the creation time (mksquashfs -all-time + -mkfs-time). */
    public SquashfsOptions withTime(long epochSeconds) {
        return new SquashfsOptions(compression, level, blockSize, fragments, alwaysUseFragments, duplicates, sparse, xattrs, exportable, epochSeconds, epochSeconds, processors, clampMtime, compressMetadata);
    }

    public SquashfsOptions withProcessors(int v) {
        return new SquashfsOptions(compression, level, blockSize, fragments, alwaysUseFragments, duplicates, sparse, xattrs, exportable, forcedMtime, mkfsTime, v, clampMtime, compressMetadata);
    }

    /**
     * SOURCE_DATE_EPOCH semantics (as mksquashfs): the creation time is {@code epochSeconds} and no
     * inode is newer than it.
     */
    public SquashfsOptions withSourceDateEpoch(long epochSeconds) {
        return new SquashfsOptions(compression, level, blockSize, fragments, alwaysUseFragments, duplicates, sparse, xattrs, exportable, forcedMtime, epochSeconds, processors, epochSeconds, compressMetadata);
    }

    /** Stores all metadata tables uncompressed (for inspection with a hex editor and crafted test images). */
    public SquashfsOptions withCompressMetadata(boolean v) {
        return new SquashfsOptions(compression, level, blockSize, fragments, alwaysUseFragments, duplicates, sparse, xattrs, exportable, forcedMtime, mkfsTime, processors, clampMtime, v);
    }
}
