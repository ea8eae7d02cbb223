package dev.cairn.uki;

import java.util.List;

/**
 * Which UKI sections a systemd stub measures into PCR 11, in measurement order. The order is
 * systemd's {@code enum UnifiedSection} (src/fundamental/uki.h), which grew over releases;
 * {@code .pcrsig} is never measured. The 252 rule is verified against Debian 12's stub and
 * systemd-measure 252; later rules follow systemd's source.
 */
public enum MeasurementRule {
    /** systemd 252: LINUX OSREL CMDLINE INITRD SPLASH DTB (PCRSIG) PCRPKEY. */
    SYSTEMD_252(252, List.of(".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey")),
    /** systemd 253–255: .uname and .sbat added after .dtb. */
    SYSTEMD_253(253, List.of(".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".uname", ".sbat", ".pcrpkey")),
    /** systemd 256: .ucode after .initrd. */
    SYSTEMD_256(256, List.of(".linux", ".osrel", ".cmdline", ".initrd", ".ucode", ".splash", ".dtb", ".uname", ".sbat",
            ".pcrpkey")),
    /** systemd 257 and later: .profile, .dtbauto, .hwids, .efifw after .pcrpkey. */
    SYSTEMD_257(257, List.of(".linux", ".osrel", ".cmdline", ".initrd", ".ucode", ".splash", ".dtb", ".uname", ".sbat",
            ".pcrpkey", ".profile", ".dtbauto", ".hwids", ".efifw"));

    private final int sinceVersion;
    private final List<String> sections;

    MeasurementRule(int sinceVersion, List<String> sections) {
        this.sinceVersion = sinceVersion;
        this.sections = sections;
    }

    public int sinceVersion() {
        return sinceVersion;
    }

    /** Measured section names in measurement order. */
    public List<String> sections() {
        return sections;
    }

    /** The rule of a stub of the given systemd major version (older stubs use the 252 rule). */
    public static MeasurementRule forVersion(int systemdVersion) {
        MeasurementRule r = SYSTEMD_252;
        for (MeasurementRule m : values()) {
            if (systemdVersion >= m.sinceVersion) {
                r = m;
            }
        }
        return r;
    }

    public static MeasurementRule parse(String text) {
        for (MeasurementRule m : values()) {
            if (text.equals(String.valueOf(m.sinceVersion))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown measurement rule " + text + " (use 252, 253, 256 or 257)");
    }

    public String label() {
        return "systemd " + sinceVersion + (this == SYSTEMD_257 ? "+" : "") + " section set";
    }
}
