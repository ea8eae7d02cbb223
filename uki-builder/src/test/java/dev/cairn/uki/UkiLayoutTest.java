package dev.cairn.uki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.TinyPe;
import dev.cairn.uki.pe.CoffHeader;
import dev.cairn.uki.pe.DataDirectory;
import dev.cairn.uki.pe.OptionalHeader;
import dev.cairn.uki.pe.PeChecksum;
import dev.cairn.uki.pe.PeImage;
import dev.cairn.uki.pe.SectionHeader;
import dev.cairn.uki.pe.WinCertificate;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PE structs, the UKI layout rules and the writer on synthetic images (no installed stub needed). */
class UkiLayoutTest {
    static final String SBAT = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
            + "systemd,1,The systemd Developers,systemd,252,https://systemd.io/\n";
    @TempDir
    Path dir;

    @Test
    void structsEncodeToTheirSpecLayout() throws FormatException {
        SectionHeader s = SectionHeader.of(".linux", 0x1234, 0x5000, 0x1400, 0x800, 0x6000_0020L);
        byte[] b = new byte[SectionHeader.SIZE];
        s.encode(b, 0);
        assertThat(HexFormat.of().formatHex(b)).isEqualTo("2e6c696e757800003412000000500000001400000008000000000000000000000000000020000060");
        assertThat(SectionHeader.decode(b, 0, 0)).isEqualTo(s);
        CoffHeader c = new CoffHeader(0x8664, 3, 0, 0, 0, 240, 0x206);
        byte[] cb = new byte[CoffHeader.SIZE];
        c.encode(cb, 0);
        assertThat(HexFormat.of().formatHex(cb)).isEqualTo("6486" + "0300" + "00000000" + "00000000" + "00000000" + "f000" + "0602");
        assertThat(CoffHeader.decode(cb, 0)).isEqualTo(c);
        byte[] dd = new byte[DataDirectory.SIZE];
        new DataDirectory(0x14568, 1536).encode(dd, 0);
        assertThat(HexFormat.of().formatHex(dd)).isEqualTo("6845010000060000");
        byte[] w = WinCertificate.pkcs7(new byte[] {0x30, 0x03, 1, 2, 3}).encode();
        assertThat(HexFormat.of().formatHex(w)).isEqualTo("0d000000000202003003010203000000");
        assertThat(WinCertificate.decodeTable(w, 0)).containsExactly(WinCertificate.pkcs7(new byte[] {0x30, 0x03, 1, 2, 3}));
    }

    @Test
    void optionalHeaderRoundTripsPe32Plus() throws FormatException {
        byte[] pe = TinyPe.stub(SBAT, "252.39-1~deb12u2");
        OptionalHeader o = OptionalHeader.decode(pe, 0x98, 240);
        assertThat(o.encodedSize()).isEqualTo(240);
        byte[] again = new byte[pe.length];
        System.arraycopy(pe, 0, again, 0, pe.length);
        o.encode(again, 0x98);
        assertThat(again).isEqualTo(pe);
        assertThat(o.sectionAlignment()).isEqualTo(0x200);
        assertThat(o.subsystem()).isEqualTo(10);
    }

    @Test
    void checksumIsTheSameWhateverTheChunking() {
        byte[] data = SeededData.bytes(5, 10_001);
        long whole = PeChecksum.of(data, 0x40);
        PeChecksum c = new PeChecksum();
        c.update(data, 0, 0x40);
        c.updateZeros(4);
        int pos = 0x44;
        int[] steps = {1, 3, 2, 7, 1000, 5, 4096};
        for (int i = 0; pos < data.length; i++) {
            int n = Math.min(steps[i % steps.length], data.length - pos);
            c.update(data, pos, n);
            pos += n;
        }
        assertThat(c.value()).isEqualTo(whole);
        // independent reference: word sum with end-around carry, CheckSum field skipped, plus length
        long sum = 0;
        for (int i = 0; i < data.length; i += 2) {
            if (i >= 0x40 && i < 0x44) {
                continue;
            }
            int word = (data[i] & 0xFF) | (i + 1 < data.length ? (data[i + 1] & 0xFF) << 8 : 0);
            sum += word;
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        assertThat(whole).isEqualTo((sum & 0xFFFF) + data.length);
    }

    @Test
    void checksumOfExtremeWordsMatchesTheWordByWordSum() {
        for (int fill : new int[] {0xFF, 0x00, 0x80, 0x01}) {
            byte[] data = new byte[(3 << 20) + 7];
            java.util.Arrays.fill(data, (byte) fill);
            data[5] = 0x12;
            long sum = 0;
            for (int i = 0; i < data.length; i += 2) {
                if (i >= 0x40 && i < 0x44) {
                    continue;
                }
                sum += (data[i] & 0xFF) | (i + 1 < data.length ? (data[i + 1] & 0xFF) << 8 : 0);
                sum = (sum & 0xFFFF) + (sum >>> 16);
            }
            assertThat(PeChecksum.of(data, 0x40)).as("fill %02x", fill).isEqualTo((sum & 0xFFFF) + data.length);
        }
    }

    private Path write(UkiLayout.Plan plan, String name) throws IOException {
        Path out = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            UkiWriter.write(plan, ch, "SHA-256", List.of());
        }
        return out;
    }

