package dev.cairn.squashfs;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Ownership, permissions, time and extended attributes of one entry.
 *
 * @param mode   permission bits including setuid/setgid/sticky (≤ 07777)
 * @param uid    owner
 * @param gid    group
 * @param mtime  modification time, seconds since the epoch (0 … 2^32-1)
 * @param xattrs extended attributes by full name ({@code user.}, {@code trusted.}, {@code security.})
 */
public record EntryMetadata(int mode, long uid, long gid, long mtime, SortedMap<String, byte[]> xattrs) {
    public EntryMetadata {
        if (mode < 0 || mode > 07777) {
            throw new IllegalArgumentException("mode out of range: " + Integer.toOctalString(mode));
        }
        if (uid < 0 || uid > 0xFFFF_FFFFL || gid < 0 || gid > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("uid/gid out of range: " + uid + ":" + gid);
        }
        xattrs = xattrs == null ? Collections.emptySortedMap() : Collections.unmodifiableSortedMap(new TreeMap<>(xattrs));
    }

    public static EntryMetadata of(int mode, long uid, long gid, long mtime) {
        return new EntryMetadata(mode, uid, gid, mtime, null);
    }

    public EntryMetadata withOwner(long newUid, long newGid) {
        return new EntryMetadata(mode, newUid, newGid, mtime, xattrs);
    }

    public EntryMetadata withMode(int newMode) {
        return new EntryMetadata(newMode, uid, gid, mtime, xattrs);
    }

    public EntryMetadata withXattrs(SortedMap<String, byte[]> x) {
        return new EntryMetadata(mode, uid, gid, mtime, x);
    }
}
