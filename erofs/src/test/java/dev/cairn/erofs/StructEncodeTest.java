package dev.cairn.erofs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Each on-disk record encodes to the bytes mkfs.erofs 1.8.6 wrote for the same values. The expected
 * hex is copied from an image mkfs.erofs made of a two-file tar ({@code a} = "hello\n", {@code d/b}
 * = "world\n", mtime 1796552621.960685907) with containerd's options and
 * {@code -U 6ba7b810-9dad-11d1-80b4-00c04fd430c8}.
 */
class StructEncodeTest {
    static final HexFormat HEX = HexFormat.of();

    static String encoded(int size, java.util.function.BiConsumer<byte[], Integer> enc) {
        byte[] b = new byte[size + 8];
        enc.accept(b, 4);
        for (int i = 0; i < 4; i++) {
            assertThat(b[i]).as("writes nothing before its offset").isZero();
            assertThat(b[size + 4 + i]).as("writes nothing past SIZE").isZero();
        }
        return HEX.formatHex(b, 4, 4 + size);
    }

    @Test
    void superblock() {
        byte[] uuid = new byte[16];
        UUID u = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        java.nio.ByteBuffer.wrap(uuid).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        Superblock sb = new Superblock(0x4745d341L, 3, 12, 36, 4, 0, 0, 3, 0, 0, uuid, new byte[16], 0, 0, 0);
        assertThat(encoded(Superblock.SIZE, sb::encode)).isEqualTo(
                "e2e1f5e041d34547030000000c00240004000000000000000000000000000000"
                + "000000000300000000000000000000006ba7b8109dad11d180b400c04fd430c8"
                + "0000000000000000000000000000000000000000000000000000000000000000"
                + "0000000000000000000000000000000000000000000000000000000000000000");
    }

    /*
     * Tar-index records: the expected hex is copied from the image mkfs.erofs 1.8.6 made with
     * {@code --tar=i --aufs -T0 --mkfs-time --sort=none -U c1b9d5a2-f162-11cf-9ece-0020afc76f16} of
     * a GNU tar of {@code ./ ./l -> a ./a ("hello\n") ./d/ ./d/b (5000 bytes)}.
     */
    static final byte[] TAR_INDEX_UUID = HEX.parseHex("c1b9d5a2f16211cf9ece0020afc76f16");

    @Test
    void superblockOfATarIndexImage() {
        Superblock sb = new Superblock(0, Superblock.COMPAT_MTIME, 9, 0x28, 5, 0, 0, 4, 0, 0, TAR_INDEX_UUID,
                new byte[16], Superblock.INCOMPAT_DEVICE_TABLE, 1, 9);
        assertThat(encoded(Superblock.SIZE, sb::encode)).isEqualTo(
                "e2e1f5e0000000000200000009002800050000000000000000000000000000000000000004000000"
                + "0000000000000000c1b9d5a2f16211cf9ece0020afc76f16000000000000000000000000000000000800000000000100"
                + "09000000000000000000000000000000000000000000000000000000000000000000000000000000");
    }

    @Test
    void deviceSlotOfTheTar() {
        DeviceSlot slot = new DeviceSlot(new byte[64], 0x1c, 4);
        assertThat(encoded(DeviceSlot.SIZE, slot::encode)).isEqualTo("00".repeat(64) + "1c00000004000000"
                + "00".repeat(56));
    }

    @Test
    void chunkIndexesIntoTheTar() {
        assertThat(encoded(ChunkIndex.SIZE, new ChunkIndex(0, 1, 9)::encode)).isEqualTo("0000010009000000");
        assertThat(encoded(ChunkIndex.SIZE, new ChunkIndex(0, 1, 0x10)::encode)).isEqualTo("0000010010000000");
    }

