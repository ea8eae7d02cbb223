package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.pipeline.BuildSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rootfs.oci} in a build spec: resolution of LAYOUT:TAG to tar layers, and its refusals. */
class BuildOciRootfsTest {
    @TempDir
    Path dir;
    Path out;

    @BeforeEach
    void files() throws IOException {
        Files.createDirectories(dir.resolve("base/etc"));
        Files.writeString(dir.resolve("base/etc/marker"), "base\n");
        Files.createDirectories(dir.resolve("top/etc"));
        Files.writeString(dir.resolve("top/etc/.wh.marker"), "");
        Files.createDirectories(dir.resolve("initramfs"));
        Files.writeString(dir.resolve("initramfs/init"), "#!/bin/sh\n");
        Files.writeString(dir.resolve("vmlinuz-6.1.0-9-amd64"), "k");
        Files.writeString(dir.resolve("stub.efi"), "s");
        out = dir.resolve("out");
    }

    private static String spec(String rootfs) {
        return String.join("\n",
                "apiVersion: cairn.dev/v1",                 // 1
                "image:",                                   // 2
                "  name: demo",                             // 3
                "  version: 1.0.0",                         // 4
                "rootfs:",                                  // 5
                rootfs,                                     // 6 (and 7)
                "kernel:",
                "  linux: vmlinuz-6.1.*-amd64",
                "  stub: stub.efi",
                "  cmdline: root=x h=${verity.roothash}",
                "  initramfs:",
                "    dir: initramfs",
                "keys:",
                "  secureboot: dev",
                "  manifest: dev",
                "");
    }

    private Path write(String yaml) throws IOException {
        Path spec = dir.resolve("spec.yaml");
        Files.writeString(spec, yaml);
        return spec;
    }

    private void layer(String ref, String source, String type) {
        MainTest.Run r = MainTest.run("oci", "layer", "add", dir.resolve(ref).toString(), dir.resolve(source).toString(), "--type", type);
        assertThat(r.code()).as(r.err()).isZero();
    }

    private MainTest.Run build(String rootfs) throws IOException {
        return MainTest.run("build", write(spec(rootfs)).toString(), "--out", out.toString());
    }

    private void assertRefused(MainTest.Run r, String... fragments) {
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains(fragments);
        assertThat(out).as("nothing written before the spec is valid").doesNotExist();
    }

    @Test
    void layoutAndTagResolveToTheTarLayersBottomFirst() throws Exception {
        layer("img:v1", "base", "tar+gzip");
        layer("img:v1", "top", "tar");
        BuildSpec s = BuildSpec.load(write(spec("  oci: img:v1")));
        assertThat(s.rootfs().dir()).isNull();
        assertThat(s.rootfs().oci().layout()).isEqualTo(dir.resolve("img").toAbsolutePath().normalize());
        assertThat(s.rootfs().oci().layers()).extracting(d -> d.mediaType()).containsExactly(
                "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar");
        // the same image by manifest digest
        BuildSpec byDigest = BuildSpec.load(write(spec("  oci: img@" + s.rootfs().oci().manifest())));
        assertThat(byDigest.rootfs().oci().layers()).isEqualTo(s.rootfs().oci().layers());
    }

    @Test
    void badOciRootfsSpecsAreRefusedWithTheirLine() throws Exception {
        layer("img:v1", "base", "tar+gzip");
        assertRefused(build("  dir: base\n  oci: img:v1"), "spec.yaml:", "rootfs", "exactly one of 'dir'");
        assertRefused(build("  oci: nowhere:v1"), "spec.yaml:6: rootfs.oci:", "no OCI image layout");
        assertRefused(build("  oci: img:v2"), "spec.yaml:6: rootfs.oci:", "no image with this tag");
        assertRefused(build("  oci: img"), "spec.yaml:6: rootfs.oci:", "LAYOUT:TAG");
        layer("sq:v1", "base", "squashfs");
        assertRefused(build("  oci: sq:v1"), "spec.yaml:6: rootfs.oci:", "not a tar layer");
    }

    @Test
    void anIndexTagUsesItsLinuxAmd64ManifestAndIsRefusedWithoutOne() throws Exception {
        layer("img:v1", "base", "tar+gzip");
        dev.cairn.oci.OciLayout layout = dev.cairn.oci.OciLayout.open(dir.resolve("img"));
        dev.cairn.oci.Descriptor m = layout.resolve("v1");
        String entry = "{\"mediaType\":\"" + m.mediaType() + "\",\"digest\":\"" + m.digest() + "\",\"size\":" + m.size()
                + ",\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}";
        String arm = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                + entry.formatted("arm64") + "]}";
        layout.tag("arm", layout.putBlob(arm.getBytes(java.nio.charset.StandardCharsets.UTF_8), "application/vnd.oci.image.index.v1+json"));
        assertRefused(build("  oci: img:arm"), "spec.yaml:6: rootfs.oci:", "without a linux/amd64 image manifest");
        String both = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                + entry.formatted("arm64") + "," + entry.formatted("amd64") + "]}";
        layout.tag("multi", layout.putBlob(both.getBytes(java.nio.charset.StandardCharsets.UTF_8), "application/vnd.oci.image.index.v1+json"));
        BuildSpec s = BuildSpec.load(write(spec("  oci: img:multi")));
        assertThat(s.rootfs().oci().manifest()).isEqualTo(m.digest());
    }

    @Test
    void aLayerWhoseBytesDoNotMatchItsDigestFailsTheBuild() throws Exception {
        layer("img:v1", "base", "tar");
        BuildSpec s = BuildSpec.load(write(spec("  oci: img:v1")));
        var l = s.rootfs().oci().layers().get(0);
        Path blob = dir.resolve("img/blobs/sha256").resolve(l.digest().hex());
        byte[] b = Files.readAllBytes(blob);
        int at = indexOf(b, "base\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertThat(at).isPositive();
        b[at] = 'B'; // still a valid tar: only the digest can tell
        blob.toFile().setWritable(true);
        Files.write(blob, b);
        MainTest.Run r = build("  oci: img:v1");
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains(l.digest().toString()).containsIgnoringCase("digest");
        try (Stream<Path> files = Files.exists(out) ? Files.walk(out) : Stream.empty()) {
            assertThat(files.filter(p -> p.getFileName().toString().equals("rootfs.img")).toList())
                    .as("no rootfs.img left from the failed step").isEqualTo(List.of());
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
