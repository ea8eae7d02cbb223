package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Layouts written by cairn, judged by tools no one here wrote: skopeo (inspect, copy), umoci
 * (unpack: digests, gzip CRC, diff_ids), veritysetup (the appended tree matches the annotation)
 * and unsquashfs (the data part is the tree).
 */
class OciOracleIT {
    @TempDir
    Path dir;

    Path tree(String name) throws IOException {
        Path t = dir.resolve(name);
        Files.createDirectories(t.resolve("etc"));
        Files.createDirectories(t.resolve("usr/lib/deep"));
        Files.writeString(t.resolve("etc/hostname"), "cairn\n");
        Files.write(t.resolve("usr/lib/deep/blob"), SeededData.bytes(3, 1_000_000));
        Files.writeString(t.resolve("usr/lib/ä-utf8"), "name\n");
        Files.createSymbolicLink(t.resolve("link"), Path.of("etc/hostname"));
        Files.setPosixFilePermissions(t.resolve("etc/hostname"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        return t;
    }

    static MainTest.Run ok(String... args) {
        MainTest.Run r = MainTest.run(args);
        assertThat(r.code()).as(String.join(" ", args) + "\n" + r.err()).isZero();
        return r;
    }

    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\" : \"([^\"]+)\"").matcher(json);
        assertThat(m.find()).as(key).isTrue();
        return m.group(1);
    }

    @Test
    void skopeoInspectsAndCopiesOurLayoutsWithEveryDigestKept() throws IOException {
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path lay = dir.resolve("lay");
        String img = field(ok("oci", "layer", "add", lay + ":img", tree("t").toString(), "--type", "tar+gzip", "--json").out(), "manifest");
        String sq = field(ok("oci", "layer", "add", lay + ":sq", tree("t2").toString(), "--type", "squashfs", "--json").out(), "manifest");
        Files.writeString(dir.resolve("linux.efi"), "MZ");
        String art = field(ok("oci", "artifact", "add", lay + ":uki", "--artifact-type", "application/vnd.cairn.uki.v1",
                dir.resolve("linux.efi").toString(), "--subject", "sq", "--json").out(), "manifest");
        ToolOracle.Result inspect = skopeo.runOk("inspect", "oci:" + lay + ":img");
        assertThat(inspect.stdout()).contains("\"Digest\": \"" + img + "\"", "\"Os\": \"linux\"");
        assertThat(skopeo.runOk("inspect", "oci:" + lay + ":sq").stdout()).contains("\"Digest\": \"" + sq + "\"");
        String raw = skopeo.runOk("inspect", "--raw", "oci:" + lay + ":uki").stdout();
        assertThat(raw).isEqualTo(Files.readString(lay.resolve("blobs/sha256/" + art.substring(7))));
        Path copy = dir.resolve("copy");
        for (String[] t : new String[][] {{"img", img}, {"sq", sq}, {"uki", art}}) {
            skopeo.runOk("copy", "--quiet", "oci:" + lay + ":" + t[0], "oci:" + copy + ":" + t[0]);
        }
        // skopeo's layout (index.json without mediaType) read back by cairn: same digests, every blob verified
        String ls = ok("oci", "ls", copy.toString()).out();
        assertThat(ls).contains("img\t" + img, "sq\t" + sq, "uki\t" + art);
        MainTest.Run whole = ok("oci", "inspect", copy.toString(), "--json");
        assertThat(whole.out()).contains("\"missingBlobs\" : [ ]", "\"unknownMediaTypes\" : [ ]");
        assertThat(ok("oci", "inspect", copy + ":sq").out()).contains("referrer: " + art);
        // and cairn can build on the copy: umoci accepts the result
        ToolOracle umoci = ToolOracle.require("umoci", "umoci");
        ok("oci", "layer", "add", copy + ":img", tree("t3").toString(), "--type", "tar");
        umoci.runOk("unpack", "--rootless", "--image", copy + ":img", dir.resolve("bundle").toString());
    }

    @Test
    void umociUnpacksOurTarLayersWithTheRightContent() throws IOException {
        ToolOracle umoci = ToolOracle.require("umoci", "umoci");
        Path lay = dir.resolve("lay");
        Path t = tree("t");
        ok("oci", "layer", "add", lay + ":img", t.toString(), "--type", "tar+gzip");
        Path upper = dir.resolve("upper");
        Files.createDirectories(upper.resolve("etc"));
        Files.writeString(upper.resolve("etc/hostname"), "second layer\n");
        ok("oci", "layer", "add", lay + ":img", upper.toString(), "--type", "tar");
        Path bundle = dir.resolve("bundle");
        umoci.runOk("unpack", "--rootless", "--image", lay + ":img", bundle.toString());
        Path root = bundle.resolve("rootfs");
        assertThat(Files.readString(root.resolve("etc/hostname"))).isEqualTo("second layer\n");
        assertThat(Files.readAllBytes(root.resolve("usr/lib/deep/blob"))).isEqualTo(Files.readAllBytes(t.resolve("usr/lib/deep/blob")));
        assertThat(Files.readString(root.resolve("usr/lib/ä-utf8"))).isEqualTo("name\n");
        assertThat(Files.readSymbolicLink(root.resolve("link"))).isEqualTo(Path.of("etc/hostname"));
    }

