package dev.cairn.pipeline;

import java.util.Locale;

/** What a key signs in a build; each role names its key source under {@code keys:} in the spec. */
public enum KeyRole {
    SECUREBOOT("the UKI's Authenticode signature; must chain to the firmware's db", null),
    VERITY("the dm-verity root-hash signature (kernel keyring; default: the secureboot key)", SECUREBOOT),
    IPE("the IPE policy signature (kernel keyring; default: the secureboot key)", SECUREBOOT),
    PCR("the signed PCR 11 policy in .pcrsig (RSA; default: the secureboot key)", SECUREBOOT),
    MANIFEST("the build manifest's CMS signature", null),
    OCI("the cosign signature of the OCI image (default: the manifest key)", MANIFEST),
    IMA("the IMA signatures (security.ima) of the root filesystem's files; given as rootfs.ima.key", null);

    private final String purpose;
    private final KeyRole fallback;

    KeyRole(String purpose, KeyRole fallback) {
        this.purpose = purpose;
        this.fallback = fallback;
    }

    public String specName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public String purpose() {
        return purpose;
    }

    /** The role whose key this one uses when the spec does not name its own, or null. */
    public KeyRole fallback() {
        return fallback;
    }
}
