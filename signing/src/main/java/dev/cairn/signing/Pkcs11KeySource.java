package dev.cairn.signing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keys on a PKCS#11 token (HSM, smart card, SoftHSM) through the JDK's SunPKCS11 provider: the
 * private key never leaves the token, signatures are computed by it.
 *
 * <p>The token is chosen by label (the module's slots are listed through JNA: {@link Pkcs11Calls})
 * or by slot id. The key is chosen by label; SunPKCS11 shows a private key only together with a
 * certificate object of the same CKA_ID on the token, which is then the default signer
 * certificate. The PIN never appears in messages.
 *
 * @param module     the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)
 * @param tokenLabel token label, or null to use {@code slot}
 * @param slot       slot id, or null to use {@code tokenLabel}
 * @param keyLabel   the key's (and its certificate's) label, or null for the only key on the token
 * @param keyId      the key's CKA_ID (as {@code pkcs11-tool --id}), instead of {@code keyLabel}; or null
 */
public record Pkcs11KeySource(Path module, String tokenLabel, Long slot, String keyLabel, byte[] keyId) {
    public Pkcs11KeySource {
        if ((tokenLabel == null) == (slot == null)) {
            throw new IllegalArgumentException("choose the PKCS#11 token by label or by slot id (one of them)");
        }
        if (keyLabel != null && keyId != null) {
            throw new IllegalArgumentException("choose the PKCS#11 key by label or by id, not both");
        }
        keyId = keyId == null ? null : keyId.clone();
    }

    @Override
    public byte[] keyId() {
        return keyId == null ? null : keyId.clone();
    }

    public Pkcs11KeySource(Path module, String tokenLabel, Long slot, String keyLabel) {
        this(module, tokenLabel, slot, keyLabel, null);
    }

    /** Logs in with {@code pin} and returns the key, with {@code certFile}'s certificate when given. */
    public KeyMaterial load(Secret pin, Path certFile) throws IOException {
        if (!Files.isRegularFile(module)) {
            throw new SigningException("PKCS#11 module " + module + " does not exist");
        }
        long slotId = slot != null ? slot : slotOf(tokenLabel);
        String what = tokenLabel != null ? "token '" + tokenLabel + "'" : "slot " + slotId;
        Provider provider;
        try {
            String config = "--name=cairn-" + Long.toUnsignedString(slotId) + "\nlibrary=" + module.toAbsolutePath() + "\nslot="
                    + Long.toUnsignedString(slotId) + "\n";
            provider = Security.getProvider("SunPKCS11").configure(config);
        } catch (RuntimeException e) {
            throw new SigningException("cannot open PKCS#11 " + what + " with " + module + ": " + rootMessage(e), e);
        }
        KeyStore ks;
        try {
            ks = KeyStore.getInstance("PKCS11", provider);
            ks.load(null, pin == null ? null : pin.chars());
        } catch (IOException | GeneralSecurityException e) {
            String m = rootMessage(e);
            if (m.contains("CKR_PIN_INCORRECT")) {
                throw new SigningException("PKCS#11 login to " + what + " failed: wrong PIN (CKR_PIN_INCORRECT)");
            }
            if (m.contains("CKR_PIN_LOCKED")) {
                throw new SigningException("PKCS#11 login to " + what + " failed: the PIN is locked (CKR_PIN_LOCKED)");
            }
            throw new SigningException("PKCS#11 login to " + what + " failed: " + m, e);
        }
        try {
            List<String> keys = new ArrayList<>();
            for (String alias : Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(alias)) {
                    keys.add(alias);
                }
            }
            String alias;
            String wanted = keyId != null ? labelOfId(slotId, what) : keyLabel;
            if (wanted != null) {
                if (!keys.contains(wanted)) {
                    throw new SigningException("no private key labelled '" + wanted + "' on " + what + " (keys with a certificate: "
                            + (keys.isEmpty() ? "none" : String.join(", ", keys))
                            + "; SunPKCS11 needs a certificate object with the key's CKA_ID)");
                }
                alias = wanted;
            } else if (keys.size() == 1) {
                alias = keys.get(0);
            } else {
                throw new SigningException(keys.isEmpty() ? "no private key with a certificate on " + what
                        : "several keys on " + what + " (" + String.join(", ", keys) + "): choose one with --pkcs11-key");
            }
            Key key = ks.getKey(alias, null);
            if (!(key instanceof PrivateKey pk)) {
                throw new SigningException("'" + alias + "' on " + what + " is not a private key");
            }
            List<X509Certificate> chain = new ArrayList<>();
            if (certFile != null) {
                chain.addAll(KeyLoader.loadCertificates(certFile));
            } else {
                for (Certificate c : ks.getCertificateChain(alias)) {
                    chain.add((X509Certificate) c);
                }
            }
            KeyMaterial km = new KeyMaterial(pk, chain.get(0), chain, provider, "PKCS#11 " + what + " key '" + alias + "'");
            KeyLoader.requireMatch(km);
            return km;
        } catch (GeneralSecurityException e) {
            throw new SigningException("reading the key from " + what + " failed: " + rootMessage(e), e);
        }
    }

    /**
     * The label SunPKCS11 shows for the key with CKA_ID {@code keyId}: the label of the certificate
     * object with that id (certificates are public objects: no login needed to find them).
     */
    private String labelOfId(long slotId, String what) throws SigningException {
        String hex = java.util.HexFormat.of().formatHex(keyId);
        List<String> labels;
        try (Pkcs11Calls p11 = Pkcs11Calls.open(module)) {
            labels = p11.labelsOf(slotId, Pkcs11Calls.CKO_CERTIFICATE, keyId);
        } catch (SigningException e) {
            throw new SigningException("cannot look up CKA_ID " + hex + " on " + what + ": " + e.getMessage(), e);
        }
        if (labels.size() != 1) {
            throw new SigningException((labels.isEmpty() ? "no certificate object with CKA_ID " : "several certificates with CKA_ID ")
                    + hex + " on " + what + " (SunPKCS11 needs exactly one certificate object with the key's CKA_ID)");
        }
        String text = labels.get(0);
        if (text == null || text.isEmpty()) {
            throw new SigningException("the certificate with CKA_ID " + hex + " on " + what + " has no label; SunPKCS11 cannot name it");
        }
        return text;
    }

    /** Token labels by slot id, for tokens present in {@code module}'s slots. */
    public static Map<Long, String> tokens(Path module) throws SigningException {
        try (Pkcs11Calls p11 = Pkcs11Calls.open(module)) {
            return p11.tokens();
        } catch (SigningException e) {
            throw new SigningException("cannot list the tokens of " + module + ": " + e.getMessage(), e);
        }
    }

    private long slotOf(String label) throws SigningException {
        Map<Long, String> t = tokens(module);
        List<Long> hits = new ArrayList<>();
        t.forEach((s, l) -> {
            if (l.equals(label)) {
                hits.add(s);
            }
        });
        if (hits.size() != 1) {
            throw new SigningException((hits.isEmpty() ? "no PKCS#11 token labelled '" : "several PKCS#11 tokens labelled '") + label
                    + "' in " + module + " (tokens: " + (t.isEmpty() ? "none" : String.join(", ", t.values())) + ")");
        }
        return hits.get(0);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }
}
