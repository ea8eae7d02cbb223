package dev.cairn.verity;

import dev.cairn.io.Align;

/**
 * The layout of a verity hash tree, computed from its parameters alone (cryptsetup's
 * {@code lib/verity/verity_hash.c}): digests per hash block, levels, and where each level sits.
 * Levels are numbered from 0 (the leaf level, hashes of data blocks) up; on disk the top level
 * comes first.
 */
record TreeGeometry(int digestSize, int slotSize, int hashesPerBlock, int hashBlockSize, long dataBlocks,
                    long hashStartBlock, long[] levelBlocks, long[] levelStart) {
    static final int MAX_LEVELS = 63;

    static TreeGeometry plan(VerityParams p, long dataBlocks) {
        if (dataBlocks <= 0) {
            throw new IllegalArgumentException("dataBlocks must be positive: " + dataBlocks);
        }
        int hbs = p.hashBlockSize();
        int digest = p.hash().digestSize();
        // Type 1 pads every digest to a power of two; type 0 packs them.
        int slot = p.hashType() == 1 ? Integer.highestOneBit(digest - 1) << 1 : digest;
        int perBlock = Integer.highestOneBit(hbs / digest);
        int shift = Integer.numberOfTrailingZeros(perBlock);
        int levels = 0;
        while (levels < MAX_LEVELS && ((dataBlocks - 1) >>> Math.min(63, levels * shift)) != 0) {
            levels++;
        }
        long hashStart = p.superblock()
                ? Align.ceilDiv(p.hashOffset() + VeritySuperblock.SIZE, hbs)
                : p.hashOffset() / hbs;
        long[] blocks = new long[levels];
        for (int i = 0; i < levels; i++) {
            int s = Math.min(63, (i + 1) * shift);
            blocks[i] = s >= 63 ? 1 : Align.ceilDiv(dataBlocks, 1L << s);
        }
        long[] start = new long[levels];
        long pos = hashStart;
        for (int i = levels - 1; i >= 0; i--) {
            start[i] = pos;
            pos += blocks[i];
        }
        return new TreeGeometry(digest, slot, perBlock, hbs, dataBlocks, hashStart, blocks, start);
    }

    int levels() {
        return levelBlocks.length;
    }

    long hashBlocks() {
        long n = 0;
        for (long b : levelBlocks) {
            n += b;
        }
        return n;
    }

    /** Byte just past the tree in the hash file. */
    long hashAreaEnd() {
        return (hashStartBlock + hashBlocks()) * hashBlockSize;
    }

    /** File offset of the digest slot for item {@code index} of the level below {@code level}. */
    long slotOffset(int level, long index) {
        return (levelStart[level] + index / hashesPerBlock) * hashBlockSize + (index % hashesPerBlock) * slotSize;
    }
}
