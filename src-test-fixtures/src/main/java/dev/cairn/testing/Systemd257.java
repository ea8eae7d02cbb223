package dev.cairn.testing;

import java.nio.file.Path;

/**
 * Debian 13's systemd 257 oracles, unpacked (not installed) by {@code src-test-fixtures/trixie-systemd.sh} into
 * {@code /opt/cairn-oracles/trixie-systemd} (or {@code -Dcairn.systemd257=DIR}): ukify 257 and systemd-measure 257
 * through wrappers in {@code bin/}, and the 257 stubs and systemd-boot. Missing: a skip locally, a failure in CI.
 */
public final class Systemd257 {
    private static final String FETCHED_BY = "Debian 13 systemd 257 .debs (src-test-fixtures/trixie-systemd.sh, run by .ci/run)";

    private Systemd257() {
    }

    public static Path dir() {
        return Path.of(System.getProperty("cairn.systemd257", "/opt/cairn-oracles/trixie-systemd"));
    }

    public static ToolOracle ukify() {
        return ToolOracle.requireAt(dir().resolve("bin/ukify"), FETCHED_BY);
    }

    public static ToolOracle systemdMeasure() {
        return ToolOracle.requireAt(dir().resolve("bin/systemd-measure"), FETCHED_BY);
    }

    private static Path efi(String name) {
        return ToolOracle.requireFile(dir().resolve("root/usr/lib/systemd/boot/efi").resolve(name), FETCHED_BY);
    }

    public static Path linuxStub() {
        return efi("linuxx64.efi.stub");
    }

    public static Path addonStub() {
        return efi("addonx64.efi.stub");
    }

    public static Path systemdBoot() {
        return efi("systemd-bootx64.efi");
    }
}