    @Test
    void compactInodeOfTheRoot() {
        CompactInode root = new CompactInode(ErofsTarWriter.LAYOUT_FLAT_INLINE << 1, 0, 040777, 3, 0x35,
                0xFFFF_FFFFL, 1, 0, 0);
        assertThat(encoded(CompactInode.SIZE, root::encode))
                .isEqualTo("04000000ff4103003500000000000000ffffffff010000000000000000000000");
    }

    @Test
    void extendedInodeOfAFile() {
        ExtendedInode a = new ExtendedInode(1, 0, 0100644, 6, 1, 2, 0, 0, 0x6b1537adL, 0x3942e753L, 1);
        assertThat(encoded(ExtendedInode.SIZE, a::encode)).isEqualTo(
                "01000000a4810000060000000000000001000000020000000000000000000000"
                + "ad37156b0000000053e742390100000000000000000000000000000000000000");
    }

    @Test
    void direntAndTheRootDirectoryBlock() {
        assertThat(encoded(Dirent.SIZE, new Dirent(0x24, 0x30, ErofsTarWriter.FT_DIR)::encode))
                .isEqualTo("240000000000000030000200");
        ErofsTarWriter.Node root = new ErofsTarWriter.Node();
        root.nid = 0x24;
        ErofsTarWriter.Node a = new ErofsTarWriter.Node();
        a.nid = 0x27;
        ErofsTarWriter.Node d = new ErofsTarWriter.Node();
        d.nid = 0x29;
        List<ErofsTarWriter.Dentry> entries = List.of(new ErofsTarWriter.Dentry(new byte[] {'.'}, root, 2),
                new ErofsTarWriter.Dentry(new byte[] {'.', '.'}, root, 2), new ErofsTarWriter.Dentry(new byte[] {'a'}, a, 1),
                new ErofsTarWriter.Dentry(new byte[] {'d'}, d, 2));
        assertThat(HEX.formatHex(ErofsTarWriter.dirBlock(entries, 0x35))).isEqualTo(
                "240000000000000030000200" + "240000000000000031000200" + "270000000000000033000100"
                + "290000000000000034000200" + "2e2e2e6164");
    }

    @Test
    void xattrHeaderAndEntry() {
        assertThat(encoded(XattrIbodyHeader.SIZE, new XattrIbodyHeader(0xFFFF_FFF9L, 0)::encode))
                .isEqualTo("f9ffffff0000000000000000");
        assertThat(encoded(XattrEntry.SIZE, new XattrEntry(7, 1, 3)::encode)).isEqualTo("07010300");
    }

    @Test
    void directorySizeNeverSplitsAnEntryAcrossBlocks() {
        // 4 entries of 1000-byte names (1012 bytes each): 4048 in block 0; a fifth starts block 1
        byte[] n = new byte[1000];
        assertThat(ErofsTarWriter.dirSize(List.of(n, n, n, n))).isEqualTo(4048);
        assertThat(ErofsTarWriter.dirSize(List.of(n, n, n, n, n))).isEqualTo(4096 + 1012);
        assertThat(ErofsTarWriter.dirSize(List.of(new byte[1], new byte[2]))).isEqualTo(27);
    }

    @Test
    void superblockChecksumIsTheInverseOfCrc32c() {
        byte[] check = "123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        // CRC-32C check value 0xE3069283 (RFC 3720); erofs stores crc32c(~0, ..) without the final xor
        assertThat(Superblock.checksum(check, 0, check.length)).isEqualTo(~0xE3069283L & 0xFFFF_FFFFL);
    }

    @Test
    void xxh32MatchesTheReferenceVectors() {
        // xxHash reference: XXH32("", 0) = 0x02CC5D05, XXH32("abc", 0) = 0x32D153FF
        assertThat(Xxh32.hash(new byte[0], 0, 0, 0)).isEqualTo(0x02CC5D05);
        assertThat(Xxh32.hash("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, 3, 0)).isEqualTo(0x32D153FF);
        byte[] longer = "Nobody inspects the spammish repetition".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(Xxh32.hash(longer, 0, longer.length, 0)).isEqualTo(0xE2293B2F);
    }
}
