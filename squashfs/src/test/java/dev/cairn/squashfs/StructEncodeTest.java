package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** On-disk structures: known values → expected bytes, and back. */
class StructEncodeTest {
    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Test
    void superblockRoundTripsAndSizeIs96() throws FormatException {
        Superblock sb = new Superblock(3, 1700000000L, 131072, 1, Compression.ZSTD, 17, 0x00c0, 1, 0x0000_0000_0123L, 4000,
                3900, Superblock.ABSENT, 3000, 3500, 3800, 3850);
        byte[] b = sb.encode();
        assertThat(b).hasSize(Superblock.SIZE);
        assertThat(hex(b)).startsWith("68737173" + "03000000" + "00f15365" + "00000200" + "01000000" + "0600" + "1100" + "c000"
                + "0100" + "0400" + "0000");
        assertThat(Superblock.decode(b, 4096)).isEqualTo(sb);
        b[22] = 16; // block_log no longer matches
        assertThatThrownBy(() -> Superblock.decode(b, 4096)).isInstanceOf(FormatException.class).hasMessageContaining("block_log");
    }

    @Test
    void inodesEncodeFieldsAtTheirOffsets() throws FormatException {
        Inode.Header h = new Inode.Header(Inode.FILE, 0644, 0, 1, 100, 7);
        byte[] f = new Inode.File(h, 96, 5, 0, 1, 0, 16, Inode.NO_XATTR, new int[0]).encode();
        assertThat(hex(f)).isEqualTo("0200a401" + "00000100" + "64000000" + "07000000" + "60000000" + "00000000" + "10000000" + "05000000");
        byte[] dev = new Inode.Device(new Inode.Header(Inode.CHRDEV, 0600, 0, 0, 0, 2), 1, Inode.encodeDev(5, 1), Inode.NO_XATTR).encode();
        assertThat(dev).hasSize(24);
        assertThat(hex(dev)).endsWith("01000000" + "01050000");
        assertThat(Inode.encodeDev(1, 3)).isEqualTo(259);
        assertThat(Inode.encodeDev(7, 0)).isEqualTo(1792);
        assertThat(Inode.encodeDev(250, 300)).isEqualTo((250L << 8) | (300 & 0xff) | ((300L & ~0xff) << 12));
        byte[] dir = new Inode.Directory(new Inode.Header(Inode.LDIR, 0755, 0, 0, 0, 9), 10, 2, 20000, 5, 10, Inode.NO_XATTR,
                List.of(new Inode.DirIndex(8188, 8194, "x".getBytes()))).encode();
        assertThat(dir).hasSize(40 + 12 + 1);
        assertThat(hex(dir).substring(64, 80)).isEqualTo("0100" + "0500" + "ffffffff");
    }

    @Test
    void pseudoDefinitionsParseLikeMksquashfs() {
        PseudoDefinition d = PseudoDefinition.parse("\"dev/my console\" c 0600 0 5 5 1", "t");
        assertThat(d).isEqualTo(new PseudoDefinition("dev/my console", 'c', 0600, 0, 5, 5, 1, null));
        assertThat(PseudoDefinition.parse("a\\ b l target", "t").target()).isEqualTo("target");
        assertThat(PseudoDefinition.parse("run/x i 644 0 0 s", "t").target()).isEqualTo("s");
        assertThatThrownBy(() -> PseudoDefinition.parse("x c 600 0 0 5", "defs:3")).hasMessageContaining("defs:3");
        assertThatThrownBy(() -> PseudoDefinition.parse("x d 999 0 0", "t")).hasMessageContaining("octal");
        assertThatThrownBy(() -> PseudoDefinition.parse("x f 644 0 0 date", "t")).hasMessageContaining("shell commands");
        assertThat(PseudoDefinition.parseFile(List.of("# c", "", "x d 755 0 0"), "f")).hasSize(1);
    }
}
