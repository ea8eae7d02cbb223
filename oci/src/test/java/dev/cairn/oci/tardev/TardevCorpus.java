package dev.cairn.oci.tardev;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Tar layers exercising every rule of the tardev conversion, written by Commons Compress. */
final class TardevCorpus {
    private TardevCorpus() {
    }

    /** A layer with every member type and quirk; {@code posix}: PAX long names, else GNU ones. */
    static Path full(Path file, boolean posix) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); TarArchiveOutputStream t = new TarArchiveOutputStream(os)) {
            t.setLongFileMode(posix ? TarArchiveOutputStream.LONGFILE_POSIX : TarArchiveOutputStream.LONGFILE_GNU);
            t.setBigNumberMode(posix ? TarArchiveOutputStream.BIGNUMBER_POSIX : TarArchiveOutputStream.BIGNUMBER_STAR);
            dir(t, "./", 0755, 1_700_000_000L);
            // a file before its parent directory: the parent is an inode of mode 0 until its own member comes
            file(t, "usr/bin/tool", 04755, "#!/bin/sh\necho tool\n", 1_700_000_001L, 0, 0);
            dir(t, "usr/", 0755, 1_700_000_002L);
            dir(t, "sbin/", 0755, 1_700_000_002L);
            file(t, "sbin/tool", 06755, "#!/bin/sh\necho sbin\n", 1_700_000_002L, 0, 0);
            file(t, "srv/data/file", 0644, "implicit parents\n", 1_700_000_002L, 0, 0);
            for (String d : new String[] {"dev/", "run/", "var/", "var/" + "long-directory-name-".repeat(6) + "/", "b/"}) {
                dir(t, d, 0755, 1_700_000_002L);
            }
            dir(t, "etc/", 0750, 1_700_000_003L);
            file(t, "etc/hostname", 0644, "cairn\n", 1_700_000_004L, 1000, 1000);
            file(t, "etc/empty", 0600, "", 1_700_000_005L, 0, 0);
            file(t, "etc/big", 0644, "x".repeat(70_000), 1_700_000_006L, 0, 0);
            symlink(t, "etc/short-link", "hostname");
            symlink(t, "etc/long-link", "target/".repeat(20) + "end");
            symlink(t, "etc/second-long-link", "z/".repeat(60));
            TarArchiveEntry hard = new TarArchiveEntry("etc/hard", TarConstants.LF_LINK);
            hard.setLinkName("etc/hostname");
            t.putArchiveEntry(hard);
            t.closeArchiveEntry();
            device(t, "dev/null", TarConstants.LF_CHR, 1, 3);
            device(t, "dev/sda", TarConstants.LF_BLK, 8, 0);
            TarArchiveEntry fifo = new TarArchiveEntry("run/fifo", TarConstants.LF_FIFO);
            fifo.setMode(0600);
            t.putArchiveEntry(fifo);
            t.closeArchiveEntry();
            file(t, "var/" + "long-directory-name-".repeat(6) + "/file-with-a-long-name-" + "n".repeat(40), 0644, "deep\n",
                    1_700_000_007L, 0, 0);
            file(t, "var/.wh.removed", 0, "", 1_700_000_008L, 0, 0);
            dir(t, "opt/", 0755, 1_700_000_009L);
            file(t, "opt/.wh..wh..opq", 0, "", 1_700_000_010L, 0, 0);
            file(t, "opt/kept", 0644, "kept\n", 1_700_000_011L, 0, 0);
            // replaced: the later member wins; mtime beyond 32 bits sets hmtime
            file(t, "etc/replaced", 0644, "old\n", 1_700_000_012L, 0, 0);
            file(t, "etc/replaced", 0640, "new content\n", 5_000_000_000L, 4_000_000_000L, 7);
            // names that leave the root are skipped
            file(t, "../escape", 0644, "no\n", 1_700_000_013L, 0, 0);
            file(t, "./a/../b/./c", 0644, "cleaned\n", 1_700_000_014L, 0, 0);
            t.finish();
        }
        return file;
    }

    static void dir(TarArchiveOutputStream t, String name, int mode, long mtime) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_DIR);
        e.setMode(mode);
        e.setModTime(java.util.Date.from(Instant.ofEpochSecond(mtime)));
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    static void file(TarArchiveOutputStream t, String name, int mode, String content, long mtime, long uid, long gid)
            throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(mode);
        e.setSize(b.length);
        e.setModTime(java.util.Date.from(Instant.ofEpochSecond(mtime)));
        e.setUserId(uid);
        e.setGroupId(gid);
        t.putArchiveEntry(e);
        t.write(b);
        t.closeArchiveEntry();
    }

    static void symlink(TarArchiveOutputStream t, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
        e.setLinkName(target);
        e.setMode(0777);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }

    static void device(TarArchiveOutputStream t, String name, byte type, int major, int minor) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type);
        e.setMode(0666);
        e.setDevMajor(major);
        e.setDevMinor(minor);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }
}