    private static List<UkiLayout.NewSection> sections(int n) {
        List<UkiLayout.NewSection> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add(new UkiLayout.NewSection(".s" + i, SectionData.of(SeededData.bytes(100 + i, 700 + i))));
        }
        return s;
    }

    @Test
    void newSectionsFollowAtSectionAlignmentWithExactSizes() throws IOException {
        byte[] stub = TinyPe.stub(SBAT, "252.39-1~deb12u2");
        UkiLayout.Plan plan = UkiLayout.plan(stub, sections(3), true);
        UkiFile f = UkiFile.open(write(plan, "a.efi"));
        List<SectionHeader> s = f.image().sections();
        assertThat(s).extracting(SectionHeader::name).containsExactly(".text", ".data", ".sbat", ".sdmagic", ".s0", ".s1", ".s2");
        long prevEnd = 0x3100 + s.get(3).virtualSize();
        for (SectionHeader x : s.subList(4, 7)) {
            assertThat(x.virtualAddress()).isEqualTo((prevEnd + 0x1FF) / 0x200 * 0x200);
            assertThat(x.pointerToRawData() % 0x200).isZero();
            assertThat(x.characteristics()).isEqualTo(SectionHeader.MEM_READ | SectionHeader.CNT_INITIALIZED_DATA);
            prevEnd = x.virtualEnd();
        }
        assertThat(s.get(5).virtualSize()).isEqualTo(701);
        assertThat(f.section(".s1").orElseThrow().toBytes(1 << 20)).isEqualTo(SeededData.bytes(101, 701));
        assertThat(f.section(".text").orElseThrow().toBytes(1 << 20)).isEqualTo(SeededData.bytes(1, 3000));
        assertThat(f.image().optional().sizeOfImage()).isEqualTo((prevEnd + 0x1FF) / 0x200 * 0x200);
        byte[] file = Files.readAllBytes(f.path());
        assertThat(f.image().optional().checkSum()).isEqualTo(PeChecksum.of(file, f.image().checksumOffset()));
    }

    @Test
    void headersGrowWhenTheFirstSectionLeavesRoomAndFailPreciselyOtherwise() throws IOException {
        // 0x400 of headers hold the table at 0x188 plus 15 headers; 4 exist, 11 fit: ask for 14.
        byte[] stub = TinyPe.stub(SBAT, "252");
        UkiLayout.Plan plan = UkiLayout.plan(stub, sections(14), true);
        assertThat(plan.notes()).anyMatch(n -> n.startsWith("grew SizeOfHeaders from 0x400 to 0x600"));
        UkiFile f = UkiFile.open(write(plan, "grown.efi"));
        assertThat(f.image().sections()).hasSize(18);
        assertThat(f.image().optional().sizeOfHeaders()).isEqualTo(0x600);
        assertThat(f.section(".text").orElseThrow().toBytes(1 << 20)).isEqualTo(SeededData.bytes(1, 3000));
        assertThat(f.section(".s13").orElseThrow().toBytes(1 << 20)).isEqualTo(SeededData.bytes(113, 713));

        byte[] tight = TinyPe.build(new TinyPe.Spec(0x200, 0x200, 0x400, 0, 0, List.of(
                new TinyPe.Section(".text", 0x400, SeededData.bytes(1, 100))), null));
        assertThat(UkiLayout.plan(tight, sections(14), true).sections()).hasSize(15);
        assertThatThrownBy(() -> UkiLayout.plan(tight, sections(15), true)).isInstanceOf(FormatException.class)
                .hasMessageContaining("not enough header space for 15 new section headers").hasMessageContaining("at most 14 can be added");
    }

    @Test
    void sbatReplacesInPlaceWhenItFitsAndMovesInsteadOfOverlapping() throws IOException {
        byte[] stub = TinyPe.stub(SBAT, "252");
        byte[] small = Sbat.merge(List.of(SBAT));
        UkiLayout.Plan inPlace = UkiLayout.plan(stub, List.of(new UkiLayout.NewSection(".sbat", SectionData.of(small))), true);
        assertThat(inPlace.notes()).isEmpty();
        UkiFile a = UkiFile.open(write(inPlace, "sbat-in-place.efi"));
        assertThat(a.image().sections()).extracting(SectionHeader::name).containsExactly(".text", ".data", ".sbat", ".sdmagic");
        assertThat(a.sectionBytes(".sbat").orElseThrow()).isEqualTo(small);

        byte[] big = Sbat.merge(List.of(SBAT, Sbat.UKI_LINE, "cairn.test,1,cairn,cairn,1,https://example.org/a-long-enough-url-to-overflow"));
        assertThat(big.length).isGreaterThan(0x100);
        UkiLayout.Plan moved = UkiLayout.plan(stub, List.of(new UkiLayout.NewSection(".sbat", SectionData.of(big))), true);
        assertThat(moved.notes()).anyMatch(n -> n.contains("moved it to a new section at the end"));
        UkiFile b = UkiFile.open(write(moved, "sbat-moved.efi"));
        assertThat(b.image().sections()).extracting(SectionHeader::name).containsExactly(".text", ".data", ".sdmagic", ".sbat");
        assertThat(b.sectionBytes(".sbat").orElseThrow()).isEqualTo(big);
    }

    @Test
    void refusesWhatItCannotHandleSafely() throws IOException {
        byte[] stub = TinyPe.stub(SBAT, "252");
        byte[] withTrailing = java.util.Arrays.copyOf(stub, stub.length + 16);
        withTrailing[withTrailing.length - 1] = 1;
        assertThatThrownBy(() -> UkiLayout.plan(withTrailing, sections(1), true)).hasMessageContaining("bytes of data after its last section");
        assertThatThrownBy(() -> UkiLayout.plan(stub, List.of(new UkiLayout.NewSection(".text", SectionData.of(new byte[1]))), true))
                .hasMessageContaining("already has a .text section");
        assertThatThrownBy(() -> UkiLayout.plan(stub, List.of(new UkiLayout.NewSection(".cmdline", SectionData.of(new byte[0]))), true))
                .hasMessageContaining("is empty");
        byte[] symbols = TinyPe.build(new TinyPe.Spec(0x200, 0x200, 0x400, 0, 0x100, List.of(
                new TinyPe.Section(".text", 0x1000, SeededData.bytes(1, 100))), TinyPe.symbolTable(3)));
        UkiLayout.Plan p = UkiLayout.plan(symbols, sections(1), false);
        assertThat(p.notes()).anyMatch(n -> n.startsWith("stripped the stub's COFF symbol table (3 symbols, 58 bytes)"))
                .anyMatch(n -> n.startsWith("cleared NX_COMPAT"));
        PeImage img = UkiFile.open(write(p, "stripped.efi")).image();
        assertThat(img.coff().pointerToSymbolTable()).isZero();
        assertThat(img.coff().characteristics() & CoffHeader.IMAGE_FILE_LOCAL_SYMS_STRIPPED).isNotZero();
        assertThat(img.optional().dllCharacteristics() & OptionalHeader.DLL_NX_COMPAT).isZero();
    }

    @Test
    void stubVersionSelectsTheMeasurementRule() {
        assertThat(StubInfo.fromSections("#### LoaderInfo: systemd-stub 252.39-1~deb12u2 ####".getBytes(StandardCharsets.US_ASCII), null)
                .orElseThrow().rule()).isEqualTo(MeasurementRule.SYSTEMD_252);
        assertThat(StubInfo.fromSections(null, SBAT.replace("252", "255").getBytes(StandardCharsets.US_ASCII)).orElseThrow().rule())
                .isEqualTo(MeasurementRule.SYSTEMD_253);
        assertThat(MeasurementRule.forVersion(258)).isEqualTo(MeasurementRule.SYSTEMD_257);
        assertThat(MeasurementRule.forVersion(249)).isEqualTo(MeasurementRule.SYSTEMD_252);
    }

    @Test
    void predictorMatchesTheReferenceVectors() {
        // reference uki-pe-secureboot.md §3.2: systemd-measure 252 on linux="fake-kernel-bytes", osrel="ID=debian\n", cmdline="quiet"
        List<PcrPredictor.Bank> banks = List.of(PcrPredictor.Bank.SHA256);
        List<PcrPredictor.SectionDigests> d = new ArrayList<>();
        try {
            d.add(PcrPredictor.digest(".linux", SectionData.of("fake-kernel-bytes".getBytes(StandardCharsets.US_ASCII)), banks));
            d.add(PcrPredictor.digest(".osrel", SectionData.of("ID=debian\n".getBytes(StandardCharsets.US_ASCII)), banks));
            d.add(PcrPredictor.digest(".cmdline", SectionData.of("quiet".getBytes(StandardCharsets.US_ASCII)), banks));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        List<PcrPredictor.Prediction> p = PcrPredictor.predict(MeasurementRule.SYSTEMD_252, d, banks, List.of(":", "enter-initrd",
                "enter-initrd:leave-initrd"));
        assertThat(p.get(0).hex()).isEqualTo("d43d411c8ab52e8772afd1cb19d00e2294780db55478f4d09edb957b4a65ea7d");
        assertThat(p.get(1).hex()).isEqualTo("e4e34d8c323cfc20671ccdf46fdd555d7957d8c572111db45083a021722e3873");
        assertThat(p.get(2).hex()).isEqualTo("4a5597cced3f6a5cb5e3a016762aa6ea858f8836842cbefc79615d2f27cf5e31");
    }
}