    @Test
    void veritysetupComputesTheAnnotatedRootHashAndUnsquashfsTheTree() throws IOException {
        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        Path lay = dir.resolve("lay");
        Path t = tree("t");
        MainTest.Run add = ok("oci", "layer", "add", lay + ":sq", t.toString(), "--type", "squashfs", "--json");
        String rootHash = field(add.out(), "verityRootHash");
        Path blob = lay.resolve("blobs/sha256/" + field(add.out(), "layer").substring(7));
        byte[] b = Files.readAllBytes(blob);
        long bytesUsed = ByteBuffer.wrap(b, 40, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        long offset = (bytesUsed + 4095) / 4096 * 4096; // where atomfs looks for the verity superblock
        String dump = veritysetup.runOk("dump", "--hash-offset=" + offset, blob.toString()).stdout();
        assertThat(dump).contains("Hash type:       \t1", "Data blocks:     \t" + offset / 4096, "Data block size: \t4096",
                "Hash block size: \t4096", "Hash algorithm:  \tsha256");
        assertThat(dump).containsPattern("Salt:\\s+[0-9a-f]{64}\\n");
        veritysetup.runOk("verify", "--hash-offset=" + offset, blob.toString(), blob.toString(), rootHash);
        // a flipped data byte makes veritysetup reject the annotated hash
        Path bad = dir.resolve("bad");
        b[100] ^= 1;
        Files.write(bad, b);
        assertThat(veritysetup.run(java.time.Duration.ofMinutes(1), "verify", "--hash-offset=" + offset, bad.toString(), bad.toString(),
                rootHash).exitCode()).isNotZero();
        b[100] ^= 1;
        Path data = dir.resolve("data.sqfs");
        Files.write(data, java.util.Arrays.copyOf(b, (int) offset));
        Path out = dir.resolve("out");
        unsquashfs.runOk("-no-xattrs", "-d", out.toString(), data.toString());
        assertThat(Files.readAllBytes(out.resolve("usr/lib/deep/blob"))).isEqualTo(Files.readAllBytes(t.resolve("usr/lib/deep/blob")));
        assertThat(Files.readSymbolicLink(out.resolve("link"))).isEqualTo(Path.of("etc/hostname"));
    }

    /** A tar in stacker's overlay form: a 0:0 character device for a deleted path, user.overlay.opaque=y on a directory. */
    Path whiteoutTar() throws IOException {
        Path tar = dir.resolve("whiteouts.tar");
        try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(Files.newOutputStream(tar))) {
            out.setLongFileMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.LONGFILE_POSIX);
            var etc = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("etc/");
            etc.setMode(040755);
            out.putArchiveEntry(etc);
            out.closeArchiveEntry();
            var wh = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("etc/deleted",
                    org.apache.commons.compress.archivers.tar.TarConstants.LF_CHR);
            wh.setMode(020000);
            wh.setDevMajor(0);
            wh.setDevMinor(0);
            out.putArchiveEntry(wh);
            out.closeArchiveEntry();
            var opaque = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("opaque/");
            opaque.setMode(040755);
            opaque.addPaxHeader("SCHILY.xattr.user.overlay.opaque", "y");
            out.putArchiveEntry(opaque);
            out.closeArchiveEntry();
            var keep = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("opaque/keep");
            keep.setMode(0100644);
            keep.setSize(5);
            out.putArchiveEntry(keep);
            out.write("kept\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.closeArchiveEntry();
        }
        return tar;
    }

