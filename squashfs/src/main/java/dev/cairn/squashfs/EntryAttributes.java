package dev.cairn.squashfs;

import java.io.IOException;
import java.util.SortedMap;

/**
 * Extended attributes a {@link SquashfsWriter} sets on every entry when it finishes, whatever the
 * source: SELinux labels from file contexts, IMA signatures of file content. Registered with
 * {@link SquashfsWriter#addEntryAttributes}; each is asked once per inode (a hard-linked inode
 * under the first of its paths in byte order), in a pre-order walk of the sorted tree, root first.
 * Calls may come from several threads at once: implementations are thread-safe.
 */
public interface EntryAttributes {
    /** {@code st_mode} file type bits, as {@code attributes} receives them. */
    int S_IFSOCK = 0140000, S_IFLNK = 0120000, S_IFREG = 0100000, S_IFBLK = 060000, S_IFDIR = 040000, S_IFCHR = 020000,
            S_IFIFO = 010000;

    /**
     * The JCA name of the digest ({@code SHA-256}, ...) this needs of every regular file's content,
     * computed while the writer reads it (content is read once), or null for none.
     */
    default String contentDigest() {
        return null;
    }

    /**
     * The entry's extended attributes: {@code meta.xattrs()} to leave them as they are, or a new map.
     *
     * @param path          absolute path in the image: {@code /} for the root, {@code /usr/bin/ls}
     * @param type          file type bits ({@link #S_IFREG}, {@link #S_IFDIR}, ...)
     * @param meta          the entry's metadata as it will be written (its xattrs include those of
     *                      attribute sets registered before this one)
     * @param contentDigest a regular file's content digest with {@link #contentDigest()}, else null
     */
    SortedMap<String, byte[]> attributes(String path, int type, EntryMetadata meta, byte[] contentDigest) throws IOException;
}
