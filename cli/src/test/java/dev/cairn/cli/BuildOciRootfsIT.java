package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import dev.cairn.testing.boot.DebianBootFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn build} with {@code rootfs.oci}: a three-layer image (tar+gzip, then plain tar twice: Debian 12's umoci has no zstd;
 * whiteouts, an opaque directory, a file over a directory and a directory over a file, a replaced
 * file with a hard link to it) is flattened into the SquashFS; unsquashfs's extraction of it must
 * equal what umoci (an independent OCI implementation) unpacks from the same layout: names, types,
 * permission bits, contents and symlink targets.
 */
class BuildOciRootfsIT {
    @TempDir
    Path dir;

    private static void ok(String... args) {
        MainTest.Run r = MainTest.run(args);
        assertThat(r.code()).as(String.join(" ", args) + "\n" + r.err()).isZero();
    }

    private Path file(String rel, String content) throws IOException {
        Path p = dir.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        return p;
    }

    @Test
    void flattenedLayersEqualUmocisUnpack() throws Exception {
        ToolOracle umoci = ToolOracle.require("umoci", "umoci");
        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        // layer 1: the base
        file("l1/etc/hostname", "one\n");
        file("l1/etc/keep", "kept\n");
        file("l1/var/cache/a", "lower a\n");
        file("l1/var/cache/sub/b", "lower b\n");
        file("l1/opt/app/bin/run", "#!/bin/sh\n");
        file("l1/srv/dir/inner", "inner\n");
        file("l1/file-to-dir", "was a file\n");
        file("l1/usr/bin/tool", "old tool\n");
        Files.setPosixFilePermissions(dir.resolve("l1/opt/app/bin/run"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.createSymbolicLink(dir.resolve("l1/etc/link"), Path.of("keep"));
        // layer 2: whiteouts, an opaque directory, replacements both ways
        file("l2/etc/.wh.hostname", "");
        file("l2/var/cache/.wh..wh..opq", "");
        file("l2/var/cache/fresh", "upper fresh\n");
        file("l2/opt/.wh.app", "");
        file("l2/srv/dir", "now a file\n");
        file("l2/file-to-dir/x", "now a directory\n");
        // layer 3: a tar with a replaced file and a hard link to it
        Path l3 = dir.resolve("l3.tar");
        try (OutputStream o = Files.newOutputStream(l3); TarArchiveOutputStream tar = new TarArchiveOutputStream(o)) {
            byte[] tool = "new tool\n".getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry d = new TarArchiveEntry("usr/bin/");
            d.setMode(040755);
            tar.putArchiveEntry(d);
            tar.closeArchiveEntry();
            TarArchiveEntry f = new TarArchiveEntry("usr/bin/tool");
            f.setMode(0100755);
            f.setSize(tool.length);
            tar.putArchiveEntry(f);
            tar.write(tool);
            tar.closeArchiveEntry();
            TarArchiveEntry h = new TarArchiveEntry("usr/bin/tool-alias", TarConstants.LF_LINK);
            h.setLinkName("usr/bin/tool");
            tar.putArchiveEntry(h);
            tar.closeArchiveEntry();
        }
        Path layout = dir.resolve("layout");
        ok("oci", "layer", "add", layout + ":v1", dir.resolve("l1").toString(), "--type", "tar+gzip");
        ok("oci", "layer", "add", layout + ":v1", dir.resolve("l2").toString(), "--type", "tar");
        ok("oci", "layer", "add", layout + ":v1", l3.toString(), "--type", "tar");

        Files.createDirectories(dir.resolve("initramfs"));
        Files.writeString(dir.resolve("initramfs/init"), "#!/bin/sh\n");
        Path spec = file("image.yaml", String.join("\n",
                "apiVersion: cairn.dev/v1",
                "image:",
                "  name: ocirootfs",
                "  version: 1.0.0",
                "sourceDateEpoch: 1700000000",
                "rootfs:",
                "  oci: layout:v1",
                "kernel:",
                "  linux: " + DebianBootFiles.kernel(),
                "  stub: " + DebianBootFiles.stub(),
                "  cmdline: console=ttyS0 roothash=${verity.roothash}",
                "  initramfs:",
                "    dir: initramfs",
                "keys:",
                "  secureboot: dev",
                "  manifest: dev",
                ""));
        Path out = dir.resolve("out");
        ok("build", spec.toString(), "--out", out.toString());

        Path ours = dir.resolve("ours");
        unsquashfs.runOk("-d", ours.toString(), out.resolve("rootfs.img").toString());
        Path bundle = dir.resolve("bundle");
        umoci.runOk("unpack", "--rootless", "--image", layout + ":v1", bundle.toString());
        Map<String, String> theirs = listing(bundle.resolve("rootfs"));
        Map<String, String> mine = listing(ours);
        assertThat(mine).isEqualTo(theirs);
        // and the flattening did what the layers say (so the comparison is not between two empty trees)
        assertThat(mine).doesNotContainKeys("etc/hostname", "var/cache/a", "var/cache/sub", "opt/app", "srv/dir/inner",
                "etc/.wh.hostname", "var/cache/.wh..wh..opq", "opt/.wh.app");
        assertThat(mine).containsKeys("etc/keep", "etc/link", "var/cache/fresh", "file-to-dir/x", "opt");
        assertThat(mine.get("srv/dir")).startsWith("- ");
        assertThat(mine.get("file-to-dir")).startsWith("d ");
        assertThat(Files.readString(ours.resolve("usr/bin/tool-alias"))).isEqualTo("new tool\n");
        assertThat(Files.getAttribute(ours.resolve("usr/bin/tool-alias"), "unix:ino"))
                .isEqualTo(Files.getAttribute(ours.resolve("usr/bin/tool"), "unix:ino"));
    }

    /** relative path → "TYPE PERMISSIONS CONTENT-SHA256|LINK-TARGET" for everything below {@code root}. */
    private static Map<String, String> listing(Path root) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(p -> !p.equals(root)).toList()) {
                String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                String v;
                if (Files.isSymbolicLink(p)) {
                    v = "l " + Files.readSymbolicLink(p);
                } else if (Files.isDirectory(p)) {
                    v = "d " + perms;
                } else {
                    v = "- " + perms + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
                }
                m.put(root.relativize(p).toString(), v);
            }
        }
        return m;
    }
}
