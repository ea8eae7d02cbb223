package dev.cairn.squashfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.NativeFiles;
import dev.cairn.testing.NastyTree;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Extended attributes from a directory source: every namespace, the regexes, what is warned about. */
class XattrSourceTest {
    @TempDir
    Path dir;

    private static SortedMap<String, byte[]> map(String... nameValue) {
        SortedMap<String, byte[]> m = new TreeMap<>();
        for (int i = 0; i < nameValue.length; i += 2) {
            m.put(nameValue[i], nameValue[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return m;
    }

    @Test
    void regexesAreMatchedAnywhereInTheFullNameExcludeFirst() {
        XattrSelection s = new XattrSelection("^(security|trusted)\\.", "capability$");
        SortedMap<String, byte[]> out = s.select(map("security.capability", "c", "security.selinux", "s", "trusted.overlay.opaque", "y",
                "user.x", "u", "system.posix_acl_access", "a"));
        assertThat(out).containsOnlyKeys("security.selinux", "trusted.overlay.opaque");
        // what the regexes leave out is the user's choice: no warning (system. did not pass the include)
        assertThat(s.warnings()).isEmpty();

        XattrSelection posix = new XattrSelection("[[:alpha:]]+\\.over[a-z]", null);
        assertThat(posix.select(map("trusted.overlay.opaque", "y", "user.x", "u"))).containsOnlyKeys("trusted.overlay.opaque");
        // a backslash inside brackets is literal in POSIX
        assertThat(new XattrSelection("[\\]x", null).wanted("user.a\\x")).isTrue();
        assertThat(new XattrSelection("[\\]x", null).wanted("user.ax")).isFalse();
        assertThatThrownBy(() -> new SourceFilter(List.of(), null, null, "user.(", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--xattrs-include");
        assertThatThrownBy(() -> new XattrSelection("[[:nope:]]", null)).hasMessageContaining("[:nope:]");
    }

    @Test
    void unsupportedNamespacesAreCountedPerEntryAndNamedOnce() {
        XattrSelection s = new XattrSelection(null, null);
        SortedMap<String, byte[]> in = map("system.posix_acl_access", "a", "system.posix_acl_default", "d", "user.keep", "k");
        assertThat(s.select(in)).containsOnlyKeys("user.keep");
        assertThat(s.select(map("system.posix_acl_access", "a"))).isEmpty();
        assertThat(s.select(map("user.only", "x"))).containsOnlyKeys("user.only");
        s.unreadable(new TreeMap<>(java.util.Map.of("security.selinux", "permission denied")));
        assertThat(s.warnings()).containsExactly(
                "2 entries have extended attributes in the system. namespace (system.posix_acl_access, system.posix_acl_default),"
                        + " which SquashFS cannot store (only user., trusted. and security.): left out, as mksquashfs does",
                "could not read the security. extended attributes of 1 entry (security.selinux: permission denied): left out");
    }

    private SquashfsImage build(Path tree, SquashfsOptions o, SourceFilter f, List<String> warnings) throws IOException {
        Path img = dir.resolve("img-" + System.nanoTime() + ".sqfs");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, o)) {
            DirectorySource.add(tree, w, f, Set.of());
            warnings.addAll(w.finish().warnings());
        }
        return SquashfsImage.open(img);
    }

    /** An access ACL with a named user: one the kernel keeps as system.posix_acl_access (not folded into the mode). */
    private static byte[] acl() {
        ByteBuffer b = ByteBuffer.allocate(4 + 5 * 8).order(ByteOrder.LITTLE_ENDIAN).putInt(2);
        int[][] entries = {{0x01, 6, -1}, {0x02, 6, 1000}, {0x04, 4, -1}, {0x10, 6, -1}, {0x20, 4, -1}};
        for (int[] e : entries) {
            b.putShort((short) e[0]).putShort((short) e[1]).putInt(e[2]);
        }
        return b.array();
    }

    @Test
    void everyNamespaceOfEveryKindOfEntryWithoutFollowingLinks() throws IOException, InterruptedException {
        Assumptions.assumeTrue(NativeFiles.unavailable() == null, "JNA: " + NativeFiles.unavailable());
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Path f = Files.writeString(tree.resolve("file"), "x");
        NativeFiles.setXattr(f, "user.a", new byte[] {0, (byte) 0xff});
        NativeFiles.setXattr(tree, "user.root", "r".getBytes(StandardCharsets.UTF_8));
        Path acl = Files.writeString(tree.resolve("with-acl"), "acl");
        NativeFiles.setXattr(acl, "system.posix_acl_access", acl());
        Files.createSymbolicLink(tree.resolve("link"), Path.of("file"));
        boolean root = NastyTree.isRoot();
        byte[] cap = java.util.HexFormat.of().parseHex("0100000200200000000000000000000000000000"); // cap_net_raw+ep
        if (root) {
            NativeFiles.setXattr(tree.resolve("link"), "trusted.on-link", "l".getBytes(StandardCharsets.UTF_8));
            NativeFiles.setXattr(f, "security.capability", cap);
            Path sub = Files.createDirectories(tree.resolve("upper/opaque"));
            NativeFiles.setXattr(sub, "trusted.overlay.opaque", "y".getBytes(StandardCharsets.UTF_8));
            new ProcessBuilder("mknod", tree.resolve("null").toString(), "c", "1", "3").inheritIO().start().waitFor();
            NativeFiles.setXattr(tree.resolve("null"), "security.selinux", "system_u:object_r:null_device_t:s0\0".getBytes(StandardCharsets.UTF_8));
        }
        List<String> warnings = new ArrayList<>();
        try (SquashfsImage img = build(tree, SquashfsOptions.defaults(Compression.GZIP).withProcessors(1), SourceFilter.none(), warnings)) {
            assertThat(img.xattrs(img.lookup("file")).get("user.a")).containsExactly(0, 0xff);
            assertThat(img.xattrs(img.root())).containsOnlyKeys("user.root");
            assertThat(img.xattrs(img.lookup("with-acl"))).isEmpty();
            assertThat(warnings).hasSize(1);
            assertThat(warnings.get(0)).startsWith("1 entry has extended attributes in the system. namespace (system.posix_acl_access)");
            if (root) {
                assertThat(img.xattrs(img.lookup("link"))).containsOnlyKeys("trusted.on-link");
                assertThat(img.xattrs(img.lookup("file")).get("security.capability")).isEqualTo(cap);
                assertThat(img.xattrs(img.lookup("upper/opaque"))).containsOnlyKeys("trusted.overlay.opaque");
                assertThat(new String(img.xattrs(img.lookup("null")).get("security.selinux"), StandardCharsets.UTF_8))
                        .isEqualTo("system_u:object_r:null_device_t:s0\0");

                // extract writes every namespace back, symlinks included, the capability after the owner
                Path out = dir.resolve("out");
                List<String> extractWarnings = new ArrayList<>();
                Extractor.extract(img, out, List.of(), true, extractWarnings::add);
                assertThat(extractWarnings).isEmpty();
                for (String p : List.of("", "file", "link", "upper/opaque", "null")) {
                    SortedMap<String, byte[]> src = NativeFiles.readXattrs(p.isEmpty() ? tree : tree.resolve(p)).values();
                    SortedMap<String, byte[]> got = NativeFiles.readXattrs(p.isEmpty() ? out : out.resolve(p)).values();
                    assertThat(hex(got)).as(p).isEqualTo(hex(src));
                }
            }
        }
        // -no-xattrs: nothing read, nothing warned
        warnings.clear();
        try (SquashfsImage img = build(tree, SquashfsOptions.defaults(Compression.GZIP).withXattrs(false), SourceFilter.none(), warnings)) {
            assertThat(img.xattrs(img.lookup("file"))).isEmpty();
            assertThat(warnings).isEmpty();
        }
        // the regexes, as mksquashfs -xattrs-exclude/-xattrs-include
        warnings.clear();
        try (SquashfsImage img = build(tree, SquashfsOptions.defaults(Compression.GZIP), SourceFilter.none().withXattrs(null, "^(user|system)\\."),
                warnings)) {
            assertThat(img.xattrs(img.lookup("file"))).doesNotContainKey("user.a");
            assertThat(img.xattrs(img.root())).isEmpty();
            assertThat(warnings).isEmpty();
        }
    }

    @Test
    void extractAsNonRootCountsWhatTheKernelRefusesOncePerNamespace() throws IOException {
        Assumptions.assumeTrue(NativeFiles.unavailable() == null, "JNA: " + NativeFiles.unavailable());
        Path img = dir.resolve("x.sqfs");
        SortedMap<String, byte[]> x = map("trusted.overlay.opaque", "y", "user.ok", "fine");
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, SquashfsOptions.defaults(Compression.GZIP))) {
            w.addDirectory("a", new EntryMetadata(0755, 0, 0, 0, x));
            w.addDirectory("b", new EntryMetadata(0755, 0, 0, 0, x));
            w.addFile("b/f", new EntryMetadata(0644, 0, 0, 0, map("user.ok", "fine")), new java.io.ByteArrayInputStream(new byte[0]));
            w.finish();
        }
        // as root, pretend not to be: trusted. still gets set (the kernel decides), so only count what it refuses
        List<String> warnings = new ArrayList<>();
        try (SquashfsImage i = SquashfsImage.open(img)) {
            Extractor.extract(i, dir.resolve("out"), List.of(), false, warnings::add);
        }
        assertThat(NativeFiles.readXattrs(dir.resolve("out/b/f")).values()).containsOnlyKeys("user.ok");
        if (NastyTree.isRoot()) {
            assertThat(warnings).isEmpty();
            assertThat(NativeFiles.readXattrs(dir.resolve("out/a")).values()).containsOnlyKeys("trusted.overlay.opaque", "user.ok");
        } else {
            assertThat(warnings).hasSize(1);
            assertThat(warnings.get(0)).isEqualTo("could not set 2 trusted. extended attributes (trusted.overlay.opaque) of 2 entries:"
                    + " operation not permitted (EPERM), needs root");
        }
    }

    private static SortedMap<String, String> hex(SortedMap<String, byte[]> m) {
        SortedMap<String, String> h = new TreeMap<>();
        m.forEach((k, v) -> h.put(k, java.util.HexFormat.of().formatHex(v)));
        return h;
    }
}
