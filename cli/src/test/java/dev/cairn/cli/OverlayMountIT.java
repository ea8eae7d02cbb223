package dev.cairn.cli;

import static dev.cairn.cli.OciOracleIT.field;
import static dev.cairn.cli.OciOracleIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/**
 * The kernel as oracle for whiteouts: two SquashFS+verity layers written by cairn are loop-mounted
 * (only the SquashFS part of each blob, after {@code veritysetup verify} checked it against the
 * layer annotation) and stacked with {@code mount -t overlay -o ro,userxattr,lowerdir=UPPER:LOWER},
 * the way atomfs/stacker consumers stack them. A deleted path must be gone and an opaque directory
 * must hide the lower layer's content. Needs root and a kernel that lets it mount (probed with a
 * tmpfs mount): skipped locally otherwise, a failure under {@code CI=true}.
 */
class OverlayMountIT {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final Pattern LAYER = Pattern.compile("\"digest\" : \"sha256:([0-9a-f]{64})\",\\s+\"size\" : \\d+,\\s+"
            + "\"annotations\" : \\{\\s+\"io.stackeroci.stacker.atomfs_verity_root_hash\" : \"([0-9a-f]{64})\"");

    @TempDir
    Path dir;

    ToolOracle mount;
    ToolOracle umount;
    ToolOracle losetup;
    ToolOracle veritysetup;

    @BeforeEach
    void needRootAndMount() throws IOException {
        mount = ToolOracle.require("mount", "mount");
        umount = ToolOracle.require("umount", "mount");
        losetup = ToolOracle.require("losetup", "mount");
        veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        String uid = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .map(l -> l.split("\\s+")[2]).findFirst().orElse("?"); // effective uid
        if (!uid.equals("0")) {
            unavailable("overlayfs mount test needs root (effective uid " + uid + ")");
        }
        Path probe = Files.createDirectories(dir.resolve("probe"));
        ToolOracle.Result r = mount.run(TIMEOUT, "-t", "tmpfs", "-o", "size=64k", "cairn-probe", probe.toString());
        if (r.exitCode() != 0) {
            unavailable("mount is not permitted here (tmpfs probe: " + r.stderr().strip() + ")");
        }
        umount.runOk(probe.toString());
    }

