package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.Systemd257;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.DebianBootFiles;
import dev.cairn.uki.UkiFile;
import dev.cairn.uki.UkiProfiles;
import dev.cairn.uki.pe.SectionHeader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn uki addon}, profile PEs and {@code --join-profile} side by side with Debian 13's ukify 257 (same
 * inputs: byte-identical images apart from the PE CheckSum, which ukify leaves 0 on unsigned output), PCR 11 of
 * every profile against systemd-measure 257, and {@code cairn pcr predict 12}.
 */
class UkiProfilesIT {
    @TempDir
    static Path dir;
    static Path kernel;
    static Path initrd;
    static Path osrel;
    static Path dtb;
    static Path ucode;
    static Path addonInitrd;

    @BeforeAll
    static void inputs() throws Exception {
        kernel = DebianBootFiles.kernel();
        initrd = Files.write(dir.resolve("initrd.img"), SeededData.bytes(31, 200_003));
        osrel = Files.write(dir.resolve("os-release"), "ID=cairn\nNAME=cairn test\n".getBytes(StandardCharsets.UTF_8));
        dtb = Files.write(dir.resolve("board.dtb"), SeededData.bytes(32, 777));
        ucode = Files.write(dir.resolve("ucode.cpio"), SeededData.bytes(33, 1001));
        addonInitrd = Files.write(dir.resolve("extra.cpio"), SeededData.bytes(34, 4001));
    }

    static ToolOracle.Result ukify(String... args) {
        List<String> a = new ArrayList<>(List.of("build"));
        a.addAll(List.of(args));
        return Systemd257.ukify().run(Duration.ofMinutes(3), dir, a, null);
    }

    static MainTest.Run cairn(String... args) {
        MainTest.Run r = run(args);
        assertThat(r.code()).as(r.err()).isZero();
        return r;
    }

    /** The file with its PE CheckSum zeroed (ukify writes 0 for unsigned images; cairn computes it). */
    static byte[] withoutChecksum(Path p) throws Exception {
        byte[] b = Files.readAllBytes(p);
        int pe = (b[0x3c] & 0xff) | (b[0x3d] & 0xff) << 8 | (b[0x3e] & 0xff) << 16;
        for (int i = 0; i < 4; i++) {
            b[pe + 24 + 64 + i] = 0;
        }
        return b;
    }

    static void assertSameButChecksum(Path ukify, Path cairn) throws Exception {
        assertThat(withoutChecksum(cairn)).as(cairn + " vs ukify's " + ukify).isEqualTo(Files.readAllBytes(ukify));
    }

    @Test
    void addonIsByteIdenticalToUkify257() throws Exception {
        Path stub = Systemd257.addonStub();
        Path theirs = dir.resolve("ukify.addon.efi");
        Path ours = dir.resolve("cairn.addon.efi");
        ukify("--stub", stub.toString(), "--cmdline", " foo=1   bar=2 ", "--devicetree", dtb.toString(), "--uname", "6.1.0-test",
                "--initrd", addonInitrd.toString(), "--microcode", ucode.toString(), "--output", theirs.toString()).assertExit(0);
        MainTest.Run r = cairn("uki", "addon", "--stub", stub.toString(), "--cmdline", " foo=1   bar=2 ", "--devicetree", dtb.toString(),
                "--uname", "6.1.0-test", "--initrd", addonInitrd.toString(), "--microcode", ucode.toString(), "--output", ours.toString());
        assertThat(r.out()).contains("sections .text .sdmagic .cmdline .dtb .uname .initrd .ucode .sbat");
        assertSameButChecksum(theirs, ours);
        assertThat(new String(UkiFile.open(ours).sectionBytes(".sbat").orElseThrow(), StandardCharsets.UTF_8))
                .isEqualTo("sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
                        + "uki-addon,1,UKI Addon,addon,1,https://www.freedesktop.org/software/systemd/man/latest/systemd-stub.html\n\0");
    }

