package dev.cairn.uki.initrd;

/**
 * How an initramfs is written.
 *
 * @param compression the compression of the whole archive
 * @param level       compression level (see {@link InitrdCompression#checkLevel})
 * @param mtime       modification time of every entry, seconds since 1970 (the library never reads the clock)
 */
public record InitrdOptions(InitrdCompression compression, int level, long mtime) {
    public InitrdOptions {
        if (compression == null) {
            throw new IllegalArgumentException("compression is required");
        }
        compression.checkLevel(level);
        if (mtime < 0 || mtime > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("mtime must fit the 32-bit cpio field, not " + mtime);
        }
    }

    /** {@code compression} at its default level, every mtime 0. */
    public static InitrdOptions defaults(InitrdCompression compression) {
        return new InitrdOptions(compression, compression.defaultLevel(), 0);
    }

    public InitrdOptions withMtime(long seconds) {
        return new InitrdOptions(compression, level, seconds);
    }

    public InitrdOptions withLevel(int newLevel) {
        return new InitrdOptions(compression, newLevel, mtime);
    }
}