    private static void unavailable(String msg) {
        if (ToolOracle.isCi()) {
            throw new AssertionFailedError(msg + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(msg);
    }

    /** The upper layer in stacker's overlay form: 0:0 character device {@code gone}, opaque {@code opaque/} with {@code new}. */
    Path stackerUpperTar() throws IOException {
        Path tar = dir.resolve("upper.tar");
        try (var out = new TarArchiveOutputStream(Files.newOutputStream(tar))) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            var wh = new TarArchiveEntry("gone", TarConstants.LF_CHR);
            wh.setMode(020000);
            wh.setDevMajor(0);
            wh.setDevMinor(0);
            out.putArchiveEntry(wh);
            out.closeArchiveEntry();
            var opaque = new TarArchiveEntry("opaque/");
            opaque.setMode(040755);
            opaque.addPaxHeader("SCHILY.xattr.user.overlay.opaque", "y");
            out.putArchiveEntry(opaque);
            out.closeArchiveEntry();
            byte[] body = "new\n".getBytes(StandardCharsets.US_ASCII);
            var file = new TarArchiveEntry("opaque/new");
            file.setMode(0100644);
            file.setSize(body.length);
            out.putArchiveEntry(file);
            out.write(body);
            out.closeArchiveEntry();
        }
        return tar;
    }

    Path lowerTree() throws IOException {
        Path t = dir.resolve("lower");
        Files.createDirectories(t.resolve("opaque"));
        Files.createDirectories(t.resolve("kept"));
        Files.writeString(t.resolve("gone"), "gone\n");
        Files.writeString(t.resolve("opaque/old"), "old\n");
        Files.writeString(t.resolve("kept/file"), "kept\n");
        return t;
    }

    @Test
    void stackerFormWhiteoutsFromLayerAddHideLowerFilesInAnOverlayMount() throws IOException {
        Path lay = dir.resolve("lay");
        ok("oci", "layer", "add", lay + ":img", lowerTree().toString(), "--type", "squashfs");
        ok("oci", "layer", "add", lay + ":img", stackerUpperTar().toString(), "--type", "squashfs");
        assertOverlay(lay, "img", "kept/file", "kept\n", "opaque/new", "new\n");
    }

    @Test
    void ociWhiteoutsConvertedToOverlayFormHideLowerFilesInAnOverlayMount() throws IOException {
        Path lay = dir.resolve("lay");
        ok("oci", "layer", "add", lay + ":img", OciOracleIT.ociTar(dir.resolve("l1.tar"), "gone", "opaque/", "opaque/old", "kept/",
                "kept/file").toString(), "--type", "tar+gzip");
        ok("oci", "layer", "add", lay + ":img", OciOracleIT.ociTar(dir.resolve("l2.tar"), ".wh.gone", "opaque/", "opaque/.wh..wh..opq",
                "opaque/new").toString(), "--type", "tar+zstd");
        ok("oci", "convert", lay + ":img");
        // ociTar writes each file's own name as its content
        assertOverlay(lay, "img-squashfs", "kept/file", "kept/file\n", "opaque/new", "opaque/new\n");
    }

    /** Mounts the image's two layers as an overlay and checks what a container would see. */
    void assertOverlay(Path lay, String tag, String kept, String keptContent, String fresh, String freshContent) throws IOException {
        Matcher m = LAYER.matcher(ok("oci", "inspect", lay + ":" + tag, "--json").out());
        List<Path> blobs = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        while (m.find()) {
            Path blob = lay.resolve("blobs/sha256/" + m.group(1));
            long squashfsSize = paddedSquashfsSize(blob);
            // what gets mounted is exactly what the annotated root hash covers
            veritysetup.runOk("verify", "--hash-offset=" + squashfsSize, blob.toString(), blob.toString(), m.group(2));
            blobs.add(blob);
            sizes.add(squashfsSize);
        }
        assertThat(blobs).as("squashfs+verity layers of " + tag).hasSize(2);
        try (Mounts mounts = new Mounts()) {
            Path lower = mounts.squashfs(blobs.get(0), sizes.get(0), dir.resolve("m-lower"));
            Path upper = mounts.squashfs(blobs.get(1), sizes.get(1), dir.resolve("m-upper"));
            // the lower layer alone has what the upper one deletes, so the checks below can fail
            assertThat(lower.resolve("gone")).isRegularFile();
            assertThat(lower.resolve("opaque/old")).isRegularFile();
            Path root = mounts.overlay(upper, lower, dir.resolve("m-overlay"));
            assertThat(root.resolve("gone")).doesNotExist();
            assertThat(root.resolve("opaque/old")).doesNotExist();
            assertThat(root.resolve("opaque")).isDirectory();
            try (var names = Files.list(root.resolve("opaque"))) {
                assertThat(names.map(p -> p.getFileName().toString())).containsExactly(Path.of(fresh).getFileName().toString());
            }
            assertThat(Files.readString(root.resolve(fresh))).isEqualTo(freshContent);
            assertThat(Files.readString(root.resolve(kept))).isEqualTo(keptContent);
            try (var names = Files.list(root)) {
                assertThat(names.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("kept", "opaque");
            }
        }
    }

    /** The SquashFS part of a layer blob: bytes_used rounded up to 4 KiB, where the verity superblock starts. */
    static long paddedSquashfsSize(Path blob) throws IOException {
        byte[] head = new byte[96];
        try (var in = Files.newInputStream(blob)) {
            assertThat(in.readNBytes(head, 0, head.length)).isEqualTo(head.length);
        }
        assertThat(ByteBuffer.wrap(head, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()).as("squashfs magic").isEqualTo(0x73717368);
        long bytesUsed = ByteBuffer.wrap(head, 40, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return (bytesUsed + 4095) / 4096 * 4096;
    }

    /** Loop devices and mounts, undone in reverse order on close (also when an assertion failed). */
    final class Mounts implements AutoCloseable {
        private final Deque<String[]> undo = new ArrayDeque<>(); // {"umount", dir} or {"losetup", device}

        Path squashfs(Path blob, long size, Path at) throws IOException {
            String loop = losetup.runOk("--find", "--show", "--read-only", "--offset", "0", "--sizelimit", Long.toString(size),
                    blob.toString()).stdout().strip();
            assertThat(loop).startsWith("/dev/loop");
            undo.push(new String[] {"losetup", loop});
            Files.createDirectories(at);
            mount.runOk("-t", "squashfs", "-o", "ro", loop, at.toString());
            undo.push(new String[] {"umount", at.toString()});
            return at;
        }

        Path overlay(Path upper, Path lower, Path at) throws IOException {
            Files.createDirectories(at);
            mount.runOk("-t", "overlay", "overlay", "-o", "ro,userxattr,lowerdir=" + upper + ":" + lower, at.toString());
            undo.push(new String[] {"umount", at.toString()});
            return at;
        }

        @Override
        public void close() {
            List<String> failures = new ArrayList<>();
            while (!undo.isEmpty()) {
                String[] u = undo.pop();
                ToolOracle.Result r = u[0].equals("umount") ? umount.run(TIMEOUT, u[1]) : losetup.run(TIMEOUT, "-d", u[1]);
                if (r.exitCode() != 0 && u[0].equals("umount")) {
                    r = umount.run(TIMEOUT, "-l", u[1]); // never leave a mount under the temp dir JUnit deletes
                }
                if (r.exitCode() != 0) {
                    failures.add(r.command() + ": " + r.stderr().strip());
                }
            }
            assertThat(failures).as("unmount/detach").isEmpty();
        }
    }
}
