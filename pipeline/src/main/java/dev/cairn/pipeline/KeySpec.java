package dev.cairn.pipeline;

import dev.cairn.pipeline.SpecTree.Node;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One key source in the spec: {@code dev} (a throw-away development key), PEM files
 * ({@code key}, {@code cert}), a PKCS#12 file ({@code pkcs12}), or a PKCS#11 token
 * ({@code pkcs11: {module, token|slot, label|id, pinEnv|pinFile}}). Passphrases and PINs come
 * from environment variables or files, never from the spec itself.
 */
public record KeySpec(Kind kind, Path key, Path cert, Path pkcs12, String alias, String passEnv, Path passFile, Pkcs11 pkcs11,
                      Path specFile, int line, String path) {

    /** DEFERRED: only the certificate is here; a signing station holds the key ({@code cairn sign request}). */
    public enum Kind { DEV, FILES, PKCS12, PKCS11, DEFERRED }

    public record Pkcs11(Path module, String token, Long slot, String label, String id, String pinEnv, Path pinFile) {
    }

    /** "FILE:LINE: keys.role" for messages. */
    public String where() {
        return specFile + ":" + line + ": " + path;
    }

    static KeySpec parse(SpecTree t, Node n) throws SpecException {
        if (n.isScalar()) {
            if ("dev".equals(n.value())) {
                return new KeySpec(Kind.DEV, null, null, null, null, null, null, null, t.file(), n.line(), n.path());
            }
            if ("defer".equals(n.value())) {
                throw t.error(n, "a deferred key needs its certificate (the build embeds it): {cert: FILE, defer: true}");
            }
            throw t.error(n, "a key source is 'dev' or a mapping with key/cert, pkcs12 or pkcs11, not '" + n.value() + "'");
        }
        if (!n.isMap()) {
            throw t.error(n, "a key source is 'dev' or a mapping with key/cert, pkcs12 or pkcs11");
        }
        t.onlyKeys(n, "key", "cert", "pkcs12", "alias", "passEnv", "passFile", "pkcs11", "defer");
        if (t.bool(n, "defer", false)) {
            t.onlyKeys(n, "cert", "defer");
            Path cert = t.path(n, "cert", true);
            requireFile(t, n, "cert", cert);
            return new KeySpec(Kind.DEFERRED, null, cert, null, null, null, null, null, t.file(), n.line(), n.path());
        }
        Path key = t.path(n, "key", false);
        Path cert = t.path(n, "cert", false);
        Path p12 = t.path(n, "pkcs12", false);
        Node p11 = t.map(n, "pkcs11", false);
        int kinds = (key != null ? 1 : 0) + (p12 != null ? 1 : 0) + (p11 != null ? 1 : 0);
        if (kinds != 1) {
            throw t.error(n, "give exactly one of 'key' (with 'cert'), 'pkcs12' or 'pkcs11'");
        }
        String passEnv = t.string(n, "passEnv", false);
        Path passFile = t.path(n, "passFile", false);
        if (passEnv != null && passFile != null) {
            throw t.error(n, "give the passphrase one way: passEnv or passFile");
        }
        if (key != null) {
            if (cert == null) {
                throw t.error(n, "'key' needs 'cert' (the signer certificate)");
            }
            requireFile(t, n, "key", key);
            requireFile(t, n, "cert", cert);
            requirePass(t, n, passEnv, passFile);
            return new KeySpec(Kind.FILES, key, cert, null, null, passEnv, passFile, null, t.file(), n.line(), n.path());
        }
        if (p12 != null) {
            if (cert != null) {
                throw t.error(t.node(n, "cert"), "a PKCS#12 file carries its certificate: drop 'cert'");
            }
            requireFile(t, n, "pkcs12", p12);
            requirePass(t, n, passEnv, passFile);
            return new KeySpec(Kind.PKCS12, null, null, p12, t.string(n, "alias", false), passEnv, passFile, null, t.file(), n.line(),
                    n.path());
        }
        t.onlyKeys(p11, "module", "token", "slot", "label", "id", "pinEnv", "pinFile");
        Path module = t.path(p11, "module", true);
        requireFile(t, p11, "module", module);
        String token = t.string(p11, "token", false);
        Long slot = t.number(p11, "slot", 0, Long.MAX_VALUE);
        if ((token == null) == (slot == null)) {
            throw t.error(p11, "give exactly one of 'token' (label) or 'slot'");
        }
        String label = t.string(p11, "label", false);
        String id = t.string(p11, "id", false);
        if (label != null && id != null) {
            throw t.error(p11, "give the key once: 'label' or 'id'");
        }
        String pinEnv = t.string(p11, "pinEnv", false);
        Path pinFile = t.path(p11, "pinFile", false);
        if ((pinEnv == null) == (pinFile == null)) {
            throw t.error(p11, "give the PIN one way: pinEnv or pinFile");
        }
        requirePass(t, p11, pinEnv, pinFile);
        if (cert != null) {
            requireFile(t, n, "cert", cert);
        }
        return new KeySpec(Kind.PKCS11, null, cert, null, null, null, null, new Pkcs11(module, token, slot, label, id, pinEnv, pinFile),
                t.file(), n.line(), n.path());
    }

    private static void requireFile(SpecTree t, Node parent, String key, Path p) throws SpecException {
        if (!Files.isRegularFile(p)) {
            Node at = t.node(parent, key);
            throw new SpecException(PipelineException.Kind.SIGNING, t.file(), at.line(), at.path(), p + ": no such file (key source unavailable)");
        }
    }

    private static void requirePass(SpecTree t, Node n, String env, Path file) throws SpecException {
        if (env != null && System.getenv(env) == null) {
            Node at = n.map().containsKey("passEnv") ? t.node(n, "passEnv") : t.node(n, "pinEnv");
            throw new SpecException(PipelineException.Kind.SIGNING, t.file(), at.line(), at.path(), "environment variable " + env + " is not set");
        }
        if (file != null && !Files.isRegularFile(file)) {
            Node at = n.map().containsKey("passFile") ? t.node(n, "passFile") : t.node(n, "pinFile");
            throw new SpecException(PipelineException.Kind.SIGNING, t.file(), at.line(), at.path(), file + ": no such file");
        }
    }
}
