package dev.cairn.erofs;

import java.util.ArrayList;
import java.util.List;

/**
 * The block placement policy of mkfs.erofs 1.8 ({@code lib/cache.c}, the "buffer manager"), modelled
 * so that cairn places every inode, inline tail, directory block and data block at the offset
 * mkfs.erofs would. It holds no bytes: it only answers "where".
 *
 * <p>Model: a list of buffer blocks in image order; a block is either DATA (always block-aligned,
 * inserted right after the last mapped block) or META (inodes, inline tails, directory blocks;
 * appended at the end of the list). Blocks get their address ("are mapped") in list order from a
 * running tail. META blocks with room are found again through buckets keyed by the offset used in
 * their last block, searched fullest-fit first, exactly as {@code erofs_bfind_for_attach} does.
 * mkfs.erofs's allocation policy is the specification here: changing anything in this class changes
 * the images' bytes.
 */
final class BlockAllocator {
    static final long NULL_ADDR = 0xFFFF_FFFFL;

    /** Allocation kinds, with the alignment mkfs.erofs uses for each ({@code get_alignsize}). */
    enum Kind {
        DATA, META, INODE, DIRA, DEVT
    }

    static final int BB_DATA = 0;
    static final int BB_META = 1;

    /** A run of blocks that buffers are placed in ({@code struct erofs_buffer_block}). */
    static final class Block {
        Block prev;
        Block next;
        long blkaddr = NULL_ADDR;
        final int type;
        long off;
        long nblocks;
        final List<Head> heads = new ArrayList<>();
        List<Block> bucket;

        Block(int type) {
            this.type = type;
        }
    }

    /** One placed buffer ({@code struct erofs_buffer_head}): a range starting at {@code off} in its block. */
    static final class Head {
        Block block;
        long off;
    }

    private final int blksz;
    private final int bits;
    private final long mask;
    private final Block head = new Block(-1);
    @SuppressWarnings("unchecked")
    private final List<Block>[][][] buckets = new List[2][2][];
    private long tail;
    private Block lastMapped;

    BlockAllocator(int blkszbits) {
        this.bits = blkszbits;
        this.blksz = 1 << blkszbits;
        this.mask = blksz - 1L;
        head.prev = head;
        head.next = head;
        lastMapped = head;
        for (int t = 0; t < 2; t++) {
            for (int m = 0; m < 2; m++) {
                buckets[t][m] = new List[blksz];
            }
        }
    }

    long tailBlkaddr() {
        return tail;
    }

    private static int alignOf(Kind kind, int blksz) {
        return switch (kind) {
            case DATA, DIRA -> blksz;
            case INODE -> 32;
            case META -> 1;
            case DEVT -> 128;
        };
    }

    private List<Block> bucket(int type, boolean mapped, int nr) {
        List<Block>[] row = buckets[type][mapped ? 1 : 0];
        if (row[nr] == null) {
            row[nr] = new ArrayList<>(2);
        }
        return row[nr];
    }

    private boolean bucketNonEmpty(int type, int mapped, int nr) {
        List<Block> b = buckets[type][mapped][nr];
        return b != null && !b.isEmpty();
    }

    private void updateWatermeter(Block bb, boolean free) {
        if (bb.bucket != null) {
            bb.bucket.remove(bb);
            bb.bucket = null;
        }
        if (free) {
            return;
        }
        List<Block> b = bucket(bb.type, bb.blkaddr != NULL_ADDR, (int) (bb.off & mask));
        b.add(bb);
        bb.bucket = b;
    }

    private static long roundUp(long v, long a) {
        return (v + a - 1) / a * a;
    }