    @Test
    void signedAddonHasUkifysAuthenticodeDigestAndVerifies() throws Exception {
        Path key = TestPki.get().secureBoot().writeKeyPem(dir.resolve("db.key"));
        Path cert = TestPki.get().secureBoot().writeCertPem(dir.resolve("db.crt"));
        Path theirs = dir.resolve("ukify-signed.addon.efi");
        Path ours = dir.resolve("cairn-signed.addon.efi");
        ukify("--stub", Systemd257.addonStub().toString(), "--cmdline", "quiet", "--secureboot-private-key", key.toString(),
                "--secureboot-certificate", cert.toString(), "--output", theirs.toString()).assertExit(0);
        cairn("uki", "addon", "--stub", Systemd257.addonStub().toString(), "--cmdline", "quiet", "--secureboot-private-key", key.toString(),
                "--secureboot-certificate", cert.toString(), "--output", ours.toString());
        assertThat(UkiFile.open(ours).authenticodeDigest("SHA-256")).isEqualTo(UkiFile.open(theirs).authenticodeDigest("SHA-256"));
        ToolOracle.require("sbverify", "sbsigntool").runOk("--cert", cert.toString(), ours.toString());
    }

    @Test
    void addonRefusesAKernel() throws Exception {
        MainTest.Run r = run("uki", "addon", "--stub", Systemd257.addonStub().toString(), "--cmdline", "x=1", "--section",
                ".linux:@" + kernel, "--output", dir.resolve("bad.addon.efi").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("no kernel");
        assertThat(dir.resolve("bad.addon.efi")).doesNotExist();
    }

    /** Two profile PEs and a multi-profile UKI joining them, built by ukify 257 and by cairn. */
    record Joined(Path ukify, Path cairn) {
    }

    static Joined join(String name, String... baseProfile) throws Exception {
        Path stub = Systemd257.addonStub();
        List<Path> pes = new ArrayList<>();
        String[][] profiles = {{"ID=debug\nTITLE=Debug", "console=ttyS0 debug"}, {"ID=rescue\nTITLE=Rescue", "console=ttyS0 rescue"}};
        for (int i = 0; i < profiles.length; i++) {
            Path theirs = dir.resolve(name + "-ukify-p" + i + ".efi");
            Path ours = dir.resolve(name + "-cairn-p" + i + ".efi");
            ukify("--stub", stub.toString(), "--profile", profiles[i][0], "--cmdline", profiles[i][1], "--output", theirs.toString())
                    .assertExit(0);
            cairn("uki", "build", "--stub", stub.toString(), "--profile", profiles[i][0], "--cmdline", profiles[i][1], "--output",
                    ours.toString());
            assertSameButChecksum(theirs, ours);
            pes.add(ours);
        }
        List<String> common = new ArrayList<>(List.of("--stub", Systemd257.linuxStub().toString(), "--linux", kernel.toString(),
                "--initrd", initrd.toString(), "--os-release", "@" + osrel, "--cmdline", "console=ttyS0 quiet", "--uname", "6.1.0-test"));
        common.addAll(List.of(baseProfile));
        for (Path p : pes) {
            common.add("--join-profile");
            common.add(p.toString());
        }
        Joined j = new Joined(dir.resolve(name + "-ukify.efi"), dir.resolve(name + "-cairn.efi"));
        List<String> u = new ArrayList<>(common);
        u.addAll(List.of("--output", j.ukify().toString()));
        ukify(u.toArray(String[]::new)).assertExit(0);
        List<String> c = new ArrayList<>(List.of("uki", "build"));
        c.addAll(common);
        c.addAll(List.of("--output", j.cairn().toString()));
        cairn(c.toArray(String[]::new));
        return j;
    }

    @Test
    void joinedProfilesAreByteIdenticalToUkify257AndInspectShowsThem() throws Exception {
        Joined j = join("main");
        assertSameButChecksum(j.ukify(), j.cairn());
        String out = cairn("uki", "inspect", j.cairn().toString()).out();
        assertThat(out).contains("profiles: 3").contains("@0 ID=main: .profile").contains("@1 ID=debug TITLE=Debug: .profile .cmdline")
                .contains("@2 ID=rescue TITLE=Rescue: .profile .cmdline");
        Joined named = join("named", "--profile", "ID=default\nTITLE=Default", "--microcode", ucode.toString());
        assertSameButChecksum(named.ukify(), named.cairn());
    }

    @Test
    void aProfilePeOnTheLinuxStubIsRefusedAsUkifyDoes() throws Exception {
        Path onLinuxStub = dir.resolve("linuxstub-profile.efi");
        ukify("--stub", Systemd257.linuxStub().toString(), "--profile", "ID=x", "--cmdline", "x=1", "--output", onLinuxStub.toString())
                .assertExit(0);
        ToolOracle.Result theirs = ukify("--stub", Systemd257.linuxStub().toString(), "--linux", kernel.toString(), "--uname", "6.1.0-test",
                "--join-profile", onLinuxStub.toString(), "--output", dir.resolve("refused-ukify.efi").toString());
        assertThat(theirs.exitCode()).isNotZero();
        assertThat(theirs.stderr()).contains("Expected .profile section as first valid section");
        MainTest.Run ours = run("uki", "build", "--stub", Systemd257.linuxStub().toString(), "--linux", kernel.toString(), "--uname",
                "6.1.0-test", "--no-os-release", "--join-profile", onLinuxStub.toString(), "--output", dir.resolve("refused.efi").toString());
        assertThat(ours.code()).isEqualTo(3);
        assertThat(ours.err()).contains("expected .profile as the first section to copy, found .sbat");
        assertThat(dir.resolve("refused.efi")).doesNotExist();
    }

    @Test
    void systemdMeasure257AgreesOnEveryProfilesPcr11() throws Exception {
        Joined j = join("measure", "--microcode", ucode.toString());
        UkiFile f = UkiFile.open(j.cairn());
        List<SectionHeader> s = f.image().sections();
        List<String> names = s.stream().map(SectionHeader::name).toList();
        List<String> measured = List.of(".linux", ".osrel", ".cmdline", ".initrd", ".ucode", ".splash", ".dtb", ".uname", ".sbat", ".pcrpkey",
                ".profile");
        for (int k = 0; k < 3; k++) {
            List<String> args = new ArrayList<>(List.of("calculate"));
            for (int i : UkiProfiles.select(names, k)) {
                if (measured.contains(names.get(i))) {
                    Path p = dir.resolve("p" + k + names.get(i));
                    Files.write(p, f.content(s.get(i)).toBytes(Integer.MAX_VALUE - 8));
                    args.add("--" + names.get(i).substring(1) + "=" + p);
                }
            }
            args.add("--phase=:");
            args.add("--phase=enter-initrd");
            String theirs = Systemd257.systemdMeasure().run(Duration.ofMinutes(2), dir, args, null).assertExit(0).stdout();
            String ours = cairn("uki", "measure", j.cairn().toString(), "--profile", String.valueOf(k), "--phase", ":", "--phase",
                    "enter-initrd").out();
            assertThat(ours).as("profile @%d", k).isEqualTo(theirs).hasLineCount(8);
            assertThat(cairn("pcr", "predict", "11", "--uki", j.cairn().toString(), "--profile", String.valueOf(k), "--phase", ":", "--phase",
                    "enter-initrd").out()).isEqualTo(theirs);
        }
        // and the profiles differ from each other (each has its own .cmdline and .profile)
        String all = cairn("uki", "measure", j.cairn().toString(), "--phase", ":", "--bank", "sha256").out();
        assertThat(all.lines().filter(l -> l.startsWith("11:")).distinct().count()).isEqualTo(3);
    }

    @Test
    void eachProfilesPcrsigCarriesUkifysSignatures() throws Exception {
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("pcr.key"));
        // ukify derives the public key with systemd-keyutil, which the oracle directory does not carry: give it
        Path pub = dir.resolve("pcr.pub");
        ToolOracle.require("openssl", "openssl").runOk("pkey", "-in", key.toString(), "-pubout", "-out", pub.toString());
        Path pe = dir.resolve("sig-p.efi");
        cairn("uki", "build", "--stub", Systemd257.addonStub().toString(), "--profile", "ID=debug", "--cmdline", "debug", "--output",
                pe.toString());
        List<String> common = List.of("--stub", Systemd257.linuxStub().toString(), "--linux", kernel.toString(), "--initrd", initrd.toString(),
                "--os-release", "@" + osrel, "--cmdline", "quiet", "--uname", "6.1.0-test", "--join-profile", pe.toString(),
                "--pcr-private-key", key.toString(), "--pcr-public-key", pub.toString(), "--pcr-banks", "sha256");
        Path theirs = dir.resolve("sig-ukify.efi");
        Path ours = dir.resolve("sig-cairn.efi");
        List<String> u = new ArrayList<>(common);
        u.addAll(List.of("--output", theirs.toString()));
        ukify(u.toArray(String[]::new)).assertExit(0);
        List<String> c = new ArrayList<>(List.of("uki", "build"));
        c.addAll(common);
        c.addAll(List.of("--output", ours.toString()));
        cairn(c.toArray(String[]::new));
        List<String> a = pcrsigs(theirs);
        List<String> b = pcrsigs(ours);
        assertThat(b).hasSize(2).hasSameSizeAs(a);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (int i = 0; i < a.size(); i++) {
            // same policies and signatures; ukify re-serialises systemd-measure's JSON with ", " and ": " separators
            assertThat(json.readTree(b.get(i))).as(".pcrsig #%d", i).isEqualTo(json.readTree(a.get(i)));
        }
    }

