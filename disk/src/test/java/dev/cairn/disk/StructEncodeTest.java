package dev.cairn.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.io.FormatException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Every on-disk struct: known values give the expected bytes, and SIZE is what is written. The
 * expected GPT bytes are systemd-repart 252's (the 42 184 704-byte image of ddi-sysext.md §3.1),
 * the FAT bytes mkfs.fat 4.2's, the VHD footer qemu-img 7.2's.
 */
class StructEncodeTest {
    static final HexFormat HEX = HexFormat.of();
    static final UUID DISK = UUID.fromString("a5c297da-ee09-4294-b4ec-5007a97cdfc3");

    static byte[] hex(String s) {
        return HEX.parseHex(s.replace(" ", ""));
    }

    @Test
    void protectiveMbr() {
        byte[] b = ProtectiveMbr.forDisk(82392).encode();
        assertThat(b).hasSize(ProtectiveMbr.SIZE);
        assertThat(Arrays.copyOfRange(b, 446, 462)).isEqualTo(hex("00 000200 ee ffffff 01000000 d7410100"));
        assertThat(Arrays.copyOfRange(b, 510, 512)).isEqualTo(hex("55aa"));
        byte[] rest = b.clone();
        Arrays.fill(rest, 446, 462, (byte) 0);
        rest[510] = 0;
        rest[511] = 0;
        assertThat(rest).isEqualTo(new byte[512]);
        assertThat(ProtectiveMbr.forDisk(1L << 40).sizeInLba()).isEqualTo(0xFFFF_FFFFL);
    }

    @Test
    void gptHeadersAsRepartWroteThem() {
        GptHeader primary = GptHeader.create(1, 82391, 2048, 82358, DISK, 2, 128, 128, 0xcb944a5fL);
        assertThat(primary.encode()).hasSize(GptHeader.SIZE).isEqualTo(hex(
                "4546492050415254 00000100 5c000000 5ff4ef0e 00000000 0100000000000000 d741010000000000 0008000000000000"
                        + " b641010000000000 da97c2a509ee9442b4ec5007a97cdfc3 0200000000000000 80000000 80000000 5f4a94cb"));
        assertThat(primary.headerCrc32()).isEqualTo(0x0eeff45fL);
        GptHeader backup = GptHeader.create(82391, 1, 2048, 82358, DISK, 82359, 128, 128, 0xcb944a5fL);
        assertThat(backup.encode()).isEqualTo(hex(
                "4546492050415254 00000100 5c000000 69d2565e 00000000 d741010000000000 0100000000000000 0008000000000000"
                        + " b641010000000000 da97c2a509ee9442b4ec5007a97cdfc3 b741010000000000 80000000 80000000 5f4a94cb"));
        byte[] sector = primary.encodeSector(512);
        assertThat(sector).hasSize(512);
        assertThat(Arrays.copyOfRange(sector, 92, 512)).isEqualTo(new byte[420]);
    }

    @Test
    void gptHeaderDecodeRoundTrip() throws FormatException {
        GptHeader h = GptHeader.create(1, 82391, 2048, 82358, DISK, 2, 128, 128, 0xcb944a5fL);
        byte[] s = h.encodeSector(512);
        assertThat(GptHeader.decode(s, 512)).isEqualTo(h);
        assertThat(GptHeader.crcMatches(s, 92, h.headerCrc32())).isTrue();
        s[40] ^= 1;
        assertThat(GptHeader.crcMatches(s, 92, h.headerCrc32())).isFalse();
    }

    @Test
    void gptEntryAsRepartWroteIt() {
        GptEntry esp = new GptEntry(1, DpsType.ESP.uuid(), UUID.fromString("1247aedf-fbfd-4386-bb42-40ec6b712257"), 2048, 71679,
                0, "esp");
        byte[] b = esp.encode();
        assertThat(b).hasSize(GptEntry.SIZE);
        assertThat(Arrays.copyOf(b, 64)).isEqualTo(hex("28732ac11ff8d211ba4b00a0c93ec93b dfae4712fdfb8643bb4240ec6b712257"
                + " 0008000000000000 ff17010000000000 0000000000000000 6500730070000000"));
        assertThat(Arrays.copyOfRange(b, 64, 128)).isEqualTo(new byte[64]);
        GptEntry root = new GptEntry(2, DpsType.ROOT_X86_64.uuid(), UUID.fromString("8d658e63-b80f-4d1d-9959-1bab4b4345fa"),
                71680, 81919, DpsType.READ_ONLY | DpsType.GROW_FS, "root-x86-64");
        assertThat(Arrays.copyOf(root.encode(), 80)).isEqualTo(hex("e3bc684fcde8b14d96e7fbcaf984b709 638e658d0fb81d4d99591bab4b4345fa"
                + " 0018010000000000 ff3f010000000000 0000000000000018 72006f006f0074002d00780038003600 2d00360034000000"));
        assertThat(GptEntry.decode(root.encode(), 0, 2)).isEqualTo(root);
        String max = "x".repeat(35) + "✓";
        assertThat(GptEntry.decode(new GptEntry(3, DpsType.VAR.uuid(), DISK, 1, 2, 0, max).encode(), 0, 3).name()).isEqualTo(max);
    }

    @Test
    void fatBootSectorIsMkfsFats() {
        FatGeometry g = FatGeometry.of(33L << 20);
        byte[] b = FatBootSector.of(g, 0x26AAD50E, FatNames.volumeLabel("esp")).encode();
        assertThat(b).hasSize(FatBootSector.SIZE);
        // mkfs.fat 4.2 -F 32 -i 26aad50e -n ESP on a 33 MiB file, with our OEM name
        assertThat(Arrays.copyOf(b, 0x62)).isEqualTo(hex("eb5890 636169726e202020 0002 01 2000 02 0000 0000 f8 0000 2000 0800"
                + " 00000000 00080100 08020000 0000 0000 02000000 0100 0600 000000000000000000000000 80 00 29 0ed5aa26"
                + " 4553502020202020202020 4641543332202020 0e1fbe777cac22c0"));
        assertThat(new String(b, 0x77, 28, StandardCharsets.US_ASCII)).isEqualTo("This is not a bootable disk.");
        assertThat(Arrays.copyOfRange(b, 510, 512)).isEqualTo(hex("55aa"));
    }

