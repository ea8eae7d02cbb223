package dev.cairn.uki.initrd;

import java.util.Locale;

/**
 * How the cpio archive is compressed. Every choice is one the kernel's initramfs unpacker reads
 * ({@code CONFIG_RD_GZIP}, {@code CONFIG_RD_XZ}, {@code CONFIG_RD_ZSTD}).
 */
public enum InitrdCompression {
    /** The bare cpio archive. */
    NONE("none", 0),
    /** gzip with a fixed header: no name, no modification time (as {@code gzip -n}), level 9. */
    GZIP("gzip", 9),
    /** xz with CRC32 integrity check (the kernel's xz decoder has no CRC64) and a 1 MiB dictionary. */
    XZ("xz", 6),
    /** zstd frame with content checksum, level 19. */
    ZSTD("zstd", 19);

    private final String label;
    private final int defaultLevel;

    InitrdCompression(String label, int defaultLevel) {
        this.label = label;
        this.defaultLevel = defaultLevel;
    }

    /** The name used on the command line. */
    public String label() {
        return label;
    }

    /** The level used when none is given. */
    public int defaultLevel() {
        return defaultLevel;
    }

    /** Returns {@code level} when this compression accepts it, else throws naming the range. */
    public int checkLevel(int level) {
        int[] range = switch (this) {
            case NONE -> new int[] {0, 0};
            case GZIP -> new int[] {1, 9};
            case XZ -> new int[] {0, 9};
            case ZSTD -> new int[] {1, 22};
        };
        if (level < range[0] || level > range[1]) {
            throw new IllegalArgumentException(label + " level must be " + range[0] + ".." + range[1] + ", not " + level);
        }
        return level;
    }

    /** Parses a label: {@code none}, {@code gzip}, {@code xz} or {@code zstd}. */
    public static InitrdCompression parse(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (InitrdCompression c : values()) {
            if (c.label.equals(n)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown initrd compression '" + name + "' (use zstd, gzip, xz or none)");
    }

    @Override
    public String toString() {
        return label;
    }
}
