package dev.cairn.signing;

import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A private key with its certificate and chain (leaf first). {@code provider} is the JCA provider
 * that must perform signatures with the key (a PKCS#11 token), or null for software keys.
 */
public record KeyMaterial(PrivateKey key, X509Certificate certificate, List<X509Certificate> chain, Provider provider,
                          String description) {
    public KeyMaterial {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(certificate, "certificate");
        chain = List.copyOf(chain);
    }

    @Override
    public String toString() {
        return "KeyMaterial[" + description + ", " + certificate.getSubjectX500Principal() + "]";
    }
}
