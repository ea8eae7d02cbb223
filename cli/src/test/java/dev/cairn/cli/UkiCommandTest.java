package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.CorruptCorpus;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.TinyPe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn uki …} and {@code sign/verify pe} in-process on synthetic PEs: options, exit codes, hostile images. */
class UkiCommandTest {
    /** Seed of the corrupt-PE corpus: change it only together with a note in the commit. */
    static final long CORPUS_SEED = 20261126L;
    static final String SBAT = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
            + "systemd,1,The systemd Developers,systemd,257,https://systemd.io/\n";

    @TempDir
    Path dir;

    Path signedUki() throws Exception {
        Path stub = Files.write(dir.resolve("stub.efi"), TinyPe.stub(SBAT, "257.1"));
        Path kernel = Files.write(dir.resolve("vmlinuz"), TinyPe.kernel(5000));
        Path initrd = Files.write(dir.resolve("initrd"), SeededData.bytes(9, 3001));
        Path key = TestPki.get().secureBoot().writeKeyPem(dir.resolve("db.key"));
        Path cert = TestPki.get().secureBoot().writeCertPem(dir.resolve("db.crt"));
        Path out = dir.resolve("uki.efi");
        MainTest.Run r = run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--initrd", initrd.toString(),
                "--cmdline", "quiet", "--os-release", "ID=test\n", "--uname", "6.1.0-test", "--key", key.toString(), "--cert",
                cert.toString(), "--output", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        return out;
    }

    @Test
    void buildInspectMeasureVerifyOnASyntheticStub() throws Exception {
        Path uki = signedUki();
        MainTest.Run i = run("uki", "inspect", uki.toString());
        assertThat(i.code()).as(i.err()).isZero();
        assertThat(i.out()).contains("systemd-stub 257.1 (systemd 257+ section set)").contains(".uname:").contains("6.1.0-test")
                .contains("image hash verifies");
        MainTest.Run m = run("uki", "measure", "--bank", "sha256", "--phase", "enter-initrd", uki.toString());
        assertThat(m.code()).isZero();
        assertThat(m.out()).matches("11:sha256=[0-9a-f]{64}\\n");
        assertThat(m.err()).contains("systemd 257+ section set");
        // 257 measures .uname and .sbat too: the 252 rule gives another value
        MainTest.Run m252 = run("uki", "measure", "--bank", "sha256", "--phase", "enter-initrd", "--rule", "252", uki.toString());
        assertThat(m252.out()).isNotEqualTo(m.out());
        assertThat(run("verify", "pe", "--cert", dir.resolve("db.crt").toString(), uki.toString()).code()).isZero();
    }

