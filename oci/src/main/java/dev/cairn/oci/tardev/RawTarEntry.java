package dev.cairn.oci.tardev;

/**
 * One member of a tar archive as the Rust {@code tar} crate presents it to Kata's tarindex: the
 * header's own fields (mode, ids, mtime, device numbers are never taken from PAX records), the path
 * and link target after GNU long-name and PAX {@code path}/{@code linkpath} records, and where the
 * header and the data sit in the archive.
 *
 * @param type            the header's type flag byte
 * @param path            the member's path bytes (GNU long name, else PAX path, else ustar prefix/name)
 * @param linkName        the link target (GNU long link, else PAX linkpath, else the header field), or null
 * @param headerLinkName  the header's own 100-byte link name field up to its NUL, or null when empty
 * @param mode            the header's mode field, or -1 when it does not parse
 * @param uid             the header's uid field (0 when it does not parse)
 * @param gid             the header's gid field (0 when it does not parse)
 * @param mtime           the header's mtime field (0 when it does not parse)
 * @param devMajor        the device major, or -1 when absent (a pre-POSIX header) or unparsable
 * @param devMinor        the device minor, likewise
 * @param size            the data size (a PAX {@code size} record wins over the header)
 * @param headerOffset    byte offset of this member's (last) header block
 * @param dataOffset      byte offset of its data
 */
public record RawTarEntry(byte type, byte[] path, byte[] linkName, byte[] headerLinkName, long mode, long uid, long gid,
                          long mtime, long devMajor, long devMinor, long size, long headerOffset, long dataOffset) {
}
