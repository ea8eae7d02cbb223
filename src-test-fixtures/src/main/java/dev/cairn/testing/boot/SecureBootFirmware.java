package dev.cairn.testing.boot;

import dev.cairn.testing.ToolOracle;
import java.nio.file.Path;

/**
 * What boot tests need from the host besides cairn's boot runner ({@code dev.cairn.pipeline.boot.SecureBootMachine},
 * product code): QEMU, swtpm and OVMF's Secure Boot firmware installed, required like oracle tools (a skip on a laptop
 * without them, a failure under {@code CI=true} naming the Debian package); and Debian's snakeoil variable store
 * ({@code OVMF_VARS_4M.snakeoil.fd}: Secure Boot on, the snakeoil certificate in PK, KEK and db) with the key that
 * signs for it, to boot UKIs that are not part of an image set.
 */
public final class SecureBootFirmware {
    public static final Path OVMF_CODE = Path.of("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    public static final Path SNAKEOIL_VARS = Path.of("/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd");
    /** The key of the snakeoil certificate enrolled in {@link #SNAKEOIL_VARS}; encrypted, passphrase {@value #SNAKEOIL_PASSPHRASE}. */
    public static final Path SNAKEOIL_KEY = Path.of("/usr/share/ovmf/PkKek-1-snakeoil.key");
    public static final Path SNAKEOIL_CERT = Path.of("/usr/share/ovmf/PkKek-1-snakeoil.pem");
    public static final String SNAKEOIL_PASSPHRASE = "snakeoil";

    private SecureBootFirmware() {
    }

    /**
     * Skips (locally) or fails (CI) unless QEMU, swtpm and the OVMF Secure Boot firmware are
     * installed ({@code qemu-system-x86}, {@code swtpm}, {@code ovmf}).
     */
    public static void requireInstalled() {
        ToolOracle.require("qemu-system-x86_64", "qemu-system-x86");
        ToolOracle.require("swtpm", "swtpm");
        ToolOracle.requireFile(OVMF_CODE, "ovmf");
        ToolOracle.requireFile(SNAKEOIL_VARS, "ovmf");
    }
}