    @Test
    void atFileValuesAreReadVerbatimNotExpandedAsArgumentFiles() throws Exception {
        Path stub = Files.write(dir.resolve("stub.efi"), TinyPe.stub(SBAT, "257"));
        Path kernel = Files.write(dir.resolve("vmlinuz"), TinyPe.kernel(100));
        Path cmdline = Files.writeString(dir.resolve("cmdline"), "root=/dev/vda  ro\n--looks-like-an-option\n");
        Path out = dir.resolve("at.efi");
        MainTest.Run r = run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--cmdline", "@" + cmdline,
                "--os-release", "ID=a\n", "--output", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        MainTest.Run i = run("uki", "inspect", "--json", out.toString());
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(i.out()).at("/sections").findValuesAsText("text"))
                .contains("root=/dev/vda  ro\n--looks-like-an-option\n");
    }

    /**
     * The same inputs give the same UKI on every machine: the SHA-256 of an unsigned UKI from the
     * synthetic stub and kernel is pinned. Update it only with a commit that explains the layout change.
     */
    @Test
    void unsignedUkiBytesArePinned() throws Exception {
        Path stub = Files.write(dir.resolve("stub.efi"), TinyPe.stub(SBAT, "257.1"));
        Path kernel = Files.write(dir.resolve("vmlinuz"), TinyPe.kernel(5000));
        Path initrd = Files.write(dir.resolve("initrd"), SeededData.bytes(9, 3001));
        Path out = dir.resolve("pinned.efi");
        MainTest.Run r = run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--initrd", initrd.toString(),
                "--cmdline", "quiet", "--os-release", "ID=test\n", "--uname", "6.1.0-test", "--output", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(out)));
        assertThat(sha).isEqualTo(PINNED_UNSIGNED_SHA256);
    }

    static final String PINNED_UNSIGNED_SHA256 = "0b5393bc3582ffa296d0acce2b64e893cc454613bb05b0e9c24f33ed32c4e068";

    @Test
    void usageAndInputErrorsAreCleanAndLeaveNoOutput() throws Exception {
        Path kernel = Files.write(dir.resolve("vmlinuz"), TinyPe.kernel(100));
        Path stub = Files.write(dir.resolve("stub.efi"), TinyPe.stub(SBAT, "257"));
        Path out = dir.resolve("never.efi");
        assertThat(run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--output", out.toString(),
                "--pcr-banks", "md5").code()).isEqualTo(3);
        assertThat(run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--output", out.toString(),
                "--sign-kernel").code()).isEqualTo(3);
        assertThat(run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--output", out.toString(),
                "--sbat", "not,an,sbat,line").code()).isEqualTo(3);
        assertThat(run("uki", "build", "--stub", stub.toString(), "--linux", dir.resolve("missing").toString(), "--output",
                out.toString()).code()).isEqualTo(3);
        assertThat(out).doesNotExist();
        assertThat(Files.list(dir).filter(p -> p.getFileName().toString().startsWith(".")).toList()).isEmpty();
    }

    /**
     * The Secure Boot key loads on another thread while the image is written (PendingKey): a key
     * that does not load still fails the build with the key's own error and exit code, before or
     * instead of an input error, and leaves no output and no temporary file.
     */
    @Test
    void keyErrorsFromTheBackgroundLoadAreReportedFirstAndLeaveNoOutput() throws Exception {
        Path stub = Files.write(dir.resolve("stub.efi"), TinyPe.stub(SBAT, "257"));
        Path kernel = Files.write(dir.resolve("vmlinuz"), TinyPe.kernel(100));
        Path initrd = Files.write(dir.resolve("initrd"), SeededData.bytes(3, 200_000));
        Path key = TestPki.get().secureBoot().writeKeyPem(dir.resolve("db.key"));
        Path otherCert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("other.crt"));
        Path garbage = Files.writeString(dir.resolve("garbage.key"), "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
        Path cert = TestPki.get().secureBoot().writeCertPem(dir.resolve("db.crt"));
        Path out = dir.resolve("never.efi");

        MainTest.Run mismatch = run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--initrd", initrd.toString(),
                "--key", key.toString(), "--cert", otherCert.toString(), "--output", out.toString());
        assertThat(mismatch.code()).isEqualTo(4);
        assertThat(mismatch.err()).contains("does not belong to the key");

        MainTest.Run bad = run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--initrd", initrd.toString(),
                "--key", garbage.toString(), "--cert", cert.toString(), "--output", out.toString());
        assertThat(bad.code()).as(bad.err()).isNotZero().isNotEqualTo(3).isNotEqualTo(2);
        // the same bad key with a missing input: still the key's error, as when keys loaded before anything else
        MainTest.Run both = run("uki", "build", "--stub", stub.toString(), "--linux", dir.resolve("missing").toString(),
                "--key", garbage.toString(), "--cert", cert.toString(), "--output", out.toString());
        assertThat(both.code()).isEqualTo(bad.code());
        assertThat(both.err()).isEqualTo(bad.err());

        assertThat(out).doesNotExist();
        assertThat(Files.list(dir).filter(p -> p.getFileName().toString().startsWith(".")).toList()).isEmpty();
        // and a good key signs: the image checks against its certificate
        Path good = dir.resolve("good.efi");
        assertThat(run("uki", "build", "--stub", stub.toString(), "--linux", kernel.toString(), "--initrd", initrd.toString(),
                "--key", key.toString(), "--cert", cert.toString(), "--output", good.toString()).code()).isZero();
        assertThat(run("verify", "pe", "--cert", cert.toString(), good.toString()).code()).isZero();
    }

    @Test
    void corruptImagesGiveCleanErrorsNeverCrashesOrHangs() throws Exception {
        Path uki = signedUki();
        byte[] valid = Files.readAllBytes(uki);
        int[] hot = new int[0x400 / 2];
        for (int i = 0; i < hot.length; i++) {
            hot[i] = i * 2;
        }
        List<CorruptCorpus.Sample> corpus = new ArrayList<>(CorruptCorpus.derive("uki", valid, CORPUS_SEED, 250, hot));
        // hand-made classics: bad e_lfanew, section table past EOF, giant sizes, overlapping raw data
        corpus.add(new CorruptCorpus.Sample("lfanew-past-eof", patch(valid, 0x3C, 0x7FFF_FFF0L)));
        corpus.add(new CorruptCorpus.Sample("nsections-huge", patch16(valid, 0x86, 0xFFFF)));
        corpus.add(new CorruptCorpus.Sample("raw-size-4g", patch(valid, 0x188 + 16, 0xFFFF_FFF0L)));
        corpus.add(new CorruptCorpus.Sample("raw-overlap", patch(valid, 0x188 + 40 + 20, 0x400)));
        corpus.add(new CorruptCorpus.Sample("certtable-huge", patch(valid, 0x98 + 112 + 32 + 4, 0x7FFF_FFF0L)));
        Set<Integer> allowed = Set.of(0, 1, 3);
        List<String> problems = new ArrayList<>();
        Path cert = dir.resolve("db.crt");
        for (CorruptCorpus.Sample s : corpus) {
            Path f = Files.write(dir.resolve("corrupt.efi"), s.bytes());
            for (String[] cmd : new String[][] {{"uki", "inspect", "--json"}, {"uki", "measure"}, {"verify", "pe", "--cert", cert.toString()}}) {
                List<String> args = new ArrayList<>(List.of(cmd));
                args.add(f.toString());
                MainTest.Run r = run(args.toArray(String[]::new));
                if (!allowed.contains(r.code()) || r.err().contains("Exception") || r.err().contains("\tat ")) {
                    problems.add(s.name() + " " + String.join(" ", cmd) + " → " + r.code() + ": " + r.err().lines().findFirst().orElse(""));
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    private static byte[] patch(byte[] b, int off, long v) {
        byte[] c = b.clone();
        for (int i = 0; i < 4; i++) {
            c[off + i] = (byte) (v >>> (8 * i));
        }
        return c;
    }

    private static byte[] patch16(byte[] b, int off, int v) {
        byte[] c = b.clone();
        c[off] = (byte) v;
        c[off + 1] = (byte) (v >>> 8);
        return c;
    }
}