    static List<String> pcrsigs(Path uki) throws Exception {
        UkiFile f = UkiFile.open(uki);
        List<String> out = new ArrayList<>();
        for (SectionHeader h : f.image().sections()) {
            if (h.name().equals(".pcrsig")) {
                out.add(new String(f.content(h).toBytes(1 << 20), StandardCharsets.UTF_8).replace("\0", ""));
            }
        }
        return out;
    }

    @Test
    void pcr12ForAProfileThroughSystemdBootWithAnAddon() throws Exception {
        Joined j = join("pcr12");
        Path addon = dir.resolve("z.addon.efi");
        cairn("uki", "addon", "--stub", Systemd257.addonStub().toString(), "--cmdline", "  addon=1\tx ", "--initrd", addonInitrd.toString(),
                "--output", addon.toString());
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] pcr = new byte[32];
        for (byte[] event : List.of(utf16z("@1"), utf16z("1"), utf16z("addon=1 x"), Files.readAllBytes(addonInitrd))) {
            md.update(pcr);
            md.update(MessageDigest.getInstance("SHA-256").digest(event));
            pcr = md.digest();
        }
        String out = cairn("pcr", "predict", "12", "--uki", j.cairn().toString(), "--profile", "1", "--via-systemd-boot", "--addon",
                addon.toString(), "--bank", "sha256").out();
        assertThat(out).isEqualTo("12:sha256=" + HexFormat.of().formatHex(pcr) + "\n");
        // @0 without add-ons leaves PCR 12 untouched
        assertThat(cairn("pcr", "predict", "12", "--uki", j.cairn().toString(), "--via-systemd-boot", "--bank", "sha256").out())
                .isEqualTo("12:sha256=" + "00".repeat(32) + "\n");
        MainTest.Run missing = run("pcr", "predict", "12", "--uki", j.cairn().toString(), "--profile", "3");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("no profile @3").contains("3 profiles");
    }

    static byte[] utf16z(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_16LE);
    }
}
