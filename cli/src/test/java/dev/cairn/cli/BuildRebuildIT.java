package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.squashfs.SquashfsImage;
import dev.cairn.testing.boot.DebianBootFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn build} run again, elsewhere or with a changed spec: every inode time in the image is
 * the source date epoch (so the tree's times, which the cache key leaves out, cannot matter); the
 * manifest does not depend on the checkout's location; a rebuild removes the artifacts the previous
 * set listed and the new one does not, and {@code cairn verify} names such leftovers.
 */
class BuildRebuildIT {
    static final long SDE = 1_700_000_000L;

    @TempDir
    static Path shared;
    static Path devKeys;

    @TempDir
    Path dir;

    @BeforeAll
    static void keys() {
        devKeys = shared.resolve("keys");
    }

    /** A spec whose paths are all relative to its directory, with a copy of Debian's kernel and stub there. */
    static Path workdir(Path w, String name, String ipe) throws IOException {
        Files.createDirectories(w.resolve("rootfs/etc"));
        Files.writeString(w.resolve("rootfs/etc/marker"), "verified root\n");
        Files.write(w.resolve("rootfs/etc/data.bin"), dev.cairn.testing.SeededData.bytes(11, 100_000));
        Files.createDirectories(w.resolve("initramfs"));
        Files.writeString(w.resolve("initramfs/init"), "#!/bin/sh\necho test\n");
        Files.createDirectories(w.resolve("kernel"));
        Files.copy(DebianBootFiles.kernel(), w.resolve("kernel/vmlinuz"));
        Files.copy(DebianBootFiles.stub(), w.resolve("kernel/linuxx64.efi.stub"));
        Path spec = w.resolve("image.yaml");
        writeSpec(spec, name, ipe);
        return spec;
    }

    static void writeSpec(Path spec, String name, String ipe) throws IOException {
        Files.writeString(spec, String.join("\n",
                "apiVersion: cairn.dev/v1",
                "image:",
                "  name: " + name,
                "  version: 1.0.0",
                "sourceDateEpoch: " + SDE,
                "rootfs:",
                "  dir: rootfs",
                "kernel:",
                "  linux: kernel/vmlinuz",
                "  stub: kernel/linuxx64.efi.stub",
                "  cmdline: console=ttyS0 cairn.verity.roothash=${verity.roothash}",
                "  initramfs:",
                "    dir: initramfs",
                ipe,
                "keys:",
                "  secureboot: dev",
                "  manifest: dev",
                ""));
    }

    static MainTest.Run build(Path spec, Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("build", spec.toString(), "--out", out.toString(), "--dev-keys", devKeys.toString()));
        args.addAll(List.of(extra));
        MainTest.Run r = run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        return r;
    }

    static MainTest.Run verify(Path set) {
        return run("verify", set.toString(), "--ca", devKeys.resolve("ca.crt").toString(), "--db-cert",
                devKeys.resolve("secureboot/db.crt").toString());
    }

    static JsonNode manifest(Path set) throws IOException {
        return new ObjectMapper().readTree(set.resolve("manifest.json").toFile());
    }

    @Test
    void everyInodeTimeIsTheSourceDateEpochSoTreeTimesCannotHideBehindTheCache() throws Exception {
        Path spec = workdir(dir.resolve("w"), "times", "");
        Path old = dir.resolve("w/rootfs/etc/marker");
        Files.setLastModifiedTime(old, FileTime.from(Instant.parse("2001-01-01T00:00:00Z")));
        Files.setLastModifiedTime(dir.resolve("w/rootfs/etc"), FileTime.from(Instant.parse("2001-06-01T00:00:00Z")));
        Path out = dir.resolve("out");
        build(spec, out);
        List<String> notSde = new ArrayList<>();
        try (SquashfsImage img = SquashfsImage.open(out.resolve("rootfs.img"))) {
            assertThat(img.info().mkfsTime()).isEqualTo(SDE);
            img.walk(e -> {
                if (e.mtime() != SDE) {
                    notSde.add(e.path() + " " + e.mtime());
                }
            });
        }
        assertThat(notSde).as("inodes whose time is not SOURCE_DATE_EPOCH").isEmpty();
        byte[] first = Files.readAllBytes(out.resolve("rootfs.img"));

        Files.setLastModifiedTime(old, FileTime.from(Instant.parse("2002-01-01T00:00:00Z")));
        MainTest.Run again = build(spec, out, "--json");
        assertThat(again.out()).contains("\"rootfs\"");
        assertThat(Files.readAllBytes(out.resolve("rootfs.img"))).as("cache hit").isEqualTo(first);
        MainTest.Run forced = build(spec, out, "--force", "--json");
        assertThat(forced.out()).contains("\"cached\" : [ ]");
        assertThat(Files.readAllBytes(out.resolve("rootfs.img"))).as("--force gives the bytes the cache gave").isEqualTo(first);
    }

    @Test
    void theSameSpecInTwoDirectoriesGivesTheSameManifestAndArtifacts() throws Exception {
        Path s1 = workdir(dir.resolve("w1"), "moved", "");
        Path s2 = workdir(dir.resolve("elsewhere/w2"), "moved", "");
        build(s1, dir.resolve("w1/out"));
        build(s2, dir.resolve("elsewhere/w2/out"));
        JsonNode m = manifest(dir.resolve("w1/out"));
        assertThat(m.path("uki").path("kernel").path("file").asText()).isEqualTo("kernel/vmlinuz");
        assertThat(m.path("uki").path("stubFile").path("file").asText()).isEqualTo("kernel/linuxx64.efi.stub");
        assertThat(new String(Files.readAllBytes(dir.resolve("w1/out/manifest.json")))).doesNotContain(dir.toString());
        assertThat(Files.readAllBytes(dir.resolve("elsewhere/w2/out/manifest.json")))
                .isEqualTo(Files.readAllBytes(dir.resolve("w1/out/manifest.json")));
        for (JsonNode a : m.path("artifacts")) {
            String p = a.path("path").asText();
            assertThat(Files.readAllBytes(dir.resolve("elsewhere/w2/out").resolve(p))).as(p)
                    .isEqualTo(Files.readAllBytes(dir.resolve("w1/out").resolve(p)));
        }
        MainTest.Run v = verify(dir.resolve("elsewhere/w2/out"));
        assertThat(v.code()).as(v.out() + v.err()).isZero();
    }

    @Test
    void aRebuildWithoutIpeRemovesTheOldPolicyAndOnlyWhatTheOldManifestListed() throws Exception {
        Path spec = workdir(dir.resolve("w"), "first", "");
        Path out = dir.resolve("out");
        build(spec, out);
        assertThat(out.resolve("ipe-policy.txt")).exists();
        assertThat(out.resolve("ipe-policy.p7s")).exists();
        byte[] oldPolicy = Files.readAllBytes(out.resolve("ipe-policy.txt"));
        Files.writeString(out.resolve("notes.txt"), "mine\n");
        Files.writeString(out.resolve("other.efi"), "mine too\n");
        // a manifest naming something outside OUT (hand-edited) must not make the build delete it
        Files.writeString(dir.resolve("victim.txt"), "outside\n");
        com.fasterxml.jackson.databind.node.ObjectNode edited = (com.fasterxml.jackson.databind.node.ObjectNode) manifest(out);
        ((com.fasterxml.jackson.databind.node.ArrayNode) edited.get("artifacts")).addObject().put("name", "x").put("path", "../victim.txt");
        new ObjectMapper().writeValue(out.resolve("manifest.json").toFile(), edited);

        Files.writeString(dir.resolve("w/rootfs/etc/marker"), "a new root\n");
        writeSpec(spec, "second", "ipe:\n  enabled: false");
        build(spec, out);
        assertThat(manifest(out).has("ipe")).isFalse();
        assertThat(out.resolve("ipe-policy.txt")).as("the old policy trusting the old root hash").doesNotExist();
        assertThat(out.resolve("ipe-policy.p7s")).doesNotExist();
        assertThat(out.resolve("first.efi")).as("the UKI of the old image name").doesNotExist();
        assertThat(out.resolve("second.efi")).exists();
        assertThat(out.resolve("notes.txt")).as("files the old manifest did not list stay").hasContent("mine");
        assertThat(out.resolve("other.efi")).hasContent("mine too");
        assertThat(dir.resolve("victim.txt")).hasContent("outside");
        assertThat(out.resolve("dev-keys")).doesNotExist();
        assertThat(devKeys.resolve("ca.crt")).exists();
        MainTest.Run ok = verify(out);
        assertThat(ok.code()).as(ok.out() + ok.err()).isZero();

        // a leftover policy (as an older cairn left it) is named by verify
        Files.write(out.resolve("ipe-policy.txt"), oldPolicy);
        MainTest.Run leftover = verify(out);
        assertThat(leftover.code()).as(leftover.out() + leftover.err()).isEqualTo(1);
        assertThat(leftover.out()).containsPattern("FAILED +no unlisted artifacts");
        assertThat(leftover.err()).contains("ipe-policy.txt not listed in the manifest");
    }
}
