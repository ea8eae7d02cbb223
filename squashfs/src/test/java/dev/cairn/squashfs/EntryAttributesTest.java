package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EntryAttributesTest {
    @TempDir
    Path dir;

    /** Records each call; sets user.path = the path it was asked for, user.digest = the content digest. */
    static final class Recorder implements EntryAttributes {
        final List<String> calls = Collections.synchronizedList(new ArrayList<>());

        @Override
        public String contentDigest() {
            return "SHA-256";
        }

        @Override
        public SortedMap<String, byte[]> attributes(String path, int type, EntryMetadata meta, byte[] digest) {
            calls.add(path + " " + Integer.toOctalString(type));
            SortedMap<String, byte[]> x = new TreeMap<>(meta.xattrs());
            x.put("user.path", path.getBytes(StandardCharsets.UTF_8));
            if (digest != null) {
                x.put("user.digest", digest);
            }
            return x;
        }
    }

    @Test
    void everyInodeOnceWithItsFirstPathTypeAndContentDigest() throws Exception {
        Path img = dir.resolve("a.sqfs");
        Recorder rec = new Recorder();
        byte[] big = new byte[300_000];
        new java.util.Random(5).nextBytes(big);
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withProcessors(2))) {
            w.addEntryAttributes(rec);
            // a second set sees what the first set
            w.addEntryAttributes((path, type, meta, digest) -> {
                assertThat(meta.xattrs()).containsKey("user.path");
                return meta.xattrs();
            });
            w.addFile("b/big", EntryMetadata.of(0755, 0, 0, 0), new ByteArrayInputStream(big));
            w.addFile("a", EntryMetadata.of(0644, 0, 0, 0), new ByteArrayInputStream("hello".getBytes(StandardCharsets.US_ASCII)));
            w.addFile("b/copy", EntryMetadata.of(0644, 0, 0, 0), new ByteArrayInputStream(big)); // a duplicate: its own inode
            w.addHardLink("c-link", "a");
            w.addSymlink("d", EntryMetadata.of(0777, 0, 0, 0), "a");
            w.addDevice("e", EntryMetadata.of(0600, 0, 0, 0), 'c', 1, 3);
            w.addFifo("f", EntryMetadata.of(0600, 0, 0, 0));
            w.finish();
        }
        assertThat(rec.calls).containsExactlyInAnyOrder("/ 40000", "/a 100000", "/b 40000", "/b/big 100000", "/b/copy 100000",
                "/d 120000", "/e 20000", "/f 10000");
        try (SquashfsImage im = SquashfsImage.open(img)) {
            assertThat(im.xattrs(im.lookup("c-link")).get("user.path")).asString(StandardCharsets.UTF_8).isEqualTo("/a");
            assertThat(im.xattrs(im.lookup("")).get("user.path")).asString(StandardCharsets.UTF_8).isEqualTo("/");
            assertThat(HexFormat.of().formatHex(im.xattrs(im.lookup("b/big")).get("user.digest")))
                    .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(big)));
            assertThat(im.xattrs(im.lookup("b/copy")).get("user.digest")).isEqualTo(im.xattrs(im.lookup("b/big")).get("user.digest"));
            assertThat(HexFormat.of().formatHex(im.xattrs(im.lookup("a")).get("user.digest")))
                    .isEqualTo("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
            assertThat(im.xattrs(im.lookup("d"))).doesNotContainKey("user.digest");
        }
    }

    @Test
    void misuseIsRefused() throws Exception {
        Path img = dir.resolve("b.sqfs");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP).withXattrs(false))) {
            assertThatThrownBy(() -> w.addEntryAttributes(new Recorder())).isInstanceOf(IllegalStateException.class);
        }
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP))) {
            w.addFile("a", EntryMetadata.of(0644, 0, 0, 0), new ByteArrayInputStream(new byte[1]));
            assertThatThrownBy(() -> w.addEntryAttributes(new Recorder())).hasMessageContaining("before the first file");
            w.addEntryAttributes((path, type, meta, digest) -> {
                SortedMap<String, byte[]> x = new TreeMap<>(meta.xattrs());
                x.put("bogus.name", new byte[1]);
                return x;
            });
            assertThatThrownBy(w::finish).hasMessageContaining("/");
        }
    }
}
