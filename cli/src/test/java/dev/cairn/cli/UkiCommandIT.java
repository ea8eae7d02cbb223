package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.pcr.PcrPolicy;
import dev.cairn.signing.pcr.PcrPolicySignature;
import dev.cairn.signing.pcr.PcrSignatures;
import dev.cairn.signing.pcr.PcrValue;
import dev.cairn.testing.SeededData;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.DebianBootFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn uki build|inspect|measure}, {@code sign pe}, {@code verify pe} on Debian's stub and
 * kernel, checked by sbverify, osslsigncode and pesign.
 */
class UkiCommandIT {
    static final Path STUB = DebianBootFiles.STUB;
    @TempDir
    static Path dir;
    static Path kernel;
    static Path sbKey;
    static Path sbCert;
    static Path pcrKey;
    static Path signed;

    @BeforeAll
    static void build() throws Exception {
        DebianBootFiles.stub();
        kernel = DebianBootFiles.kernel();
        sbKey = TestPki.get().secureBoot().writeKeyPem(dir.resolve("db.key"));
        sbCert = TestPki.get().secureBoot().writeCertPem(dir.resolve("db.crt"));
        pcrKey = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("pcr.key"));
        Files.write(dir.resolve("initrd"), SeededData.bytes(11, 200_000));
        signed = dir.resolve("signed.efi");
        MainTest.Run r = run("uki", "build", "--linux", kernel.toString(), "--initrd", dir.resolve("initrd").toString(),
                "--cmdline", "console=ttyS0 quiet", "--os-release", "ID=cairn\n", "--secureboot-private-key", sbKey.toString(),
                "--secureboot-certificate", sbCert.toString(), "--sign-kernel", "--pcr-private-key", pcrKey.toString(),
                "--pcr-banks", "sha256,sha384", "--output", signed.toString());
        assertThat(r.code()).as(r.err()).isZero();
    }

    @Test
    void signedUkiIsAcceptedBySbverifyOsslsigncodeAndPesign() throws Exception {
        ToolOracle.require("sbverify", "sbsigntool").runOk("--cert", sbCert.toString(), signed.toString());
        ToolOracle.require("osslsigncode", "osslsigncode").runOk("verify", "-CAfile", sbCert.toString(), "-in", signed.toString());
        String pesign = ToolOracle.require("pesign", "pesign").runOk("-S", "-i", signed.toString()).stdout();
        assertThat(pesign).contains("The signer's common name is " + TestPki.get().secureBoot().cert().getSubjectX500Principal().getName()
                .replaceFirst("^CN=([^,]+).*$", "$1"));
        assertThat(run("verify", "pe", "--cert", sbCert.toString(), signed.toString()).code()).isZero();
        // The embedded kernel was signed first (--sign-kernel): its own table now has Debian's signature and ours.
        Path inner = dir.resolve("inner.efi");
        ToolOracle.require("objcopy", "binutils").runOk("--dump-section", ".linux=" + inner, signed.toString(), dir.resolve("x.efi").toString());
        ToolOracle.require("sbverify", "sbsigntool").runOk("--cert", sbCert.toString(), inner.toString());
        String list = ToolOracle.require("sbverify", "sbsigntool").runOk("--list", inner.toString()).stdout();
        assertThat(list).contains("signature 1").contains("signature 2");
    }

    @Test
    void wrongKeyAndChangedCmdlineAreRejected() throws Exception {
        Path other = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("other.crt"));
        assertThat(run("verify", "pe", "--cert", other.toString(), signed.toString()).code()).isEqualTo(1);
        ToolOracle sbverify = ToolOracle.require("sbverify", "sbsigntool");
        assertThat(sbverify.run(Duration.ofMinutes(1), "--cert", other.toString(), signed.toString()).exitCode()).isNotZero();

        byte[] b = Files.readAllBytes(signed);
        int at = indexOf(b, "console=ttyS0 quiet".getBytes(StandardCharsets.US_ASCII));
        b[at] = 'C';
        Path tampered = dir.resolve("tampered.efi");
        Files.write(tampered, b);
        MainTest.Run r = run("verify", "pe", "--cert", sbCert.toString(), tampered.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("image digest");
        assertThat(sbverify.run(Duration.ofMinutes(1), "--cert", sbCert.toString(), tampered.toString()).exitCode()).isNotZero();
        MainTest.Run inspect = run("uki", "inspect", "--json", tampered.toString());
        assertThat(new ObjectMapper().readTree(inspect.out()).at("/signatures/0/imageHashVerifies").asBoolean()).isFalse();
    }

    @Test
    void secondSignerAddedListedAndRemoved() throws Exception {
        Path leafKey = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("leaf.key"));
        Path leafCert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("leaf.crt"));
        Path ca = dir.resolve("ca.crt");
        TestPki.get().ca().writeCertPem(ca);
        Path two = dir.resolve("two.efi");
        assertThat(run("sign", "pe", "--key", leafKey.toString(), "--cert", leafCert.toString(), "--output", two.toString(),
                signed.toString()).code()).isZero();
        JsonNode j = new ObjectMapper().readTree(run("uki", "inspect", "--json", two.toString()).out());
        assertThat(j.get("signatures")).hasSize(2);
        assertThat(j.at("/signatures/0/imageHashVerifies").asBoolean()).isTrue();
        assertThat(j.at("/signatures/1/imageHashVerifies").asBoolean()).isTrue();
        ToolOracle sbverify = ToolOracle.require("sbverify", "sbsigntool");
        sbverify.runOk("--cert", sbCert.toString(), two.toString());
        sbverify.runOk("--cert", ca.toString(), two.toString());
        assertThat(run("verify", "pe", "--cert", ca.toString(), two.toString()).code()).isZero();
        // osslsigncode 2.9 reads only one WIN_CERTIFICATE entry ("Corrupted attribute certificate table"): it nests extra
        // signatures instead, which edk2 does not read. Separate entries are what edk2 and sbverify walk.

        Path one = dir.resolve("one.efi");
        assertThat(run("sign", "pe", "--remove-signature", "--signum", "0", "--output", one.toString(), two.toString()).code()).isZero();
        assertThat(run("verify", "pe", "--cert", sbCert.toString(), one.toString()).code()).isEqualTo(1);
        assertThat(run("verify", "pe", "--cert", ca.toString(), one.toString()).code()).isZero();
        Path none = dir.resolve("none.efi");
        assertThat(run("sign", "pe", "--remove-signature", "--output", none.toString(), two.toString()).code()).isZero();
        assertThat(sbverify.run(Duration.ofMinutes(1), "--list", none.toString()).stdout() + sbverify.run(Duration.ofMinutes(1), "--list",
                none.toString()).stderr()).contains("No signature table present");
        // Unsigned again = the bytes signing started from, minus the 8-byte alignment padding.
        Path unsigned = dir.resolve("unsigned.efi");
        assertThat(run("uki", "build", "--linux", kernel.toString(), "--initrd", dir.resolve("initrd").toString(), "--cmdline",
                "console=ttyS0 quiet", "--os-release", "ID=cairn\n", "--output", unsigned.toString()).code()).isZero();
    }

    /** {@code sign pe} over several images into --output-dir, checked by sbverify; {@code verify pe} over several. */
    @Test
    void batchSignedImagesAreAcceptedBySbverify() throws Exception {
        Path out = dir.resolve("batch");
        Path junk = Files.write(dir.resolve("junk.efi"), SeededData.bytes(3, 5000));
        MainTest.Run r = run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), "--output-dir", out.toString(),
                STUB.toString(), junk.toString(), kernel.toString());
        assertThat(r.code()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("cairn: " + junk).endsWith("cairn: signed 2 of 3 images; 1 failed\n");
        assertThat(out.resolve("junk.efi")).doesNotExist();
        ToolOracle sbverify = ToolOracle.require("sbverify", "sbsigntool");
        Path stubSigned = out.resolve(STUB.getFileName());
        Path kernelSigned = out.resolve(kernel.getFileName());
        sbverify.runOk("--cert", sbCert.toString(), stubSigned.toString());
        sbverify.runOk("--cert", sbCert.toString(), kernelSigned.toString());
        MainTest.Run v = run("verify", "pe", "--cert", sbCert.toString(), stubSigned.toString(), STUB.toString(), kernelSigned.toString());
        assertThat(v.code()).isEqualTo(1);
        assertThat(v.err()).contains("cairn: " + STUB).endsWith("cairn: verified 2 of 3 images; 1 failed\n");
        assertThat(sbverify.run(Duration.ofMinutes(1), "--cert", sbCert.toString(), STUB.toString()).exitCode()).isNotZero();
    }

    @Test
    void pcrsigSignsWhatMeasurePredicts() throws Exception {
        MainTest.Run m = run("uki", "measure", "--bank", "sha256,sha384", "--json", signed.toString());
        assertThat(m.code()).as(m.err()).isZero();
        assertThat(m.err()).contains("systemd 252 section set");
        JsonNode predicted = new ObjectMapper().readTree(m.out());
        Path pcrsig = dir.resolve("pcrsig.json");
        ToolOracle.require("objcopy", "binutils").runOk("--dump-section", ".pcrsig=" + pcrsig, signed.toString(), dir.resolve("y.efi").toString());
        PcrSignatures sigs = PcrSignatures.parse(Files.readString(pcrsig));
        RSAPublicKey pub = (RSAPublicKey) TestPki.get().rsaLeaf().cert().getPublicKey();
        assertThat(sigs.verifiesWith(pub)).isTrue();
        for (PcrBank bank : List.of(PcrBank.SHA256, PcrBank.SHA384)) {
            List<String> expectedPol = new ArrayList<>();
            for (JsonNode e : predicted.get(bank.jsonName())) {
                expectedPol.add(HexFormat.of().formatHex(PcrPolicy.policyPcrDigest(new PcrValue(bank, e.get("phase").asText(),
                        HexFormat.of().parseHex(e.get("hash").asText())))));
            }
            assertThat(sigs.entries(bank).stream().map(PcrPolicySignature::policy).map(HexFormat.of()::formatHex).toList())
                    .isEqualTo(expectedPol).hasSize(4);
        }
        // .pcrpkey is the PCR key's public half, and it is measured (so measure's values include it).
        Path pcrpkey = dir.resolve("pcrpkey.pem");
        ToolOracle.require("objcopy", "binutils").runOk("--dump-section", ".pcrpkey=" + pcrpkey, signed.toString(), dir.resolve("z.efi").toString());
        assertThat(Files.readString(pcrpkey)).startsWith("-----BEGIN PUBLIC KEY-----");
    }

    @Test
    void buildsAreByteIdenticalAcrossRunsAndInputTimestamps() throws Exception {
        Path a = dir.resolve("r1.efi");
        Path b = dir.resolve("r2.efi");
        List<String> args = List.of("uki", "build", "--linux", kernel.toString(), "--initrd", dir.resolve("initrd").toString(),
                "--cmdline", "console=ttyS0", "--os-release", "ID=cairn\n", "--key", sbKey.toString(), "--cert", sbCert.toString(),
                "--output");
        List<String> first = new ArrayList<>(args);
        first.add(a.toString());
        assertThat(run(first.toArray(String[]::new)).code()).isZero();
        Files.setLastModifiedTime(dir.resolve("initrd"), java.nio.file.attribute.FileTime.fromMillis(123_000));
        List<String> second = new ArrayList<>(args);
        second.add(b.toString());
        assertThat(run(second.toArray(String[]::new)).code()).isZero();
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
    }

    @Test
    void packagedLauncherGivesTheSameBytesWhateverUmaskLocaleAndInputTimes() throws Exception {
        Path launcher = LauncherIT.locate();
        Path initrdCopy = dir.resolve("initrd-copy");
        Files.copy(dir.resolve("initrd"), initrdCopy);
        Files.setLastModifiedTime(initrdCopy, java.nio.file.attribute.FileTime.fromMillis(42_000));
        String cmd = SquashfsLauncherIT.q(launcher) + " uki build --linux " + SquashfsLauncherIT.q(kernel) + " --initrd %s"
                + " --cmdline 'console=ttyS0 quiet' --os-release 'ID=cairn' --key " + SquashfsLauncherIT.q(sbKey) + " --cert "
                + SquashfsLauncherIT.q(sbCert) + " --pcr-private-key " + SquashfsLauncherIT.q(pcrKey) + " --output %s";
        SquashfsLauncherIT.sh(dir, "umask 077; export LC_ALL=C LANG=C SOURCE_DATE_EPOCH=1; " + String.format(cmd,
                SquashfsLauncherIT.q(dir.resolve("initrd")), SquashfsLauncherIT.q(dir.resolve("l1.efi")))).assertExit(0);
        SquashfsLauncherIT.sh(dir, "umask 022; export LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 SOURCE_DATE_EPOCH=1700000000; "
                + String.format(cmd, SquashfsLauncherIT.q(initrdCopy), SquashfsLauncherIT.q(dir.resolve("l2.efi")))).assertExit(0);
        assertThat(Files.readAllBytes(dir.resolve("l1.efi"))).isEqualTo(Files.readAllBytes(dir.resolve("l2.efi")));
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("l1.efi"))))
                .isEqualTo("rw-r--r--");
    }

    @Test
    void refusesSignedStubAndMissingKernelCleanly() throws Exception {
        Path signedStub = dir.resolve("signed-stub.efi");
        assertThat(run("sign", "pe", "--key", sbKey.toString(), "--cert", sbCert.toString(), "--output", signedStub.toString(),
                STUB.toString()).code()).isZero();
        MainTest.Run r = run("uki", "build", "--stub", signedStub.toString(), "--linux", kernel.toString(), "--output",
                dir.resolve("never.efi").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).contains("already signed");
        assertThat(dir.resolve("never.efi")).doesNotExist();
        MainTest.Run k = run("uki", "build", "--linux", dir.resolve("initrd").toString(), "--output", dir.resolve("never.efi").toString());
        assertThat(k.code()).isEqualTo(3);
        assertThat(k.err()).contains("--linux is not an EFI-stub kernel");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
