package dev.cairn.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The placement rules of mkfs.erofs 1.8's buffer manager, one at a time. */
class BlockAllocatorTest {
    final BlockAllocator a = new BlockAllocator(12);

    @Test
    void theSuperblockPinsBlockZeroAndTheFirstInodeFollowsIt() {
        BlockAllocator.Head sb = a.reserveSuperblock();
        assertThat(a.tell(sb, false)).isZero();
        assertThat(a.tell(sb, true)).isEqualTo(1152);
        BlockAllocator.Head root = a.balloc(BlockAllocator.Kind.INODE, 32, 53);
        a.map(root.block);
        assertThat(a.tell(root, false)).isEqualTo(1152); // nid 36
        BlockAllocator.Head tail = a.battach(root, BlockAllocator.Kind.META, 53);
        assertThat(a.tell(tail, false)).isEqualTo(1184);
        // the next inode is 32-byte aligned after the inline tail
        BlockAllocator.Head next = a.balloc(BlockAllocator.Kind.INODE, 64, 0);
        assertThat(a.tell(next, false)).isEqualTo(1248);
    }

    @Test
    void dataIsMappedAtTheTailAtOnceAndMetadataBlocksWaitForTheirTurn() {
        a.reserveSuperblock();
        BlockAllocator.Head d1 = a.balloc(BlockAllocator.Kind.DATA, 3 * 4096, 0);
        a.map(d1.block);
        assertThat(d1.block.blkaddr).isEqualTo(1);
        // a full block of inodes: no room in block 0 (1152 used + 3000 > 4096) => a new, unmapped meta block
        BlockAllocator.Head big = a.balloc(BlockAllocator.Kind.INODE, 3000, 0);
        assertThat(big.block.blkaddr).isEqualTo(BlockAllocator.NULL_ADDR);
        BlockAllocator.Head d2 = a.balloc(BlockAllocator.Kind.DATA, 4096, 0);
        a.map(d2.block);
        assertThat(d2.block.blkaddr).isEqualTo(4); // data goes before the waiting meta block
        // a directory block (block aligned, meta) maps every meta block queued before it
        BlockAllocator.Head dira = a.balloc(BlockAllocator.Kind.DIRA, 4096, 0);
        a.map(dira.block);
        assertThat(big.block.blkaddr).isEqualTo(5);
        assertThat(dira.block.blkaddr).isEqualTo(6);
        assertThat(a.mapAll()).isEqualTo(7);
    }

    @Test
    void inlineDataThatCannotShareABlockWithItsInodeIsRefused() {
        a.reserveSuperblock();
        // 64-byte inode + 4040 bytes of tail cannot sit in one block with anything: ENOSPC (null)
        assertThat(a.balloc(BlockAllocator.Kind.INODE, 64, 4040)).isNull();
        // 64 + 4000 fits a fresh block, never block 0 (1152 used)
        BlockAllocator.Head h = a.balloc(BlockAllocator.Kind.INODE, 64, 4000);
        assertThat(h).isNotNull();
        a.mapAll();
        assertThat(a.tell(h, false)).isEqualTo(4096);
    }

    @Test
    void theLastMappedBlockAtTheTailGrowsAcrossABlockBoundary() {
        a.reserveSuperblock();
        BlockAllocator.Head x = a.balloc(BlockAllocator.Kind.INODE, 2900, 0); // block 0: 1152 + 2900 = 4052
        assertThat(x.block.blkaddr).isZero();
        // block 0 is the last mapped block and ends at the tail: the next inode runs on into block 1
        // (mkfs.erofs 1.8 does this too; the kernel reads inodes across block boundaries)
        BlockAllocator.Head y = a.balloc(BlockAllocator.Kind.INODE, 64, 0);
        assertThat(y.block).isSameAs(x.block);
        assertThat(a.tell(y, false)).isEqualTo(4064);
        assertThat(a.tailBlkaddr()).isEqualTo(2);
        // data mapped behind it: the rest of block 1 is still used, but no inode may run past it now
        BlockAllocator.Head d = a.balloc(BlockAllocator.Kind.DATA, 4096, 0);
        a.map(d.block);
        assertThat(d.block.blkaddr).isEqualTo(2);
        BlockAllocator.Head z = a.balloc(BlockAllocator.Kind.INODE, 3000, 0); // 4128 + 3000 <= 8192
        assertThat(a.tell(z, false)).isEqualTo(4128);
        BlockAllocator.Head w = a.balloc(BlockAllocator.Kind.INODE, 2000, 0); // 7136 + 2000 > 8192: a new block
        assertThat(w.block).isNotSameAs(x.block);
        assertThat(a.mapAll()).isEqualTo(4);
        assertThat(a.tell(w, false)).isEqualTo(3 * 4096);
    }

    @Test
    void droppingTheLastMappedDataBlockRollsTheMappingPointerBack() {
        a.reserveSuperblock();
        BlockAllocator.Head d = a.balloc(BlockAllocator.Kind.DATA, 4096, 0);
        a.map(d.block);
        a.drop(d);
        BlockAllocator.Head e = a.balloc(BlockAllocator.Kind.DATA, 4096, 0);
        a.map(e.block);
        assertThat(e.block.blkaddr).isEqualTo(2); // blocks are never given back
    }
}