    /** {@code __erofs_battach}: occupied bytes in the last block, or a negative error (-1 no space, -2 invalid). */
    private long attach(Block bb, Head bh, long incr, int alignsize, int inlineExt, boolean dryrun) {
        long boff = bb.off;
        long aligned = roundUp(boff, alignsize);
        if (((aligned + incr + mask) & mask) + inlineExt > mask) {
            return -1;
        }
        int oob = Long.compare(aligned + incr + inlineExt, bb.nblocks << bits);
        boolean tailUpdate = false;
        long blkaddr = NULL_ADDR;
        if (oob >= 0) {
            if (oob > 0 && bb.next.blkaddr != NULL_ADDR) {
                return -2;
            }
            blkaddr = bb.blkaddr;
            if (blkaddr != NULL_ADDR) {
                tailUpdate = tail == blkaddr + bb.nblocks;
                if (oob > 0 && !tailUpdate) {
                    return -2;
                }
            }
        }
        if (!dryrun) {
            if (bh != null) {
                bh.off = aligned;
                bh.block = bb;
                bb.heads.add(bh);
            }
            boff = aligned + incr;
            bb.off = boff;
            bb.nblocks = Math.max(bb.nblocks, (boff + mask) >> bits);
            if (tailUpdate) {
                tail = blkaddr + bb.nblocks;
            }
            updateWatermeter(bb, false);
        }
        return ((aligned + incr + mask) & mask) + 1;
    }

    private int findNextBit(int type, int mapped, int size, int offset) {
        for (int b = offset; b < size; b++) {
            if (bucketNonEmpty(type, mapped, (int) (mask - b))) {
                return b;
            }
        }
        return size;
    }

    /** {@code __find_next_bucket}: index[0] is the search cursor. */
    private boolean findNextBucket(int type, int mapped, long[] index, long end) {
        long l = index[0];
        if (l <= end) {
            return false;
        }
        l = mask - (l & mask);
        long r = mask - (end & mask);
        if (l >= r) {
            l = findNextBit(type, mapped, blksz, (int) l);
            if (l < blksz) {
                index[0] = index[0] / blksz * blksz + mask - l;
                return true;
            }
            l = 0;
            index[0] -= blksz;
        }
        l = findNextBit(type, mapped, (int) r, (int) l);
        if (l >= r) {
            return false;
        }
        index[0] = index[0] / blksz * blksz + mask - l;
        return true;
    }

    private Block findForAttach(int type, long size, int inlineExt, int alignsize) {
        if (alignsize == blksz) {
            return null;
        }
        long usedmax = 0;
        Block bb = null;
        int mapped = 2;
        long used0 = (blksz - ((size + inlineExt) & mask)) / alignsize * alignsize;
        long end = blksz;
        if (size + inlineExt >= blksz) {
            mapped--;
        }
        long[] index = {used0 + blksz};
        while (mapped > 0) {
            mapped--;
            for (; findNextBucket(type, mapped, index, end); index[0]--) {
                int used = (int) (index[0] & mask);
                List<Block> bt = buckets[type][mapped][used];
                int pos = 0;
                Block cur = bt.get(pos);
                if (mapped != 0 && cur.next.blkaddr == NULL_ADDR) {
                    // skip the last mapped block (tried on its own below)
                    if (bt.size() < 2) {
                        continue;
                    }
                    cur = bt.get(1);
                }
                long ret = attach(cur, null, size, alignsize, inlineExt, true);
                if (ret < 0) {
                    continue;
                }
                long u = ret + inlineExt;
                if (u > usedmax) {
                    usedmax = u;
                    bb = cur;
                }
                break;
            }
            end = used0 + alignsize - 1;
            index[0] = used0 + blksz;
            Block cur = lastMapped;
            if (mapped != 0 && cur != head && cur.type == type) {
                long ret = attach(cur, null, size, alignsize, inlineExt, true);
                if (ret >= 0) {
                    long u = ret + inlineExt;
                    if (u > usedmax) {
                        usedmax = u;
                        bb = cur;
                    }
                }
            }
        }
        return bb;
    }

    private static void insertAfter(Block pos, Block bb) {
        bb.prev = pos;
        bb.next = pos.next;
        pos.next.prev = bb;
        pos.next = bb;
    }

