package dev.cairn.cli;

import dev.cairn.signing.KeyLoader;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.Secret;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The key options every signing command shares. Secrets only from an environment variable, a
 * file or standard input; never as an option value.
 */
public final class KeyOptions {
    @Option(names = "--key", paramLabel = "FILE", description = "Private key: PEM (PKCS#8, encrypted PKCS#8, traditional RSA/EC), DER PKCS#8, or a cosign.key (password from COSIGN_PASSWORD or --key-pass-*).")
    Path key;

    @Option(names = "--cert", paramLabel = "FILE", description = "Signer certificate (PEM or DER; further certificates in the file form the chain).")
    Path cert;

    @Option(names = "--pkcs12", paramLabel = "FILE", description = "Key and certificate chain from a PKCS#12 file instead of --key/--cert.")
    Path pkcs12;

    @Option(names = "--pkcs12-alias", paramLabel = "NAME", description = "Key entry in the PKCS#12 file (default: the first).")
    String pkcs12Alias;

    @Option(names = "--key-pass-env", paramLabel = "VAR", description = "Read the key passphrase from environment variable VAR.")
    String passEnv;

    @Option(names = "--key-pass-file", paramLabel = "FILE", description = "Read the key passphrase from the first line of FILE.")
    Path passFile;

    @Option(names = "--key-pass-stdin", description = "Read the key passphrase from the first line of standard input.")
    boolean passStdin;

    @Option(names = "--pkcs11-module", paramLabel = "FILE", description = "PKCS#11 module of an HSM or token (e.g. /usr/lib/softhsm/libsofthsm2.so).")
    Path pkcs11Module;

    @Option(names = "--pkcs11-token", paramLabel = "LABEL", description = "Token label (or use --pkcs11-slot).")
    String pkcs11Token;

    @Option(names = "--pkcs11-slot", paramLabel = "ID", description = "Slot id instead of --pkcs11-token.")
    Long pkcs11Slot;

    @Option(names = "--pkcs11-key", paramLabel = "LABEL", description = "Label of the key (and its certificate) on the token (default: the only one).")
    String pkcs11Key;

    @Option(names = "--pkcs11-key-id", paramLabel = "HEX", description = "CKA_ID of the key (as pkcs11-tool --id) instead of --pkcs11-key.")
    String pkcs11KeyId;
    @Option(names = "--pkcs11-pin-env", paramLabel = "VAR", description = "Read the token PIN from environment variable VAR.")
    String pinEnv;

    @Option(names = "--pkcs11-pin-file", paramLabel = "FILE", description = "Read the token PIN from the first line of FILE.")
    Path pinFile;

    Secret pin() throws IOException {
        if (pinEnv != null && pinFile != null) {
            throw new IllegalArgumentException("give the PIN one way: --pkcs11-pin-env or --pkcs11-pin-file");
        }
        if (pinEnv != null) {
            return Secret.ofEnvironment(pinEnv, System.getenv());
        }
        return pinFile != null ? Secret.ofFile(pinFile) : null;
    }

    private Secret passphrase;

    /** The passphrase the options give, read once (standard input can only be read once), or null. */
    public Secret passphrase() throws IOException {
        if (passphrase == null) {
            passphrase = readPassphrase();
        }
        return passphrase;
    }

    private Secret readPassphrase() throws IOException {
        Secret given = secret(passEnv, passFile, passStdin, "passphrase", "--key-pass-env, --key-pass-file or --key-pass-stdin");
        if (given != null) {
            return given;
        }
        // cosign reads a cosign.key's password from COSIGN_PASSWORD; so does cairn when no option names one.
        if (key != null && Environment.get(COSIGN_PASSWORD) != null && isCosignKey(key)) {
            return Secret.ofEnvironment(COSIGN_PASSWORD, java.util.Map.of(COSIGN_PASSWORD, Environment.get(COSIGN_PASSWORD)));
        }
        return null;
    }

    /**
     * A secret from at most one of its three sources (an environment variable, a file's first line,
     * standard input's first line), or null when none is given; {@code what} and {@code options} name
     * them in the usage error.
     */
    public static Secret secret(String env, Path file, boolean stdin, String what, String options) throws IOException {
        int n = (env != null ? 1 : 0) + (file != null ? 1 : 0) + (stdin ? 1 : 0);
        if (n > 1) {
            throw new IllegalArgumentException("give the " + what + " one way: " + options);
        }
        if (env != null) {
            String v = Environment.get(env);
            return Secret.ofEnvironment(env, v == null ? java.util.Map.of() : java.util.Map.of(env, v));
        }
        if (file != null) {
            return Secret.ofFile(file);
        }
        return stdin ? Secret.ofStream(System.in) : null;
    }

    /** The environment variable cosign reads a key file's password from. */
    public static final String COSIGN_PASSWORD = "COSIGN_PASSWORD";

    private static boolean isCosignKey(Path file) {
        try {
            return Files.size(file) < 64 * 1024
                    && dev.cairn.signing.CosignKeyFile.isCosignKey(Files.readString(file, java.nio.charset.StandardCharsets.US_ASCII));
        } catch (IOException | java.io.UncheckedIOException e) {
            return false; // loading the key reports the real problem
        }
    }

