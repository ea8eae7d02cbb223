package dev.cairn.squashfs;

import java.io.IOException;

/**
 * Decides, before a {@link SquashfsWriter} stores an entry, whether it is stored at all: an entry
 * left out never has its content read, so nothing of it reaches the image (unlike
 * {@link SquashfsWriter#remove}, which leaves content already written). Registered with
 * {@link SquashfsWriter#gate}; asked for every entry added by any source or pseudo definition,
 * on the thread that adds it, except the root and entries below a directory already left out
 * (those are left out too, without asking).
 */
@FunctionalInterface
public interface EntryGate {
    /** What becomes of an entry. */
    enum Verdict {
        /** Stored as given. */
        ADD,
        /** Left out (a directory with everything added below it later). */
        SKIP,
        /** A regular file stored with no content (its source content is not read); only for {@link EntryAttributes#S_IFREG}. */
        EMPTY
    }

    /**
     * @param path the entry's path relative to the root, components joined by {@code /}, no leading
     *             or trailing slash ({@code etc/machine-id})
     * @param type file type bits ({@link EntryAttributes#S_IFREG}, {@link EntryAttributes#S_IFDIR}, ...);
     *             a hard link is asked with its target's type
     */
    Verdict check(String path, int type) throws IOException;
}
