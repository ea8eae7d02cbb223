package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.signing.CmsVerifier;
import dev.cairn.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn ipe policy|check|sign}. */
class IpeCommandTest {
    @TempDir
    Path dir;

    @Test
    void writeCheckSignAndVerify() throws Exception {
        String h = "620c35159de3c19e7fbb5c2351719185b6e79709be64b74634b5e5dd6bce7313";
        Path rh = dir.resolve("root.hash");
        Files.writeString(rh, h.toUpperCase());
        Path policy = dir.resolve("p.pol");
        MainTest.Run w = run("ipe", "policy", "--name", "cairn_rootfs", "--version", "2.0.1", "--trust-roothash-file", rh.toString(),
                "--trust-boot-verified", "--ops", "EXECUTE,KMODULE", "--op-default", "EXECUTE=DENY", "--op-default", "KMODULE=DENY",
                "--out", policy.toString());
        assertThat(w.code()).as(w.err()).isZero();
        assertThat(Files.readString(policy)).isEqualTo("policy_name=cairn_rootfs policy_version=2.0.1\n"
                + "DEFAULT action=ALLOW\n"
                + "DEFAULT op=EXECUTE action=DENY\n"
                + "DEFAULT op=KMODULE action=DENY\n"
                + "op=EXECUTE boot_verified=TRUE action=ALLOW\n"
                + "op=EXECUTE dmverity_roothash=sha256:" + h + " action=ALLOW\n"
                + "op=KMODULE boot_verified=TRUE action=ALLOW\n"
                + "op=KMODULE dmverity_roothash=sha256:" + h + " action=ALLOW\n");
        assertThat(run("ipe", "check", policy.toString(), "--json").out()).contains("\"version\" : \"2.0.1\"");
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path cert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("c.pem"));
        Path p7b = dir.resolve("p.p7b");
        MainTest.Run s = run("ipe", "sign", policy.toString(), "--out", p7b.toString(), "--key", key.toString(), "--cert", cert.toString());
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(CmsVerifier.verify(Files.readAllBytes(p7b), null, List.of(TestPki.get().ca().cert()), List.of(), Instant.now()))
                .isNotNull();

        Files.writeString(policy, Files.readString(policy) + "op=EXECUTE boot_verified=TRUE action=ALLOW\n");
        MainTest.Run dup = run("ipe", "sign", policy.toString(), "--out", dir.resolve("x.p7b").toString(), "--key", key.toString(),
                "--cert", cert.toString());
        assertThat(dup.code()).isEqualTo(3);
        assertThat(dup.err()).contains("line 9").contains("duplicate rule");
        assertThat(dir.resolve("x.p7b")).doesNotExist();
        assertThat(run("ipe", "policy", "--name", "x", "--version", "1.0", "--trust-roothash", "abc").code()).isEqualTo(3);
    }
}
