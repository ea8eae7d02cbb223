package dev.cairn.cli.uki;

import dev.cairn.cli.KeyOptions;
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

    /** The key sources themselves (a second key on the same token, the passphrase). */
    KeyOptions keys() {
        return keys;
    }
}