    @Test
    void fsInfo() {
        byte[] b = new FatFsInfo(66511, 2).encode();
        assertThat(b).hasSize(FatFsInfo.SIZE);
        assertThat(Arrays.copyOf(b, 4)).isEqualTo(hex("52526141"));
        assertThat(Arrays.copyOfRange(b, 0x1E4, 0x200)).isEqualTo(hex("72724161 cf030100 02000000 000000000000000000000000 000055aa"));
    }

    @Test
    void directoryEntryAndTimes() {
        FatTime t = FatTime.of(1_426_325_213L); // 2015-03-14 09:26:53 UTC, mkfs.fat --invariant
        assertThat(t).isEqualTo(new FatTime(0x466e, 0x4b5a, 100));
        FatDirEntry label = FatDirEntry.of(FatNames.volumeLabel("ESP"), FatDirEntry.ATTR_VOLUME_ID, new FatTime(0x466e, 0x4b5a, 0), 0, 0);
        assertThat(label.encode()).hasSize(FatDirEntry.SIZE)
                .isEqualTo(hex("4553502020202020202020 08 00 00 5a4b 6e46 6e46 0000 5a4b 6e46 0000 00000000"));
        FatDirEntry file = FatDirEntry.of(FatNames.pack("BOOTX64", "EFI"), FatDirEntry.ATTR_ARCHIVE, t, 0x12345, 300_001);
        assertThat(file.encode()).isEqualTo(hex("424f4f5458363420454649 20 00 64 5a4b 6e46 6e46 0100 5a4b 6e46 4523 e1930400"));
        assertThat(FatDirEntry.decode(file.encode(), 0)).isEqualTo(file);
        assertThat(FatTime.of(0)).isEqualTo(new FatTime(0x21, 0, 0));
        assertThat(FatTime.toEpoch(0x466e, 0x4b5a)).isEqualTo(1_426_325_212L);
    }

    @Test
    void longNameEntry() {
        byte[] shortName = FatNames.pack("LINUX", "");
        assertThat(FatLfnEntry.checksum(shortName)).isEqualTo(0x3c);
        FatLfnEntry[] e = FatLfnEntry.forName("Linux", 0x3c);
        assertThat(e).hasSize(1);
        assertThat(e[0].encode()).hasSize(FatLfnEntry.SIZE)
                .isEqualTo(hex("41 4c00 6900 6e00 7500 7800 0f 00 3c 0000 ffff ffff ffff ffff ffff 0000 ffff ffff"));
        FatLfnEntry[] two = FatLfnEntry.forName("abcdefghijklmN", 1);
        assertThat(two).hasSize(2);
        assertThat(two[0].ord()).isEqualTo(0x42);
        assertThat(two[1].ord()).isEqualTo(0x01);
        assertThat(two[0].units()[0]).isEqualTo('N');
        assertThat(two[0].units()[1]).isEqualTo('\0');
        assertThat(two[0].units()[2]).isEqualTo('\uFFFF');
        assertThat(FatLfnEntry.forName("abcdefghijklm", 1)).hasSize(1); // exactly 13: no terminator
    }

    @Test
    void vhdFooterRoundTripsQemusOwn() throws FormatException {
        // qemu-img 7.2 `convert -O vpc -o subformat=fixed,force_size` of a 20 MiB raw file
        byte[] qemu = new byte[512];
        System.arraycopy(hex("636f6e6563746978 00000002 00010000 ffffffffffffffff 32a7d3aa 71656d32 00050003 5769326b"
                + " 0000000001400000 0000000001400000 ffff 10 ff 00000002 ffffe4c3 6c51f271587c4fa8a1109a3425644be5 00"), 0, qemu, 0, 85);
        VhdFooter f = VhdFooter.decode(qemu);
        assertThat(f.creatorApplication()).isEqualTo("qem2");
        assertThat(f.currentSize()).isEqualTo(20L << 20);
        assertThat(f.cylinders()).isEqualTo(65535);
        assertThat(f.uniqueId()).isEqualTo(UUID.fromString("6c51f271-587c-4fa8-a110-9a3425644be5"));
        assertThat(f.encode()).isEqualTo(qemu);
    }

    @Test
    void fixedVhdFooter() throws FormatException {
        UUID id = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
        byte[] b = VhdFooter.fixed(20L << 20, id, VhdFooter.VHD_EPOCH + 0x01020304);
        assertThat(b).hasSize(VhdFooter.SIZE);
        // 40960 sectors: 17 sectors/track gives 2409 cylinder-heads, 4 heads, 602 cylinders
        assertThat(Arrays.copyOf(b, 85)).isEqualTo(hex("636f6e6563746978 00000002 00010000 ffffffffffffffff 01020304 71656d32"
                + " 00000001 5769326b 0000000001400000 0000000001400000 025a 04 11 00000002 ffffe8dd"
                + " 00112233445566778899aabbccddeeff 00"));
        assertThat(Arrays.copyOfRange(b, 85, 512)).isEqualTo(new byte[427]);
        assertThat(VhdFooter.decode(b).checksum()).isEqualTo(0xffffe8ddL);
        assertThat(VhdFooter.forFixedDisk(1 << 20, id, 0).timestamp()).isZero();
    }
}
