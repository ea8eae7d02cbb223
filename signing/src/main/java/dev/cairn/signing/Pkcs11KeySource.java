package dev.cairn.signing;

import java.io.IOException;
import java.lang.reflect.Method;
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
 * <p>The token is chosen by label (slots are listed through the provider's PKCS#11 wrapper, which
 * the launcher opens with {@code --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper})
 * or by slot id. The key is chosen by label; SunPKCS11 shows a private key only together with a
 * certificate object of the same CKA_ID on the token, which is then the default signer
 * certificate. The PIN never appears in messages.
 *
 * @param module     the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so)
 * @param tokenLabel token label, or null to use {@code slot}
 * @param slot       slot id, or null to use {@code tokenLabel}
 * @param keyLabel   the key's (and its certificate's) label, or null for the only key on the token
 */
public record Pkcs11KeySource(Path module, String tokenLabel, Long slot, String keyLabel) {
    public Pkcs11KeySource {
        if ((tokenLabel == null) == (slot == null)) {
            throw new IllegalArgumentException("choose the PKCS#11 token by label or by slot id (one of them)");
        }
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
            if (keyLabel != null) {
                if (!keys.contains(keyLabel)) {
                    throw new SigningException("no private key labelled '" + keyLabel + "' on " + what + " (keys with a certificate: "
                            + (keys.isEmpty() ? "none" : String.join(", ", keys))
                            + "; SunPKCS11 needs a certificate object with the key's CKA_ID)");
                }
                alias = keyLabel;
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

    /** Token labels by slot id, for tokens present in {@code module}'s slots. */
    public static Map<Long, String> tokens(Path module) throws SigningException {
        try {
            Class<?> c = Class.forName("sun.security.pkcs11.wrapper.PKCS11");
            Class<?> initArgs = Class.forName("sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS");
            Method getInstance = c.getMethod("getInstance", String.class, String.class, initArgs, boolean.class);
            Object p11 = getInstance.invoke(null, module.toAbsolutePath().toString(), "C_GetFunctionList", null, false);
            long[] slots = (long[]) c.getMethod("C_GetSlotList", boolean.class).invoke(p11, true);
            Map<Long, String> out = new LinkedHashMap<>();
            for (long s : slots) {
                Object info = c.getMethod("C_GetTokenInfo", long.class).invoke(p11, s);
                String label = new String((char[]) info.getClass().getField("label").get(info)).strip();
                if (!label.isEmpty()) { // an uninitialised token
                    out.put(s, label);
                }
            }
            return out;
        } catch (IllegalAccessException e) {
            throw new SigningException("listing PKCS#11 tokens needs the JVM option --add-exports "
                    + "jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED (the cairn launcher sets it); "
                    + "or choose the token by slot id");
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new SigningException("cannot list the tokens of " + module + ": " + rootMessage(e), e);
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
