package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.signing.ModuleSignature;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn sign module} checked by kmod's modinfo and by openssl over the module bytes. */
class ModuleSignIT {
    @TempDir
    Path dir;

    @Test
    void modinfoShowsTheSignerAndOpensslVerifiesTheModuleBytes() throws Exception {
        Path src = dir.resolve("m.s");
        Files.writeString(src, ".section .modinfo,\"a\"\n.string \"license=GPL\"\n.string \"name=cairntest\"\n");
        Path ko = dir.resolve("cairntest.ko");
        ToolOracle.require("as", "binutils").run(Duration.ofMinutes(1), dir, List.of("-o", ko.toString(), src.toString()), null).assertExit(0);
        byte[] unsigned = Files.readAllBytes(ko);
        TestPki.KeyAndCert leaf = TestPki.get().rsaLeaf();
        Path key = leaf.writeKeyPem(dir.resolve("k.pem"));
        Path cert = leaf.writeCertPem(dir.resolve("c.pem"));
        MainTest.Run r = run("sign", "module", ko.toString(), "--key", key.toString(), "--cert", cert.toString());
        assertThat(r.code()).as(r.err()).isZero();

        String info = ToolOracle.require("modinfo", "kmod").run(Duration.ofMinutes(1), dir, List.of(ko.toString()), null).assertExit(0).stdout();
        // kmod names the signer by the SignerInfo's issuer and serial
        String cn = leaf.cert().getIssuerX500Principal().getName().replaceAll(".*CN=([^,]+).*", "$1");
        String serial = String.join(":", HexFormat.of().withUpperCase().formatHex(leaf.cert().getSerialNumber().toByteArray())
                .replaceFirst("^00", "").split("(?<=\\G..)"));
        assertThat(info).contains("name:           cairntest").contains("sig_id:         PKCS#7")
                .contains("signer:         " + cn).contains("sig_key:        " + serial).contains("sig_hashalgo:   sha256");

        byte[] signed = Files.readAllBytes(ko);
        assertThat(Arrays.copyOf(signed, unsigned.length)).isEqualTo(unsigned);
        int sigLen = ByteBuffer.wrap(signed, signed.length - ModuleSignature.MAGIC.length - 4, 4).getInt();
        Path sig = dir.resolve("sig.der");
        Files.write(sig, Arrays.copyOfRange(signed, unsigned.length, unsigned.length + sigLen));
        assertThat(unsigned.length + sigLen + ModuleSignature.INFO_SIZE + ModuleSignature.MAGIC.length).isEqualTo(signed.length);
        Path plain = dir.resolve("plain.ko");
        Files.write(plain, unsigned);
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.pem"));
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", sig.toString(), "-content", plain.toString(),
                "-certfile", cert.toString(), "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");
        String print = openssl.runOk("cms", "-cmsout", "-print", "-inform", "DER", "-in", sig.toString()).stdout();
        assertThat(print.toLowerCase(Locale.ROOT)).contains("econtent: <absent>").doesNotContain("certificates:\n        d.");

        MainTest.Run again = run("sign", "module", ko.toString(), "--key", key.toString(), "--cert", cert.toString());
        assertThat(again.code()).isEqualTo(4);
        assertThat(again.err()).contains("already has an appended signature");
    }

    /** A batch: three real modules and a bad one; modinfo reads each good module's signature, the bad one is named. */
    @Test
    void batchSignsEveryGoodModuleAndNamesTheBadOne() throws Exception {
        TestPki.KeyAndCert leaf = TestPki.get().rsaLeaf();
        Path key = leaf.writeKeyPem(dir.resolve("k.pem"));
        Path cert = leaf.writeCertPem(dir.resolve("c.pem"));
        ToolOracle as = ToolOracle.require("as", "binutils");
        List<Path> modules = new java.util.ArrayList<>();
        for (String name : List.of("one", "two", "three")) {
            Path src = dir.resolve(name + ".s");
            Files.writeString(src, ".section .modinfo,\"a\"\n.string \"license=GPL\"\n.string \"name=" + name + "\"\n");
            Path ko = dir.resolve(name + ".ko");
            as.run(Duration.ofMinutes(1), dir, List.of("-o", ko.toString(), src.toString()), null).assertExit(0);
            modules.add(ko);
        }
        Path bad = Files.writeString(dir.resolve("bad.ko"), "not an object file\n");
        MainTest.Run r = run("sign", "module", "--key", key.toString(), "--cert", cert.toString(), modules.get(0).toString(),
                bad.toString(), modules.get(1).toString(), modules.get(2).toString());
        assertThat(r.code()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("cairn: " + bad + ": not an ELF file").endsWith("cairn: signed 3 of 4 modules; 1 failed\n");
        assertThat(bad).hasContent("not an object file\n");
        ToolOracle modinfo = ToolOracle.require("modinfo", "kmod");
        for (Path ko : modules) {
            String name = ko.getFileName().toString().replace(".ko", "");
            String info = modinfo.run(Duration.ofMinutes(1), dir, List.of(ko.toString()), null).assertExit(0).stdout();
            assertThat(info).contains("name:           " + name).contains("sig_id:         PKCS#7").contains("sig_hashalgo:   sha256");
        }
    }

    /** The kernel's own scripts/sign-file (Debian's linux-kbuild-6.1) writes the very same bytes as a cairn batch. */
    @Test
    void batchOutputIsByteIdenticalToSignFile() throws Exception {
        ToolOracle signFile = ToolOracle.requireAt(Path.of("/usr/lib/linux-kbuild-6.1/scripts/sign-file"), "linux-kbuild-6.1");
        TestPki.KeyAndCert leaf = TestPki.get().rsaLeaf();
        Path key = leaf.writeKeyPem(dir.resolve("k.pem"));
        Path cert = leaf.writeCertPem(dir.resolve("c.pem"));
        ToolOracle as = ToolOracle.require("as", "binutils");
        for (String hash : List.of("sha256", "sha512")) {
            List<String> args = new java.util.ArrayList<>(List.of("sign", "module", "--hash", hash, "--key", key.toString(), "--cert", cert.toString()));
            List<Path> theirs = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Path src = dir.resolve("m" + i + ".s");
                Files.writeString(src, ".section .modinfo,\"a\"\n.string \"license=GPL\"\n.string \"name=m" + i + "\"\n.text\n.fill "
                        + (1000 * (i + 1)) + ",4," + (i + 7) + "\n");
                Path ours = dir.resolve(hash + "-cairn-" + i + ".ko");
                as.run(Duration.ofMinutes(1), dir, List.of("-o", ours.toString(), src.toString()), null).assertExit(0);
                Path other = Files.copy(ours, dir.resolve(hash + "-sign-file-" + i + ".ko"));
                signFile.runOk(hash, key.toString(), cert.toString(), other.toString());
                args.add(ours.toString());
                theirs.add(other);
            }
            MainTest.Run r = run(args.toArray(String[]::new));
            assertThat(r.code()).as(r.err()).isZero();
            for (int i = 0; i < 4; i++) {
                assertThat(Files.readAllBytes(dir.resolve(hash + "-cairn-" + i + ".ko"))).as(hash + " module " + i)
                        .isEqualTo(Files.readAllBytes(theirs.get(i)));
            }
        }
    }
}
