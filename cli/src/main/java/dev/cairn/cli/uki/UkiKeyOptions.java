package dev.cairn.cli.uki;

import dev.cairn.cli.KeyOptions;
import dev.cairn.pipeline.uki.PendingKey;
import dev.cairn.signing.KeyMaterial;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The Secure Boot key of {@code uki build} and {@code uki addon}: ukify's
 * {@code --secureboot-private-key}/{@code --secureboot-certificate} as aliases of cairn's own key
 * sources ({@code --key}/{@code --cert}, PKCS#12, PKCS#11).
 */
public final class UkiKeyOptions {
    @Option(names = "--secureboot-private-key", paramLabel = "FILE", description = "Secure Boot signing key (PEM); same as --key.")
    Path sbKey;
    @Option(names = "--secureboot-certificate", paramLabel = "FILE", description = "Secure Boot certificate (PEM); same as --cert.")
    Path sbCert;
    @Mixin
    KeyOptions keys;

    /** The Secure Boot key, or null when no key source is given. */
    KeyMaterial load(PrintWriter err) throws IOException {
        keys.useFiles(sbKey, sbCert, "--secureboot-private-key", "--secureboot-certificate");
        return keys.present() ? keys.load(err) : null;
    }

    /**
     * The Secure Boot key loading on another thread ({@link PendingKey}), or null when no key
     * source is given. The options are checked and the passphrase is read here, on the caller's
     * thread; only the parsing and decrypting happen on the other. Validity warnings are left to
     * the caller ({@link KeyOptions#warnValidity}), once it has the key.
     */
    PendingKey loadInBackground() throws IOException {
        keys.useFiles(sbKey, sbCert, "--secureboot-private-key", "--secureboot-certificate");
        if (!keys.present()) {
            return null;
        }
        keys.passphrase();
        return PendingKey.start(keys::loadQuietly);
    }

    /** Whether the key can load in the background: from files (a token's session stays on one thread). */
    boolean loadsInBackground() {
        return keys.fromFiles();
    }

    /** The key sources themselves (a second key on the same token, the passphrase). */
    KeyOptions keys() {
        return keys;
    }
}
