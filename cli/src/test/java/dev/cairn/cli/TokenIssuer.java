package dev.cairn.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A minimal token server for docker-registry's {@code auth: token} (distribution's token spec):
 * ES256 JWTs with an {@code x5c} self-signed certificate that is the registry's rootcertbundle.
 * Grants every requested action to alice:s3cret and nothing to anyone else. Test-only.
 */
final class TokenIssuer implements AutoCloseable {
    static final String SERVICE = "cairn-test-registry";
    static final String ISSUER = "cairn-test-issuer";
    private final HttpServer server;
    private final KeyPair key;
    private final X509Certificate cert;
    final AtomicInteger issued = new AtomicInteger();

    TokenIssuer(Path certBundle) throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        key = kpg.generateKeyPair();
        X500Name name = new X500Name("CN=cairn test token issuer");
        Instant now = Instant.now();
        cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                Date.from(now.minusSeconds(86400)), Date.from(now.plusSeconds(86400)), name, key.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
        Files.writeString(certBundle, "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(cert.getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/token", this::token);
        server.start();
    }

    String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    private void token(HttpExchange ex) throws IOException {
        try (ex) {
            String authz = ex.getRequestHeaders().getFirst("Authorization");
            String expected = "Basic " + Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
            if (!expected.equals(authz)) {
                ex.sendResponseHeaders(401, -1);
                return;
            }
            List<String> access = new ArrayList<>();
            String q = ex.getRequestURI().getRawQuery();
            for (String p : q == null ? new String[0] : q.split("&")) {
                if (p.startsWith("scope=")) {
                    String[] s = URLDecoder.decode(p.substring(6), StandardCharsets.UTF_8).split(":");
                    if (s.length == 3 && s[0].equals("repository")) {
                        StringBuilder actions = new StringBuilder();
                        for (String a : s[2].split(",")) {
                            actions.append(actions.length() == 0 ? "" : ",").append('"').append(a).append('"');
                        }
                        access.add("{\"type\":\"repository\",\"name\":\"" + s[1] + "\",\"actions\":[" + actions + "]}");
                    }
                }
            }
            long now = Instant.now().getEpochSecond();
            String header = "{\"typ\":\"JWT\",\"alg\":\"ES256\",\"x5c\":[\"" + Base64.getEncoder().encodeToString(cert.getEncoded()) + "\"]}";
            String claims = "{\"iss\":\"" + ISSUER + "\",\"sub\":\"alice\",\"aud\":\"" + SERVICE + "\",\"exp\":" + (now + 300)
                    + ",\"nbf\":" + (now - 10) + ",\"iat\":" + now + ",\"jti\":\"" + issued.incrementAndGet() + "-" + System.nanoTime()
                    + "\",\"access\":[" + String.join(",", access) + "]}";
            Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
            String input = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "." + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
            Signature sig = Signature.getInstance("SHA256withECDSAinP1363Format");
            sig.initSign(key.getPrivate());
            sig.update(input.getBytes(StandardCharsets.US_ASCII));
            String jwt = input + "." + b64.encodeToString(sig.sign());
            byte[] body = ("{\"token\":\"" + jwt + "\",\"expires_in\":300}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
