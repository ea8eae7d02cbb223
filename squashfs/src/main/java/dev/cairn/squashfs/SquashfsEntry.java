package dev.cairn.squashfs;

/**
 * One directory entry of an image as the reader sees it.
 *
 * @param path        path from the root ("" for the root, "a/b" below it)
 * @param type        entry type
 * @param mode        permission bits (≤ 07777)
 * @param uid         owner
 * @param gid         group
 * @param mtime       modification time, seconds since the epoch
 * @param inodeNumber inode number (shared by hard links)
 * @param nlink       link count
 * @param size        file size, directory listing size (+3, as the kernel reports), symlink target length
 * @param target      symlink target, else null
 * @param major       device major, else 0
 * @param minor       device minor, else 0
 * @param xattrIndex  extended attribute set, or -1
 * @param ref         inode reference in the inode table
 */
public record SquashfsEntry(String path, Type type, int mode, long uid, long gid, long mtime, long inodeNumber, long nlink,
                            long size, String target, int major, int minor, long xattrIndex, long ref) {

    /** Entry types, with their basic SquashFS inode type and {@code S_IFMT} bits. */
    public enum Type {
        DIRECTORY(1, 0040000, 'd'), FILE(2, 0100000, '-'), SYMLINK(3, 0120000, 'l'), BLOCK_DEVICE(4, 0060000, 'b'),
        CHAR_DEVICE(5, 0020000, 'c'), FIFO(6, 0010000, 'p'), SOCKET(7, 0140000, 's');

        private final int basic;
        private final int ifmt;
        private final char letter;

        Type(int basic, int ifmt, char letter) {
            this.basic = basic;
            this.ifmt = ifmt;
            this.letter = letter;
        }

        public int basicType() {
            return basic;
        }

        /** File type bits of {@code st_mode}. */
        public int ifmt() {
            return ifmt;
        }

        /** The {@code ls -l} type letter. */
        public char letter() {
            return letter;
        }

        static Type ofBasic(int basic) {
            for (Type t : values()) {
                if (t.basic == basic) {
                    return t;
                }
            }
            throw new IllegalArgumentException("basic type " + basic);
        }
    }

    /** The entry's name (last path component; "" for the root). */
    public String name() {
        int i = path.lastIndexOf('/');
        return i < 0 ? path : path.substring(i + 1);
    }

    public boolean isDirectory() {
        return type == Type.DIRECTORY;
    }

    /** {@code ls -l} permission string, e.g. {@code drwxr-sr-t}. */
    public String modeString() {
        char[] c = new char[10];
        c[0] = type.letter();
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            c[1 + i] = (mode & (0400 >> i)) != 0 ? rwx.charAt(i) : '-';
        }
        if ((mode & 04000) != 0) {
            c[3] = c[3] == 'x' ? 's' : 'S';
        }
        if ((mode & 02000) != 0) {
            c[6] = c[6] == 'x' ? 's' : 'S';
        }
        if ((mode & 01000) != 0) {
            c[9] = c[9] == 'x' ? 't' : 'T';
        }
        return new String(c);
    }

    /**
     * This entry as one line of {@code unsquashfs -lln -UTC}: mode, numeric owner, size (or
     * major,minor), UTC time, the given display path and, for symlinks, the target.
     */
    public String listingLine(String displayPath) {
        StringBuilder b = new StringBuilder();
        String user = Long.toString(uid);
        String group = Long.toString(gid);
        b.append(modeString()).append(' ').append(user).append('/').append(group).append(' ');
        int pad = 25 - user.length() - group.length();
        if (type == Type.BLOCK_DEVICE || type == Type.CHAR_DEVICE) {
            b.append(String.format(java.util.Locale.ROOT, "%" + Math.max(1, pad - 7) + "s%3d,%3d ", " ", major, minor));
        } else {
            long data = type == Type.FIFO || type == Type.SOCKET ? 0 : size;
            b.append(String.format(java.util.Locale.ROOT, "%" + Math.max(1, pad) + "d ", data));
        }
        b.append(LISTING_TIME.format(java.time.Instant.ofEpochSecond(mtime))).append(' ').append(displayPath);
        if (type == Type.SYMLINK) {
            b.append(" -> ").append(target);
        }
        return b.toString();
    }

    private static final java.time.format.DateTimeFormatter LISTING_TIME = java.time.format.DateTimeFormatter
            .ofPattern("yyyy-MM-dd HH:mm", java.util.Locale.ROOT).withZone(java.time.ZoneOffset.UTC);
}
