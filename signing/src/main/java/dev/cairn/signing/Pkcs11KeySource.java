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
 * the cairn distribution opens with {@code Add-Exports: jdk.crypto.cryptoki/sun.security.pkcs11.wrapper}
 * in its main jar's manifest, an embedding application with
 * {@code --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED})
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
    private static final long CKA_CLASS = 0x0;
    private static final long CKA_LABEL = 0x3;
    private static final long CKA_ID = 0x102;
    private static final long CKO_CERTIFICATE = 0x1;
    private static final long CKF_SERIAL_SESSION = 0x4;

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
        try {
            Class<?> c = Class.forName("sun.security.pkcs11.wrapper.PKCS11");
            Class<?> initArgs = Class.forName("sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS");
            Class<?> attr = Class.forName("sun.security.pkcs11.wrapper.CK_ATTRIBUTE");
            Class<?> notify = Class.forName("sun.security.pkcs11.wrapper.CK_NOTIFY");
            Object p11 = c.getMethod("getInstance", String.class, String.class, initArgs, boolean.class)
                    .invoke(null, module.toAbsolutePath().toString(), "C_GetFunctionList", null, false);
            long session = (long) c.getMethod("C_OpenSession", long.class, long.class, Object.class, notify)
                    .invoke(p11, slotId, CKF_SERIAL_SESSION, null, null);
            try {
                Object template = java.lang.reflect.Array.newInstance(attr, 2);
                java.lang.reflect.Array.set(template, 0, attr.getConstructor(long.class, long.class).newInstance(CKA_CLASS, CKO_CERTIFICATE));
                java.lang.reflect.Array.set(template, 1, attr.getConstructor(long.class, Object.class).newInstance(CKA_ID, (Object) keyId.clone()));
                c.getMethod("C_FindObjectsInit", long.class, template.getClass()).invoke(p11, session, template);
                long[] found;
                try {
                    found = (long[]) c.getMethod("C_FindObjects", long.class, long.class).invoke(p11, session, 16L);
                } finally {
                    c.getMethod("C_FindObjectsFinal", long.class).invoke(p11, session);
                }
                if (found.length != 1) {
                    throw new SigningException((found.length == 0 ? "no certificate object with CKA_ID " : "several certificates with CKA_ID ")
                            + hex + " on " + what + " (SunPKCS11 needs exactly one certificate object with the key's CKA_ID)");
                }
                Object labelTemplate = java.lang.reflect.Array.newInstance(attr, 1);
                Object label = attr.getConstructor(long.class).newInstance(CKA_LABEL);
                java.lang.reflect.Array.set(labelTemplate, 0, label);
                c.getMethod("C_GetAttributeValue", long.class, long.class, labelTemplate.getClass()).invoke(p11, session, found[0], labelTemplate);
                Object value = attr.getField("pValue").get(java.lang.reflect.Array.get(labelTemplate, 0)); // the wrapper replaces the element
                String text = value instanceof char[] chars ? new String(chars)
                        : value instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8) : null;
                if (text == null || text.isEmpty()) {
                    throw new SigningException("the certificate with CKA_ID " + hex + " on " + what + " has no label; SunPKCS11 cannot name it");
                }
                return text;
            } finally {
                c.getMethod("C_CloseSession", long.class).invoke(p11, session);
            }
        } catch (IllegalAccessException e) {
            throw new SigningException("finding a PKCS#11 key by id needs the JVM option --add-exports "
                    + "jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED (the cairn launcher's main jar exports it); or use --pkcs11-key LABEL");
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof SigningException se) {
                throw se;
            }
            throw new SigningException("cannot look up CKA_ID " + hex + " on " + what + ": " + rootMessage(e), e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new SigningException("cannot look up CKA_ID " + hex + " on " + what + ": " + rootMessage(e), e);
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
                    + "jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED (the cairn launcher's main jar exports it); "
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
