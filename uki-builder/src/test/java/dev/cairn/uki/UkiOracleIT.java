package dev.cairn.uki;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** cairn-built UKIs (Debian's stub and kernel) checked by objdump, objcopy, pefile and systemd-measure. */
class UkiOracleIT {
    @TempDir
    static Path dir;
    static Path uki;
    static Path initrd;
    static UkiBuilder.Prepared prepared;

    @BeforeAll
    static void build() throws IOException {
        initrd = dir.resolve("initrd.img");
        Files.write(initrd, SeededData.bytes(7, 300_001));
        Path extra = dir.resolve("initrd2.img");
        Files.write(extra, SeededData.bytes(8, 1003));
        prepared = UkiBuilder.prepare(new UkiBuilder.Inputs(UkiFixtures.stub(), UkiFixtures.kernel(), List.of(initrd, extra),
                "console=ttyS0 quiet".getBytes(StandardCharsets.US_ASCII), "ID=cairn\nNAME=cairn test\n".getBytes(StandardCharsets.UTF_8),
                null, null, null, null, null, List.of()));
        uki = dir.resolve("uki.efi");
        UkiLayout.Plan plan = UkiLayout.plan(prepared.stubBytes(), prepared.sections(), prepared.kernelNxCompat());
        try (FileChannel ch = FileChannel.open(uki, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            UkiWriter.write(plan, ch, "SHA-256", List.of());
        }
    }

    record ObjdumpSection(String name, long size, long vma, long fileOffset) {
    }

    static List<ObjdumpSection> objdump(Path file) {
        String out = ToolOracle.require("objdump", "binutils").runOk("-h", file.toString()).stdout();
        Pattern p = Pattern.compile("^\\s*\\d+\\s+(\\S+)\\s+([0-9a-f]+)\\s+([0-9a-f]+)\\s+[0-9a-f]+\\s+([0-9a-f]+)", Pattern.MULTILINE);
        Matcher m = p.matcher(out);
        List<ObjdumpSection> s = new ArrayList<>();
        while (m.find()) {
            s.add(new ObjdumpSection(m.group(1), Long.parseLong(m.group(2), 16), Long.parseLong(m.group(3), 16),
                    Long.parseLong(m.group(4), 16)));
        }
        return s;
    }

    @Test
    void objdumpListsEverySectionAlignedWithoutOverlap() {
        List<ObjdumpSection> s = objdump(uki);
        assertThat(s).extracting(ObjdumpSection::name).containsSubsequence(".text", ".osrel", ".cmdline", ".uname", ".initrd",
                ".linux", ".sbat");
        long end = 0;
        for (ObjdumpSection x : s) {
            assertThat(x.vma()).as("%s starts after the previous section", x.name()).isGreaterThanOrEqualTo(end);
            end = x.vma() + x.size();
            if (List.of(".osrel", ".cmdline", ".uname", ".initrd", ".linux", ".sbat").contains(x.name())) {
                assertThat(x.vma() % 0x200).as("%s VMA aligned to SectionAlignment", x.name()).isZero();
                assertThat(x.fileOffset() % 0x200).as("%s file offset aligned", x.name()).isZero();
            }
        }
    }

    @Test
    void objcopyDumpsEachSectionsExactBytes() throws IOException {
        ToolOracle objcopy = ToolOracle.require("objcopy", "binutils");
        byte[] expectedInitrd = new byte[300_004 + 1004];
        System.arraycopy(Files.readAllBytes(initrd), 0, expectedInitrd, 0, 300_001);
        System.arraycopy(SeededData.bytes(8, 1003), 0, expectedInitrd, 300_004, 1003);
        check(objcopy, ".initrd", expectedInitrd);
        check(objcopy, ".linux", Files.readAllBytes(UkiFixtures.kernel()));
        check(objcopy, ".cmdline", "console=ttyS0 quiet".getBytes(StandardCharsets.US_ASCII));
        check(objcopy, ".osrel", "ID=cairn\nNAME=cairn test\n".getBytes(StandardCharsets.UTF_8));
        String sbat = new String(dump(objcopy, ".sbat"), StandardCharsets.UTF_8);
        assertThat(sbat).startsWith(Sbat.HEADER + "\nsystemd,1,").contains("\n" + Sbat.UKI_LINE + "\n").endsWith("\n\0");
        assertThat(new String(dump(objcopy, ".uname"), StandardCharsets.US_ASCII))
                .isEqualTo(UkiFixtures.kernel().getFileName().toString().substring("vmlinuz-".length()));
    }

    private static void check(ToolOracle objcopy, String name, byte[] expected) throws IOException {
        assertThat(dump(objcopy, name)).as(name).isEqualTo(expected);
    }

    private static byte[] dump(ToolOracle objcopy, String name) throws IOException {
        Path out = dir.resolve("dump" + name);
        Files.deleteIfExists(out);
        objcopy.runOk("--dump-section", name + "=" + out, uki.toString(), dir.resolve("scratch.efi").toString());
        return Files.readAllBytes(out);
    }

    @Test
    void pefileParsesWithNoWarningBeyondTheStubsOwn() {
        ToolOracle.requireFile(Path.of("/usr/lib/python3/dist-packages/pefile.py"), "python3-pefile");
        ToolOracle python = ToolOracle.requireAt(Path.of("/usr/bin/python3"), "python3");
        String script = "import pefile,sys\npe=pefile.PE(sys.argv[1])\nprint('WARN:'+repr(pe.get_warnings()))\n"
                + "print('CHK', pe.OPTIONAL_HEADER.CheckSum == pe.generate_checksum())\n"
                + "print('SECTIONS', ' '.join(s.Name.rstrip(b'\\0').decode() for s in pe.sections))\n";
        String ours = python.runOk("-c", script, uki.toString()).stdout();
        String stubs = python.runOk("-c", script, UkiFixtures.stub().toString()).stdout();
        // Debian's 252 stub itself draws "Overlapping offsets in relocation data at RVA: 0x374a"; we add nothing.
        assertThat(ours.lines().filter(l -> l.startsWith("WARN:")).findFirst())
                .isEqualTo(stubs.lines().filter(l -> l.startsWith("WARN:")).findFirst());
        assertThat(ours).contains("CHK True").contains("SECTIONS .text .reloc .data .dynamic .rela .dynsym .sdmagic .osrel .cmdline "
                + ".uname .initrd .linux .sbat");
    }

    @Test
    void systemdMeasureAgreesWithSplashDevicetreePcrpkeyAndEveryPhase() throws IOException {
        Path splash = Files.write(dir.resolve("splash.bmp"), SeededData.bytes(21, 5000));
        Path dtb = Files.write(dir.resolve("board.dtb"), SeededData.bytes(22, 777));
        byte[] pcrpkey = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n".getBytes(StandardCharsets.US_ASCII);
        UkiBuilder.Prepared p = UkiBuilder.prepare(new UkiBuilder.Inputs(UkiFixtures.stub(), UkiFixtures.kernel(), List.of(initrd),
                "quiet".getBytes(StandardCharsets.US_ASCII), "ID=cairn\n".getBytes(StandardCharsets.UTF_8), null, splash, dtb, null, pcrpkey,
                List.of()));
        Path uki2 = dir.resolve("uki2.efi");
        try (FileChannel ch = FileChannel.open(uki2, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            UkiWriter.write(UkiLayout.plan(p.stubBytes(), p.sections(), p.kernelNxCompat()), ch, "SHA-256", List.of());
        }
        ToolOracle measure = ToolOracle.requireAt(Path.of("/usr/lib/systemd/systemd-measure"), "systemd");
        UkiFile f = UkiFile.open(uki2);
        List<String> args = new ArrayList<>(List.of("calculate"));
        for (String name : List.of(".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey")) {
            Path out = dir.resolve("m2" + name);
            Files.write(out, f.section(name).orElseThrow().toBytes(Integer.MAX_VALUE - 8));
            args.add("--" + name.substring(1) + "=" + out);
        }
        // .uname and .sbat are in this UKI but the 252 stub does not measure them (and systemd-measure 252 has no option for them)
        assertThat(f.section(".uname")).isPresent();
        List<String> phases = new ArrayList<>(PcrPredictor.DEFAULT_PHASES);
        phases.add(":");
        phases.add("enter-initrd:leave-initrd:sysinit:ready:shutdown:final");
        phases.forEach(ph -> args.add("--phase=" + ph));
        String expected = measure.run(java.time.Duration.ofMinutes(2), dir, args, null).assertExit(0).stdout();
        List<PcrPredictor.Bank> banks = List.of(PcrPredictor.Bank.values());
        StringBuilder sb = new StringBuilder();
        for (PcrPredictor.Prediction x : PcrPredictor.predict(MeasurementRule.SYSTEMD_252, f.measuredSections(MeasurementRule.SYSTEMD_252,
                banks), banks, phases.stream().sorted().toList())) {
            sb.append("11:").append(x.bank().id()).append('=').append(x.hex()).append('\n');
        }
        assertThat(sb.toString()).isEqualTo(expected).hasLineCount(4 * 6);
    }

    @Test
    void systemdMeasureAgreesOnPcr11ForThe252Stub() throws IOException {
        ToolOracle measure = ToolOracle.requireAt(Path.of("/usr/lib/systemd/systemd-measure"), "systemd");
        assertThat(prepared.rule()).isEqualTo(MeasurementRule.SYSTEMD_252);
        UkiFile f = UkiFile.open(uki);
        List<String> args = new ArrayList<>(List.of("calculate"));
        for (String name : List.of(".linux", ".osrel", ".cmdline", ".initrd")) {
            Path p = dir.resolve("m" + name);
            Files.write(p, f.section(name).orElseThrow().toBytes(Integer.MAX_VALUE - 8));
            args.add("--" + name.substring(1) + "=" + p);
        }
        args.add("--phase=enter-initrd");
        args.add("--phase=:");
        String expected = measure.run(java.time.Duration.ofMinutes(2), dir, args, null).assertExit(0).stdout();
        List<PcrPredictor.Bank> banks = List.of(PcrPredictor.Bank.values());
        List<PcrPredictor.Prediction> ours = PcrPredictor.predict(MeasurementRule.SYSTEMD_252,
                f.measuredSections(MeasurementRule.SYSTEMD_252, banks), banks, List.of(":", "enter-initrd"));
        StringBuilder sb = new StringBuilder();
        for (PcrPredictor.Prediction p : ours) {
            sb.append("11:").append(p.bank().id()).append('=').append(p.hex()).append('\n');
        }
        assertThat(sb.toString()).isEqualTo(expected);
    }
}
