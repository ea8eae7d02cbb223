package dev.cairn.uki.initrd;

/**
 * Permission bits and ownership of one archive entry.
 *
 * @param permissions the low 12 mode bits (rwx plus setuid, setgid, sticky), taken as given: no umask applies
 * @param uid         owner
 * @param gid         group
 */
public record InitrdAttributes(int permissions, long uid, long gid) {
    public InitrdAttributes {
        if ((permissions & ~07777) != 0) {
            throw new IllegalArgumentException("permissions must be within 07777, not 0" + Integer.toOctalString(permissions));
        }
        if (uid < 0 || uid > 0xFFFF_FFFFL || gid < 0 || gid > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("uid and gid must fit the 32-bit cpio fields: " + uid + ":" + gid);
        }
    }

    /** {@code permissions}, owned by 0:0. */
    public static InitrdAttributes root(int permissions) {
        return new InitrdAttributes(permissions, 0, 0);
    }
}
