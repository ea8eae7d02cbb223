package dev.cairn.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.squashfs.SquashfsEntry;
import dev.cairn.squashfs.SquashfsImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import dev.cairn.testing.ExampleSpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rootfs.overlay} and {@code rootfs.clean} in a whole build: what the SquashFS holds (read
 * back with cairn's reader), what the manifest and the step report say, the cache key, and the
 * refusals.
 */
class RootfsTreeTest {
    @TempDir
    Path dir;
    Path spec;
    String base;

    @BeforeEach
    void example() throws IOException {
        spec = ExampleSpec.write(ExampleSpec.examplesDir(), dir);
        base = Files.readString(spec);
        Path root = dir.resolve("rootfs");
        // state a Debian root carries that an immutable image must not
        write(root, "etc/machine-id", "0123456789abcdef0123456789abcdef\n", "rw-r--r--");
        write(root, "etc/ssh/ssh_host_rsa_key", "PRIVATE\n", "rw-------");
        write(root, "etc/ssh/ssh_host_rsa_key.pub", "ssh-rsa AAAA\n", "rw-r--r--");
        write(root, "etc/ssh/sshd_config", "Port 22\n", "rw-r--r--");
        write(root, "var/log/dpkg.log", "installed\n", "rw-r--r--");
        write(root, "var/log/apt/history.log", "apt\n", "rw-r--r--");
        Files.createDirectories(root.resolve("var/log/journal"));
        write(root, "var/cache/apt/pkgcache.bin", "cache", "rw-r--r--");
        write(root, "var/cache/apt/archives/systemd_252.deb", "deb", "rw-r--r--");
        write(root, "var/cache/apt/archives/lock", "", "rw-r-----");
        Files.createDirectories(root.resolve("var/cache/apt/archives/partial"));
        write(root, "var/lib/apt/lists/lock", "", "rw-r-----");
        write(root, "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", "release", "rw-r--r--");
        write(root, "var/lib/apt/lists/auxfiles/x", "aux", "rw-r--r--");
        Files.createDirectories(root.resolve("var/lib/apt/lists/partial"));
        write(root, "var/lib/systemd/random-seed", "seed", "rw-------");
        write(root, "var/cache/ldconfig/aux-cache", "aux", "rw-------");
        Files.createDirectories(root.resolve("var/lib/dbus"));
        Files.createSymbolicLink(root.resolve("var/lib/dbus/machine-id"), Path.of("/etc/machine-id"));
        // two overlays: the second wins; the checkout's modes (umask 077 here) must not show
        Path o1 = dir.resolve("overlay");
        write(o1, "etc/hostname", "first\n", "rw-------");
        write(o1, "etc/systemd/system/marker.service", "[Unit]\n", "rw-------");
        write(o1, "usr/local/bin/tool", "#!/bin/sh\n", "rwx------");
        write(o1, "etc/ssh/ssh_host_ed25519_key", "OVERLAY PRIVATE\n", "rw-------");
        Files.createSymbolicLink(o1.resolve("usr/local/bin/hello"), Path.of("../../bin/hello"));
        Files.setPosixFilePermissions(o1.resolve("etc/systemd"), PosixFilePermissions.fromString("rwx------"));
        Path o2 = dir.resolve("site");
        write(o2, "etc/hostname", "second\n", "rw-r-----");
    }

    private static void write(Path root, String rel, String content, String perms) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
    }

    private Path spec(String rootfsExtra) throws IOException {
        Path s = dir.resolve("image.yaml");
        Files.writeString(s, base.replace("  compression: zstd\n", "  compression: zstd\n" + rootfsExtra));
        return s;
    }

    private static final String BOTH = String.join("\n",
            "  overlay: [overlay, site]",
            "  clean: [machine-id, ssh-host-keys, logs, apt-caches, random-seed, ldconfig-aux-cache]",
            "");

    /** path → "TYPE MODE UID:GID [content or -> target]" for every entry of the image. */
    private static TreeMap<String, String> tree(Path img) throws IOException {
        TreeMap<String, String> m = new TreeMap<>();
        try (SquashfsImage sq = SquashfsImage.open(img)) {
            List<SquashfsEntry> all = new ArrayList<>();
            sq.walk(all::add);
            for (SquashfsEntry e : all) {
                String s = e.type().letter() + " " + Integer.toOctalString(e.mode() & 07777) + " " + e.uid() + ":" + e.gid();
                if (e.type() == SquashfsEntry.Type.FILE) {
                    try (InputStream in = sq.open(e)) {
                        s += " " + new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                    }
                } else if (e.type() == SquashfsEntry.Type.SYMLINK) {
                    s += " -> " + e.target();
                }
                m.put(e.path(), s);
            }
        }
        return m;
    }

    @Test
    void overlaysAndCleanUpsShapeTheImageAndAreRecorded() throws Exception {
        List<StepReport> reports = new ArrayList<>();
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec(BOTH)), dir.resolve("out")).build());
        TreeMap<String, String> t = tree(r.out().resolve("rootfs.img"));

        assertThat(t.get("etc/hostname")).isEqualTo("- 644 0:0 second");
        assertThat(t.get("etc/systemd")).as("a directory new from the overlay").isEqualTo("d 755 0:0");
        assertThat(t.get("etc/systemd/system/marker.service")).isEqualTo("- 644 0:0 [Unit]");
        assertThat(t.get("usr/local/bin/tool")).isEqualTo("- 755 0:0 #!/bin/sh");
        assertThat(t.get("usr/local/bin/hello")).isEqualTo("l 777 0:0 -> ../../bin/hello");
        assertThat(t.get("etc")).as("a directory the source has keeps its mode (pseudo 755)").isEqualTo("d 755 0:0");

        assertThat(t.get("etc/machine-id")).isEqualTo("- 444 0:0 ");
        assertThat(t).doesNotContainKeys("var/lib/dbus/machine-id", "etc/ssh/ssh_host_rsa_key", "etc/ssh/ssh_host_rsa_key.pub",
                "etc/ssh/ssh_host_ed25519_key", "var/log/dpkg.log", "var/log/apt/history.log", "var/cache/apt/pkgcache.bin",
                "var/cache/apt/archives/systemd_252.deb", "var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
                "var/lib/apt/lists/auxfiles", "var/lib/apt/lists/auxfiles/x", "var/lib/systemd/random-seed",
                "var/cache/ldconfig/aux-cache");
        assertThat(t).containsKeys("etc/ssh/sshd_config", "var/log", "var/log/apt", "var/log/journal", "var/cache/apt/archives/lock",
                "var/cache/apt/archives/partial", "var/lib/apt/lists/lock", "var/lib/apt/lists/partial", "var/lib/dbus",
                "var/lib/systemd", "var/cache/ldconfig");

        JsonNode m = r.manifest().json();
        assertThat(m.path("overlay").toString()).isEqualTo("[{\"dir\":\"overlay\",\"entries\":12},{\"dir\":\"site\",\"entries\":2}]");
        assertThat(m.path("clean").toString()).isEqualTo("[{\"name\":\"machine-id\",\"removed\":1,\"emptied\":1},"
                + "{\"name\":\"ssh-host-keys\",\"removed\":3,\"emptied\":0},{\"name\":\"logs\",\"removed\":2,\"emptied\":0},"
                + "{\"name\":\"apt-caches\",\"removed\":4,\"emptied\":0},{\"name\":\"random-seed\",\"removed\":1,\"emptied\":0},"
                + "{\"name\":\"ldconfig-aux-cache\",\"removed\":1,\"emptied\":0}]");
        StepReport rootfs = r.steps().get(0);
        assertThat(rootfs.notes()).containsExactly("overlay overlay: 12 entries", "overlay site: 2 entries",
                "clean-up machine-id: 1 removed, 1 emptied", "clean-up ssh-host-keys: 3 removed, 0 emptied",
                "clean-up logs: 2 removed, 0 emptied", "clean-up apt-caches: 4 removed, 0 emptied",
                "clean-up random-seed: 1 removed, 0 emptied", "clean-up ldconfig-aux-cache: 1 removed, 0 emptied");
        assertThat(rootfs.keyMaterial()).anyMatch(l -> l.startsWith("overlay 0=")).anyMatch(l -> l.startsWith("clean="));

        // the same inputs: a hit with the same notes and manifest; an overlay's content changes: a miss
        BuildResult again = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec(BOTH)), dir.resolve("out")).build());
        assertThat(again.cachedSteps()).contains("rootfs");
        assertThat(again.steps().get(0).notes()).isEqualTo(rootfs.notes());
        assertThat(again.manifest().json()).isEqualTo(m);
        Files.writeString(dir.resolve("site/etc/hostname"), "third\n");
        BuildResult changed = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec(BOTH)), dir.resolve("out")).build());
        assertThat(changed.cachedSteps()).doesNotContain("rootfs");
        assertThat(tree(changed.out().resolve("rootfs.img")).get("etc/hostname")).isEqualTo("- 644 0:0 third");
    }

    @Test
    void pseudoDefinitionsApplyAfterTheOverlay() throws Exception {
        BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec("  overlay: [overlay]\n")), dir.resolve("out"))
                .build());
        assertThat(tree(r.out().resolve("rootfs.img")).get("etc/hostname")).as("the example pins etc/hostname 644").isEqualTo(
                "- 644 0:0 first");
        Files.writeString(spec("  overlay: [overlay]\n"), Files.readString(dir.resolve("image.yaml"))
                .replace("\"etc/hostname m 644 0 0\"", "\"etc/hostname m 600 0 42\""));
        BuildResult p = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(dir.resolve("image.yaml")), dir.resolve("out2")).build());
        assertThat(tree(p.out().resolve("rootfs.img")).get("etc/hostname")).isEqualTo("- 600 0:42 first");
        assertThat(p.manifest().json().has("clean")).isFalse();
    }

    @Test
    void anOverlayCannotSwapADirectoryForAFileOrAFileForADirectory() throws Exception {
        write(dir.resolve("bad"), "etc/os-release/x", "x", "rw-r--r--");
        assertThatThrownBy(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec("  overlay: [bad]\n")), dir.resolve("o1"))
                .build())).isInstanceOf(PipelineException.class)
                .hasMessageContaining("rootfs.overlay: etc/os-release is a directory in the overlay but a file in the source");
        write(dir.resolve("bad2"), "usr", "x", "rw-r--r--");
        assertThatThrownBy(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec("  overlay: [bad2]\n")), dir.resolve("o2"))
                .build())).isInstanceOf(PipelineException.class)
                .hasMessageContaining("rootfs.overlay: usr is a file in the overlay but a directory in the source");
        write(dir.resolve("bad3"), "etc/systemd", "x", "rw-r--r--");
        assertThatThrownBy(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec("  overlay: [overlay, bad3]\n")),
                dir.resolve("o3")).build())).isInstanceOf(PipelineException.class)
                .hasMessageContaining("etc/systemd is a file but an earlier overlay has a directory there");
    }

    @Test
    void escapingSymlinksAndSpecialFilesAreRefused() throws Exception {
        Files.createDirectories(dir.resolve("esc/etc"));
        Files.createSymbolicLink(dir.resolve("esc/etc/passwd"), Path.of("../../../host/etc/passwd"));
        assertThatThrownBy(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec("  overlay: [esc]\n")), dir.resolve("o1"))
                .build())).isInstanceOf(PipelineException.class)
                .hasMessageContaining("etc/passwd -> ../../../host/etc/passwd climbs above the root");
        Files.createDirectories(dir.resolve("fifo"));
        Process p = new ProcessBuilder("mkfifo", dir.resolve("fifo/pipe").toString()).start();
        assertThat(p.waitFor()).isZero();
        assertThatThrownBy(() -> ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(spec("  overlay: [fifo]\n")), dir.resolve("o2"))
                .build())).isInstanceOf(PipelineException.class)
                .hasMessageContaining("pipe is a device node, FIFO or socket");
        assertThat(dir.resolve("o1/rootfs.img")).doesNotExist();
    }

    @Test
    void specErrorsNameTheLine() throws Exception {
        assertThatThrownBy(() -> BuildSpec.load(spec("  clean: [machine-id, caches]\n")))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("image.yaml:9: rootfs.clean[1]: unknown clean-up 'caches' (known: machine-id, ssh-host-keys, logs, "
                        + "apt-caches, random-seed, ldconfig-aux-cache)");
        assertThatThrownBy(() -> BuildSpec.load(spec("  overlay: [nowhere]\n")))
                .isInstanceOf(SpecException.class).hasMessageContaining("image.yaml:9:").hasMessageContaining("nowhere: no such directory");
        assertThatThrownBy(() -> BuildSpec.load(spec("  clean: [logs, logs]\n")))
                .isInstanceOf(SpecException.class).hasMessageContaining("'logs' is named twice");
        BuildSpec s = BuildSpec.load(spec(BOTH));
        assertThat(s.rootfs().overlay()).containsExactly(dir.resolve("overlay"), dir.resolve("site"));
        assertThat(s.rootfs().clean()).first().isEqualTo(BuildSpec.Cleanup.MACHINE_ID);
    }
}
