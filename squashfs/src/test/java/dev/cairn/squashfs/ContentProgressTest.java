package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The numbers behind {@code squashfs create}'s progress line: {@link DirectorySource#contentBytes}
 * (the total, from metadata) equals what the writer then reads and reports through
 * {@link SquashfsWriter#onContentRead} — same excludes, skipped paths and hard links read once.
 */
class ContentProgressTest {
    @TempDir
    Path dir;

    @Test
    void theTotalFromMetadataIsWhatTheWriterReads() throws IOException {
        Path src = Files.createDirectories(dir.resolve("src"));
        Files.createDirectories(src.resolve("a/b"));
        Files.write(src.resolve("a/b/big"), new byte[300_000]);
        Files.write(src.resolve("a/small"), new byte[1234]);
        Files.write(src.resolve("copy"), new byte[1234]); // same content: read, then stored once
        Files.createLink(src.resolve("a/link"), src.resolve("a/b/big")); // hard link: read once
        Files.write(src.resolve("a/skip.log"), new byte[50_000]); // excluded
        Files.createDirectories(src.resolve("cache"));
        Files.write(src.resolve("cache/x"), new byte[70_000]); // excluded with its directory
        Files.write(src.resolve("image.sqfs"), new byte[9_000]); // the image being written: skipped
        Files.createSymbolicLink(src.resolve("sym"), Path.of("a/b/big"));
        SourceFilter filter = new SourceFilter(List.of("**/*.log", "cache"), null, null);
        Set<Path> skip = Set.of(src.resolve("image.sqfs").toAbsolutePath().normalize());

        long total = DirectorySource.contentBytes(src, filter, skip);
        assertThat(total).isEqualTo(300_000 + 1234 + 1234);

        AtomicLong reported = new AtomicLong();
        SquashfsResult r;
        try (FileChannel ch = FileChannel.open(dir.resolve("out.sqfs"), StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withProcessors(1))) {
            w.onContentRead(reported::addAndGet);
            DirectorySource.add(src, w, filter, skip);
            r = w.finish();
        }
        assertThat(reported.get()).isEqualTo(total).isEqualTo(r.inputBytes());
        assertThat(r.duplicateFiles()).isEqualTo(1);
    }
}