    /** {@code erofs_balloc}; null when the buffer (with its inline extension) cannot be placed (ENOSPC). */
    Head balloc(Kind kind, long size, int inlineExt) {
        int alignsize = alignOf(kind, blksz);
        int type = kind == Kind.DATA ? BB_DATA : BB_META;
        Block bb = findForAttach(type, size, inlineExt, alignsize);
        if (bb == null) {
            bb = new Block(type);
            if (type == BB_DATA) {
                insertAfter(lastMapped, bb);
            } else {
                insertAfter(head.prev, bb);
            }
        }
        Head bh = new Head();
        long ret = attach(bb, bh, size, alignsize, inlineExt, false);
        if (ret == -1) {
            return null; // the new block stays in the list, empty, as in mkfs.erofs
        }
        if (ret < 0) {
            throw new IllegalStateException("EROFS block placement failed (" + ret + ")");
        }
        return bh;
    }

    /** {@code erofs_battach}: a buffer right after {@code bh}, which must be its block's last. */
    Head battach(Head bh, Kind kind, long size) {
        Block bb = bh.block;
        if (bb.heads.get(bb.heads.size() - 1) != bh) {
            throw new IllegalStateException("not the tail buffer");
        }
        Head nbh = new Head();
        long ret = attach(bb, nbh, size, alignOf(kind, blksz), 0, false);
        if (ret < 0) {
            throw new IllegalStateException("EROFS inline placement failed (" + ret + ")");
        }
        return nbh;
    }

    /** {@code erofs_bh_balloon}: grows the tail buffer of a block; returns the bytes used in its last block. */
    long balloon(Head bh, long incr) {
        Block bb = bh.block;
        if (bb.heads.get(bb.heads.size() - 1) != bh) {
            throw new IllegalStateException("not the tail buffer");
        }
        long ret = attach(bb, null, incr, 1, 0, false);
        if (ret < 0) {
            throw new IllegalStateException("EROFS balloon failed (" + ret + ")");
        }
        return ret;
    }

    /** {@code erofs_reserve_sb}: the superblock's 1152 bytes at the very start of block 0. */
    Head reserveSuperblock() {
        Head bh = balloc(Kind.META, 0, 0);
        balloon(bh, 1152);
        map(bh.block);
        if (tell(bh, false) != 0) {
            throw new IllegalStateException("superblock not at 0");
        }
        return bh;
    }

    private void mapOne(Block bb) {
        if (bb.blkaddr == NULL_ADDR) {
            bb.blkaddr = tail;
            lastMapped = bb;
            updateWatermeter(bb, false);
        }
        long b = bb.blkaddr + bb.nblocks;
        if (b > tail) {
            tail = b;
        }
    }

    /** {@code erofs_mapbh}: maps every block up to {@code bb} (all blocks for null); returns the tail. */
    long map(Block bb) {
        if (bb != null && bb.blkaddr != NULL_ADDR) {
            return bb.blkaddr;
        }
        Block t = lastMapped;
        do {
            t = t.next;
            if (t == head) {
                break;
            }
            mapOne(t);
        } while (t != bb);
        return tail;
    }

    /** {@code erofs_btell}: the byte position of a buffer (or of its end); the block must be mapped. */
    long tell(Head bh, boolean end) {
        Block bb = bh.block;
        if (bb.blkaddr == NULL_ADDR) {
            throw new IllegalStateException("block not mapped");
        }
        long off = bh.off;
        if (end) {
            int i = bb.heads.indexOf(bh);
            off = i + 1 < bb.heads.size() ? bb.heads.get(i + 1).off : bb.off;
        }
        return (bb.blkaddr << bits) + off;
    }

    /** {@code erofs_bdrop} (without revoking): forgets a buffer; an emptied block is freed. */
    void drop(Head bh) {
        Block bb = bh.block;
        bb.heads.remove(bh);
        if (!bb.heads.isEmpty()) {
            return;
        }
        if (bb == lastMapped) {
            lastMapped = bb.prev;
        }
        updateWatermeter(bb, true);
        bb.prev.next = bb.next;
        bb.next.prev = bb.prev;
    }

    /** The first {@code erofs_bflush}: maps all remaining blocks in list order. */
    long mapAll() {
        for (Block p = head.next; p != head; p = p.next) {
            mapOne(p);
        }
        return tail;
    }
}