    @Test
    void overlayWhiteoutsSurviveInSquashfsAndTarLayers() throws IOException {
        ToolOracle rdsquashfs = ToolOracle.require("rdsquashfs", "squashfs-tools-ng");
        ToolOracle tar2sqfs = ToolOracle.require("tar2sqfs", "squashfs-tools-ng");
        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        Path tar = whiteoutTar();
        Path lay = dir.resolve("lay");
        MainTest.Run sq = ok("oci", "layer", "add", lay + ":sq", tar.toString(), "--type", "squashfs", "--json");
        Path blob = lay.resolve("blobs/sha256/" + field(sq.out(), "layer").substring(7));
        byte[] b = Files.readAllBytes(blob);
        long bytesUsed = ByteBuffer.wrap(b, 40, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Path data = dir.resolve("data.sqfs");
        Files.write(data, java.util.Arrays.copyOf(b, (int) ((bytesUsed + 4095) / 4096 * 4096)));
        assertThat(unsquashfs.runOk("-lln", "-UTC", data.toString()).stdout()).containsPattern("c--------- 0/0 +0, +0 .* squashfs-root/etc/deleted");
        assertThat(rdsquashfs.runOk("-x", "/opaque", data.toString()).stdout()).contains("user.overlay.opaque=y");
        MainTest.Run t = ok("oci", "layer", "add", lay + ":tar", tar.toString(), "--type", "tar", "--json");
        Path tarBlob = lay.resolve("blobs/sha256/" + field(t.out(), "layer").substring(7));
        Path fromTar = dir.resolve("from-tar.sqfs");
        tar2sqfs.run(java.time.Duration.ofMinutes(1), null, java.util.List.of("-q", fromTar.toString()), Files.readAllBytes(tarBlob)).assertExit(0);
        assertThat(unsquashfs.runOk("-lln", "-UTC", fromTar.toString()).stdout()).containsPattern("c--------- 0/0 +0, +0 .* squashfs-root/etc/deleted");
        assertThat(rdsquashfs.runOk("-x", "/opaque", fromTar.toString()).stdout()).contains("user.overlay.opaque=y");
    }

    static Path ociTar(Path file, String... entries) throws IOException {
        try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(Files.newOutputStream(file))) {
            for (String name : entries) {
                boolean dir = name.endsWith("/");
                var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry(name);
                e.setMode(dir ? 040755 : 0100644);
                byte[] body = dir ? new byte[0] : (name + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                e.setSize(body.length);
                out.putArchiveEntry(e);
                out.write(body);
                out.closeArchiveEntry();
            }
        }
        return file;
    }

    @Test
    void convertTurnsTarLayersIntoVeritySquashfsWithOverlayWhiteouts() throws IOException {
        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        ToolOracle rdsquashfs = ToolOracle.require("rdsquashfs", "squashfs-tools-ng");
        ToolOracle unsquashfs = ToolOracle.require("unsquashfs", "squashfs-tools");
        ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
        Path lay = dir.resolve("lay");
        ok("oci", "layer", "add", lay + ":img", ociTar(dir.resolve("l1.tar"), "etc/", "etc/old", "etc/keep", "cache/", "cache/a").toString(),
                "--type", "tar+gzip");
        ok("oci", "layer", "add", lay + ":img", ociTar(dir.resolve("l2.tar"), "etc/", "etc/.wh.old", "cache/", "cache/.wh..wh..opq",
                "cache/b").toString(), "--type", "tar+zstd");
        MainTest.Run conv = ok("oci", "convert", lay + ":img", "--json");
        assertThat(conv.out()).contains("\"tag\" : \"img-squashfs\"");
        MainTest.Run insp = ok("oci", "inspect", lay + ":img-squashfs", "--json");
        assertThat(skopeo.runOk("inspect", "oci:" + lay + ":img-squashfs").stdout()).contains(field(conv.out(), "manifest"));
        Matcher layers = Pattern.compile("\"digest\" : \"sha256:([0-9a-f]{64})\",\\s+\"size\" : \\d+,\\s+\"annotations\" : \\{\\s+"
                + "\"io.stackeroci.stacker.atomfs_verity_root_hash\" : \"([0-9a-f]{64})\"").matcher(insp.out());
        List<Path> datas = new java.util.ArrayList<>();
        List<String> digests = new java.util.ArrayList<>();
        while (layers.find()) {
            digests.add("\"sha256:" + layers.group(1) + "\"");
            Path blob = lay.resolve("blobs/sha256/" + layers.group(1));
            byte[] b = Files.readAllBytes(blob);
            long offset = (ByteBuffer.wrap(b, 40, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() + 4095) / 4096 * 4096;
            veritysetup.runOk("verify", "--hash-offset=" + offset, blob.toString(), blob.toString(), layers.group(2));
            Path data = dir.resolve("layer" + datas.size() + ".sqfs");
            Files.write(data, java.util.Arrays.copyOf(b, (int) offset));
            datas.add(data);
        }
        assertThat(datas).hasSize(2);
        assertThat(insp.out()).contains("\"diffIds\" : [ " + String.join(", ", digests) + " ]"); // stacker: diff_id = layer digest
        assertThat(unsquashfs.runOk("-lln", "-UTC", datas.get(0).toString()).stdout()).contains("squashfs-root/etc/old", "squashfs-root/cache/a");
        String upper = unsquashfs.runOk("-lln", "-UTC", datas.get(1).toString()).stdout();
        assertThat(upper).containsPattern("c--------- 0/0 +0, +0 .* squashfs-root/etc/old").contains("squashfs-root/cache/b")
                .doesNotContain(".wh.");
        assertThat(rdsquashfs.runOk("-x", "/cache", datas.get(1).toString()).stdout()).contains("user.overlay.opaque=y");
        assertThat(rdsquashfs.runOk("-x", "/etc", datas.get(1).toString()).stdout()).doesNotContain("opaque");
        assertThat(insp.out()).contains("\"os\" : \"linux\"");
    }
}