    /** Whether the options name a key file alone (no certificate, PKCS#12 or token): cosign's keyed mode. */
    public boolean keyOnly() {
        return key != null && cert == null && pkcs12 == null && pkcs11Module == null;
    }

    /** The --key file's private key, for signatures that carry no certificate (cosign's keyed mode). */
    public java.security.PrivateKey loadKeyOnly() throws IOException {
        if (!keyOnly()) {
            throw new IllegalStateException("not a key-only signer");
        }
        return KeyLoader.loadPrivateKey(key, passphrase());
    }

    /** The --key file's name, to name the signer in messages. */
    public Path keyFile() {
        return key;
    }

    private byte[] keyId() {
        if (pkcs11KeyId == null) {
            return null;
        }
        try {
            return java.util.HexFormat.of().parseHex(pkcs11KeyId.replace(":", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--pkcs11-key-id wants hex bytes (e.g. 01 or a1:b2), not " + pkcs11KeyId);
        }
    }

    /**
     * Another key on the same PKCS#11 token (same module, token and PIN), by label: e.g. the PCR
     * policy key next to the Secure Boot key.
     */
    public KeyMaterial loadOtherPkcs11Key(String label, String option) throws IOException {
        if (pkcs11Module == null) {
            throw new IllegalArgumentException(option + " needs --pkcs11-module (and --pkcs11-token or --pkcs11-slot)");
        }
        return new dev.cairn.signing.Pkcs11KeySource(pkcs11Module, pkcs11Token, pkcs11Slot, label, null).load(pin(), null);
    }

    /** Whether any key source option was given. */
    public boolean present() {
        return key != null || cert != null || pkcs12 != null || pkcs11Module != null;
    }

    /** Fills --key/--cert from a command's own aliases (ukify's --secureboot-private-key/--secureboot-certificate). */
    public void useFiles(Path aliasKey, Path aliasCert, String keyOption, String certOption) {
        if (aliasKey != null) {
            if (key != null) {
                throw new IllegalArgumentException("give the key once: " + keyOption + " or --key");
            }
            key = aliasKey;
        }
        if (aliasCert != null) {
            if (cert != null) {
                throw new IllegalArgumentException("give the certificate once: " + certOption + " or --cert");
            }
            cert = aliasCert;
        }
    }

    /** Loads the key; warns on stderr when the certificate is expired or not yet valid. */
    public KeyMaterial load(PrintWriter err) throws IOException {
        KeyMaterial km = loadQuietly();
        warnValidity(km, err);
        return km;
    }

    /** Whether the key comes from files (PEM or PKCS#12), not from a token. */
    public boolean fromFiles() {
        return pkcs11Module == null && pkcs11Token == null && pkcs11Slot == null && pkcs11Key == null && pkcs11KeyId == null;
    }

    /** Warns on stderr when {@code km}'s certificate is expired or not yet valid. */
    public static void warnValidity(KeyMaterial km, PrintWriter err) {
        print(KeyLoader.validityWarnings(km.certificate(), Instant.now()), err);
    }

    /** {@link #warnValidity(KeyMaterial, PrintWriter)}, asking for stderr only when there is a warning. */
    public static void warnValidity(KeyMaterial km, java.util.function.Supplier<PrintWriter> err) {
        List<String> warnings = KeyLoader.validityWarnings(km.certificate(), Instant.now());
        if (!warnings.isEmpty()) {
            print(warnings, err.get());
        }
    }

    private static void print(List<String> warnings, PrintWriter err) {
        for (String w : warnings) {
            err.println("cairn: warning: " + w);
        }
    }

    /** {@link #load} without the validity warnings: safe on another thread, prints nothing. */
    public KeyMaterial loadQuietly() throws IOException {
        KeyMaterial km;
        if (pkcs11Module != null) {
            if (key != null || pkcs12 != null) {
                throw new IllegalArgumentException("--pkcs11-module replaces --key and --pkcs12 (--cert may name the signer certificate)");
            }
            km = new dev.cairn.signing.Pkcs11KeySource(pkcs11Module, pkcs11Token, pkcs11Slot, pkcs11Key, keyId()).load(pin(), cert);
        } else if (pkcs11Token != null || pkcs11Slot != null || pkcs11Key != null || pkcs11KeyId != null) {
            throw new IllegalArgumentException("--pkcs11-token, --pkcs11-slot, --pkcs11-key and --pkcs11-key-id need --pkcs11-module");
        } else if (pkcs12 != null) {
            if (key != null || cert != null) {
                throw new IllegalArgumentException("--pkcs12 replaces --key and --cert");
            }
            km = KeyLoader.fromPkcs12(pkcs12, passphrase(), pkcs12Alias);
        } else {
            if (key == null || cert == null) {
                throw new IllegalArgumentException("signing needs --key and --cert (or --pkcs12)");
            }
            km = KeyLoader.fromFiles(key, cert, passphrase());
        }
        return km;
    }
}
