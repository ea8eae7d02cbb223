package dev.cairn.squashfs;

import dev.cairn.io.FormatException;
import dev.cairn.io.UnsupportedFeatureException;
import java.util.Locale;

/** SquashFS compressor ids ({@code squashfs_fs.h} ZLIB_COMPRESSION … ZSTD_COMPRESSION). */
public enum Compression {
    GZIP(1, "gzip"),
    LZMA(2, "lzma"),
    LZO(3, "lzo"),
    XZ(4, "xz"),
    LZ4(5, "lz4"),
    ZSTD(6, "zstd");

    private final int id;
    private final String label;

    Compression(int id, String label) {
        this.id = id;
        this.label = label;
    }

    /** On-disk id (superblock offset 20). */
    public int id() {
        return id;
    }

    /** Name as mksquashfs spells it. */
    public String label() {
        return label;
    }

    public static Compression fromId(int id) throws FormatException {
        for (Compression c : values()) {
            if (c.id == id) {
                return c;
            }
        }
        throw new FormatException(20, "compression", id, "unknown SquashFS compressor id");
    }

    /** Parses a mksquashfs compressor name; lzma and lzo are refused (no kernel or no Java codec). */
    public static Compression parse(String name) throws UnsupportedFeatureException {
        String n = name.toLowerCase(Locale.ROOT);
        for (Compression c : values()) {
            if (c.label.equals(n)) {
                if (c == LZMA || c == LZO) {
                    throw new UnsupportedFeatureException("unsupported compressor " + c.label + " (use gzip, xz, lz4 or zstd)");
                }
                return c;
            }
        }
        throw new IllegalArgumentException("unknown compressor '" + name + "' (use gzip, xz, lz4 or zstd)");
    }

    /** mksquashfs's default level for this compressor, or 0 when it has none. */
    public int defaultLevel() {
        return switch (this) {
            case GZIP -> 9;
            case ZSTD -> 15;
            case XZ -> 6;
            default -> 0;
        };
    }

    /** Returns {@code level} when this compressor accepts it, else throws naming the range. */
    public int checkLevel(int level) {
        int[] range = switch (this) {
            case GZIP -> new int[] {1, 9};
            case ZSTD -> new int[] {1, 22};
            case XZ -> new int[] {0, 9};
            case LZ4 -> new int[] {0, 1};
            default -> new int[] {0, 0};
        };
        if (level < range[0] || level > range[1]) {
            throw new IllegalArgumentException(label + " level must be " + range[0] + ".." + range[1] + ", not " + level);
        }
        return level;
    }

    @Override
    public String toString() {
        return label;
    }
}
