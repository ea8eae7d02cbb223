package dev.cairn.erofs;

import dev.cairn.io.LittleEndian;

/**
 * {@code struct erofs_xattr_entry} (erofs-utils 1.8 {@code include/erofs_fs.h}): 4 bytes, then the name
 * without its prefix, then the value, padded to 4 bytes.
 */
record XattrEntry(
        int nameLen,     // 0x00 u8: name length without the prefix
        int nameIndex,   // 0x01 u8: 1 user., 2 posix acl access, 3 posix acl default, 4 trusted., 6 security.
        int valueSize) { // 0x02 u16
    static final int SIZE = 4;

    void encode(byte[] b, int off) {
        b[off] = (byte) nameLen;
        b[off + 1] = (byte) nameIndex;
        LittleEndian.putU16(b, off + 2, valueSize);
    }
}
