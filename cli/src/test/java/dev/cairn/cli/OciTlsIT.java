package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A TLS registry on 127.0.0.1 whose CA only {@code --ca-file} makes trusted. */
class OciTlsIT {
    @TempDir
    Path dir;

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    @Test
    void pushAndPullOverTlsWithCaFile() throws Exception {
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair ca = kpg.generateKeyPair();
        KeyPair server = kpg.generateKeyPair();
        Instant now = Instant.now();
        X500Name caName = new X500Name("CN=cairn test registry CA");
        X509Certificate caCert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(caName, BigInteger.ONE,
                Date.from(now.minusSeconds(3600)), Date.from(now.plusSeconds(86400)), caName, ca.getPublic())
                .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
        X509Certificate leaf = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(caName, BigInteger.TWO,
                Date.from(now.minusSeconds(3600)), Date.from(now.plusSeconds(86400)), new X500Name("CN=127.0.0.1"), server.getPublic())
                .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")))
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.getPrivate())));
        Path caFile = dir.resolve("certs.d/ca.crt");
        Files.createDirectories(caFile.getParent());
        Files.writeString(caFile, pem("CERTIFICATE", caCert.getEncoded()));
        Files.writeString(dir.resolve("server.crt"), pem("CERTIFICATE", leaf.getEncoded()));
        Files.writeString(dir.resolve("server.key"), pem("PRIVATE KEY", server.getPrivate().getEncoded()));
        try (RegistryFixture reg = RegistryFixture.start(dir.resolve("reg"), null, null, null,
                "tls: {certificate: " + dir.resolve("server.crt") + ", key: " + dir.resolve("server.key") + "}")) {
            Path lay = dir.resolve("lay");
            Files.createDirectories(dir.resolve("t"));
            Files.writeString(dir.resolve("t/f"), "tls\n");
            MainTest.Run add = MainTest.run("oci", "layer", "add", lay + ":img", dir.resolve("t").toString(), "--type", "tar+gzip", "--json");
            assertThat(add.code()).as(add.err()).isZero();
            String img = add.out().replaceAll("(?s).*\"manifest\" : \"(sha256:[0-9a-f]{64})\".*", "$1");
            String repo = reg.host() + "/tls/os";
            Path otherCa = dir.resolve("other-ca.pem");
            Files.writeString(otherCa, pem("CERTIFICATE", dev.cairn.testing.TestPki.get().ca().cert().getEncoded()));
            MainTest.Run untrusted = MainTest.run("oci", "push", lay + ":img", repo + ":img", "--ca-file", otherCa.toString());
            assertThat(untrusted.code()).isEqualTo(5);
            assertThat(untrusted.err()).contains("TLS handshake", "--ca-file");
            MainTest.Run push = MainTest.run("oci", "push", lay + ":img", repo + ":img", "--ca-file", caFile.toString());
            assertThat(push.code()).as(push.err()).isZero();
            assertThat(skopeo.runOk("inspect", "--cert-dir", caFile.getParent().toString(), "docker://" + repo + ":img").stdout())
                    .contains("\"Digest\": \"" + img + "\"");
            MainTest.Run pull = MainTest.run("oci", "pull", repo + ":img", dir.resolve("back") + ":img", "--ca-file", caFile.toString());
            assertThat(pull.code()).as(pull.err()).isZero();
            assertThat(MainTest.run("oci", "ls", dir.resolve("back").toString()).out()).contains("img\t" + img);
        }
    }
}
