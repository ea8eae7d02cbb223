package dev.cairn.testing.boot;

import dev.cairn.testing.ToolOracle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * sbsigntool and openssl as the stand-in signer for boot tests: Authenticode-sign an EFI image,
 * strip its signatures, and the keys to do it with (the snakeoil db key OVMF trusts, or a
 * throw-away one it does not).
 */
public final class Sbsign {
    private Sbsign() {
    }

    /** A key pair as PEM files. */
    public record Key(Path key, Path cert) {
    }

    /** The snakeoil db key of {@link SecureBootFirmware#SNAKEOIL_VARS}, decrypted into {@code dir} (sbsign cannot prompt). */
    public static Key snakeoil(Path dir) {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        ToolOracle.requireFile(SecureBootFirmware.SNAKEOIL_KEY, "ovmf");
        Path key = dir.resolve("snakeoil.key");
        openssl.runOk("rsa", "-in", SecureBootFirmware.SNAKEOIL_KEY.toString(), "-passin", "pass:" + SecureBootFirmware.SNAKEOIL_PASSPHRASE,
                "-out", key.toString());
        return new Key(key, SecureBootFirmware.SNAKEOIL_CERT);
    }

    /** A fresh self-signed RSA-2048 key and certificate that no firmware trusts. */
    public static Key throwAway(Path dir, String commonName) {
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        Path key = dir.resolve(commonName + ".key");
        Path cert = dir.resolve(commonName + ".pem");
        openssl.runOk("req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", "/CN=" + commonName,
                "-keyout", key.toString(), "-out", cert.toString());
        return new Key(key, cert);
    }

    /** Signs {@code in} into {@code out}. sbsign <i>adds</i> a signature to an already signed image: strip first to replace. */
    public static Path sign(Key key, Path in, Path out) {
        ToolOracle.require("sbsign", "sbsigntool").run(ToolOracle.DEFAULT_TIMEOUT, null,
                List.of("--key", key.key().toString(), "--cert", key.cert().toString(), "--output", out.toString(), in.toString()), null)
                .assertExit(0);
        return out;
    }

    /** A copy of {@code in} without its signature table ({@code sbattach --remove}); unsigned input is copied as is. */
    public static Path unsigned(Path in, Path out) {
        try {
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ToolOracle sbattach = ToolOracle.require("sbattach", "sbsigntool");
        ToolOracle.Result r = sbattach.run(ToolOracle.DEFAULT_TIMEOUT, null, List.of("--remove", out.toString()), null);
        if (r.exitCode() != 0 && !(r.stdout() + r.stderr()).contains("No signature table present")) {
            r.assertExit(0);
        }
        return out;
    }

    /** The signers' subjects as {@code sbverify --list} prints them (empty when unsigned). */
    public static List<String> signers(Path image) {
        ToolOracle.Result r = ToolOracle.require("sbverify", "sbsigntool").run(ToolOracle.DEFAULT_TIMEOUT, null,
                List.of("--list", image.toString()), null);
        return r.stdout().lines().map(String::strip).filter(l -> l.startsWith("- subject: ")).map(l -> l.substring(11)).toList();
    }
}
