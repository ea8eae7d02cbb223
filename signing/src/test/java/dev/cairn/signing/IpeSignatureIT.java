package dev.cairn.signing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.signing.ipe.IpePolicy;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A signed policy is what `openssl smime -sign -nodetach -noattr -binary -outform der` makes. */
class IpeSignatureIT {
    @TempDir
    Path dir;

    @Test
    void opensslExtractsTheExactPolicyFromTheAttachedSignature() throws Exception {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        byte[] policy = ("policy_name=cairn policy_version=1.0.0\r\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\n"
                + "op=EXECUTE dmverity_roothash=sha256:" + "cd2c5bae7c6c579edaae4353049d58eb5f2e8be0244bf05345bc8e5ed257baff" + " action=ALLOW\n").getBytes(StandardCharsets.US_ASCII);
        IpePolicy.parse(policy);
        Path p7b = dir.resolve("p.p7b");
        Files.write(p7b, CmsSigner.sign(policy, CmsSignerTest.rsa(), new CmsOptions(false, true, false, "SHA-256")));
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.pem"));
        Path out = dir.resolve("out");
        openssl.runOk("cms", "-verify", "-binary", "-inform", "DER", "-in", p7b.toString(), "-CAfile", ca.toString(),
                "-purpose", "any", "-out", out.toString());
        assertThat(Files.readAllBytes(out)).as("CRLF kept: no MIME canonicalisation").isEqualTo(policy);
        String print = openssl.runOk("cms", "-cmsout", "-print", "-inform", "DER", "-in", p7b.toString()).stdout();
        assertThat(print).contains("eContentType: pkcs7-data").doesNotContain("eContent: <ABSENT>");
        assertThat(print).containsPattern("(?<!un)signedAttrs:\\s*<ABSENT>");
    }
}
