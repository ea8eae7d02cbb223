package dev.cairn.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.io.FormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The layout writer and the hostile-input reader. */
class OciLayoutTest {
    @TempDir
    Path dir;

    static final ImageBuilder.ImageDefaults DEFAULTS = new ImageBuilder.ImageDefaults("linux", "amd64", null);

    @Test
    void emptyLayoutHasExactHeaderAndIndexBytes() throws IOException {
        OciLayout.openOrCreate(dir.resolve("l"));
        assertThat(Files.readString(dir.resolve("l/oci-layout"))).isEqualTo("{\"imageLayoutVersion\":\"1.0.0\"}");
        assertThat(Files.readString(dir.resolve("l/index.json")))
                .isEqualTo("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}");
        assertThat(dir.resolve("l/blobs/sha256")).isDirectory();
    }

    @Test
    void refusesNonEmptyNonLayoutDirectory() throws IOException {
        Files.writeString(dir.resolve("x"), "x");
        assertThatThrownBy(() -> OciLayout.openOrCreate(dir)).isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
        assertThatThrownBy(() -> OciLayout.open(dir)).isInstanceOf(FormatException.class).hasMessageContaining("oci-layout");
    }

    @Test
    void blobsAreStoredUnderTheirDigestOnly() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        Descriptor d = l.putBlob("hello".getBytes(StandardCharsets.UTF_8), "text/plain");
        assertThat(d.digest().toString()).isEqualTo("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assertThat(d.size()).isEqualTo(5);
        assertThat(l.blobPath(d.digest())).hasContent("hello");
        Digest wrong = Digest.ofBytes("other".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> l.putBlob(new ByteArrayInputStream("tampered".getBytes(StandardCharsets.UTF_8)), "text/plain", wrong, 8))
                .isInstanceOf(FormatException.class).hasMessageContaining("hashes to");
        try (Stream<Path> s = Files.list(dir.resolve("l/blobs/sha256"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly(d.digest().hex()); // no temp left
        }
    }

    @Test
    void manifestBytesAreKeptExactlyAndTagsMove() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        byte[] odd = "{ \"schemaVersion\" : 2, \"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},\"layers\":[],\"x-unknown\":[1,2]}"
                .getBytes(StandardCharsets.UTF_8);
        Descriptor m = l.putBlob(odd, MediaTypes.MANIFEST);
        l.tag("v1", m);
        l.tag("v2", m);
        l.tag("v1", m);
        assertThat(l.index().manifests()).extracting(Descriptor::refName).containsExactly("v2", "v1");
        ManifestBlob mb = l.readManifest(l.resolve("v1"));
        assertThat(mb.bytes()).isEqualTo(odd);
        assertThat(mb.manifest().layers()).isEmpty();
        assertThat(l.resolve(m.digest().toString()).digest()).isEqualTo(m.digest());
        assertThatThrownBy(() -> l.resolve("nope")).isInstanceOf(FormatException.class).hasMessageContaining("no image with this tag");
        assertThatThrownBy(() -> l.tag("-bad", m)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void appendLayerBuildsConfigAndIsDeterministic() throws IOException {
        List<String> runs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            OciLayout l = OciLayout.openOrCreate(dir.resolve("l" + i));
            Descriptor layer = l.putBlob("layer-bytes".getBytes(StandardCharsets.UTF_8), MediaTypes.LAYER_TAR);
            ImageBuilder.LayerResult r = ImageBuilder.appendLayer(l, "img", layer, layer.digest(), "test",
                    new ImageBuilder.ImageDefaults("linux", "arm64", Instant.ofEpochSecond(1700000000)));
            ImageBuilder.LayerResult r2 = ImageBuilder.appendLayer(l, "img", layer, layer.digest(), "test two", DEFAULTS);
            assertThat(r.created()).isTrue();
            assertThat(r2.created()).isFalse();
            assertThat(r2.layerCount()).isEqualTo(2);
            String cfg = new String(l.readBlob(r2.config(), 1 << 20), StandardCharsets.UTF_8);
            assertThat(cfg).isEqualTo("{\"created\":\"2023-11-14T22:13:20Z\",\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":{},"
                    + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + layer.digest() + "\",\"" + layer.digest() + "\"]},"
                    + "\"history\":[{\"created\":\"2023-11-14T22:13:20Z\",\"created_by\":\"test\"},{\"created_by\":\"test two\"}]}");
            runs.add(Files.readString(dir.resolve("l" + i + "/index.json")));
        }
        assertThat(runs.get(0)).isEqualTo(runs.get(1));
    }

    @Test
    void gcRemovesOnlyUnreferencedBlobs() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        Descriptor layer = l.putBlob("layer".getBytes(StandardCharsets.UTF_8), MediaTypes.LAYER_TAR);
        ImageBuilder.LayerResult r = ImageBuilder.appendLayer(l, "img", layer, layer.digest(), "t", DEFAULTS);
        Descriptor stray = l.putBlob("stray".getBytes(StandardCharsets.UTF_8), "text/plain");
        Descriptor art = ImageBuilder.addArtifact(l, "sig", "application/vnd.example.sig.v1", List.of(), r.manifest(), Map.of());
        GcResult g = l.gc();
        assertThat(g.removed()).containsExactly(stray.digest());
        assertThat(g.bytesFreed()).isEqualTo(5);
        assertThat(l.hasBlob(layer.digest())).isTrue();
        assertThat(l.hasBlob(art.digest())).isTrue();
        assertThat(l.hasBlob(Digest.of(MediaTypes.EMPTY_DIGEST))).isTrue();
        assertThat(l.gc().removed()).isEmpty();
    }

    @Test
    void artifactHasEmptyConfigSubjectAndArtifactType() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        Descriptor file = l.putBlob("uki".getBytes(StandardCharsets.UTF_8), "application/vnd.cairn.uki.v1")
                .withAnnotation(MediaTypes.TITLE, "linux.efi");
        Descriptor subject = l.putBlob("{}".getBytes(StandardCharsets.UTF_8), MediaTypes.MANIFEST);
        Descriptor a = ImageBuilder.addArtifact(l, "uki", "application/vnd.cairn.uki.v1", List.of(file), subject, Map.of());
        String json = new String(l.readBlob(a, 1 << 20), StandardCharsets.UTF_8);
        assertThat(json).isEqualTo("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"artifactType\":\"application/vnd.cairn.uki.v1\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\","
                + "\"digest\":\"" + MediaTypes.EMPTY_DIGEST + "\",\"size\":2},\"layers\":[{\"mediaType\":\"application/vnd.cairn.uki.v1\","
                + "\"digest\":\"" + file.digest() + "\",\"size\":3,\"annotations\":{\"org.opencontainers.image.title\":\"linux.efi\"}}],"
                + "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + subject.digest()
                + "\",\"size\":2}}");
        assertThat(l.index().manifests().get(0).artifactType()).isEqualTo("application/vnd.cairn.uki.v1");
        assertThatThrownBy(() -> ImageBuilder.addArtifact(l, "x", "not a type", List.of(), null, Map.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------ hostile input

    @Test
    void oversizedIndexIsRefused() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        byte[] big = new byte[OciJson.MAX_MANIFEST_BYTES + 1];
        java.util.Arrays.fill(big, (byte) ' ');
        Files.write(dir.resolve("l/index.json"), big);
        assertThatThrownBy(l::index).isInstanceOf(FormatException.class).hasMessageContaining("limit");
    }

    @Test
    void tamperedManifestIsRefused() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        Descriptor layer = l.putBlob("layer".getBytes(StandardCharsets.UTF_8), MediaTypes.LAYER_TAR);
        ImageBuilder.LayerResult r = ImageBuilder.appendLayer(l, "img", layer, layer.digest(), "t", DEFAULTS);
        Path p = l.blobPath(r.manifest().digest());
        byte[] b = Files.readAllBytes(p);
        b[b.length - 2] ^= 1;
        Files.write(p, b);
        assertThatThrownBy(() -> l.readManifest(l.resolve("img"))).isInstanceOf(FormatException.class)
                .hasMessageContaining("does not match its digest");
        assertThatThrownBy(l::walk).isInstanceOf(FormatException.class);
    }

    @Test
    void malformedDigestsAndJsonAreFormatErrors() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        for (String bad : List.of("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:ABC\",\"size\":1}]}",
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"md5:00\",\"size\":1}]}",
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:" + "0".repeat(64) + "\",\"size\":-1}]}",
                "{\"schemaVersion\":3}", "[1,2", "null", "{\"schemaVersion\":2} {}")) {
            Files.writeString(dir.resolve("l/index.json"), bad);
            assertThatThrownBy(l::index).as(bad).isInstanceOf(FormatException.class);
        }
    }

    @Test
    void deepIndexNestingIsRefusedAndUnknownTypesAreReported() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        Descriptor unknown = l.putBlob("opaque".getBytes(StandardCharsets.UTF_8), "application/x-unknown");
        Descriptor cur = l.putBlob(OciJson.encode(ImageIndex.of(List.of(unknown))), MediaTypes.INDEX);
        l.tag("shallow", cur);
        LayoutWalk w = l.walk();
        assertThat(w.unknown()).containsExactly("application/x-unknown " + unknown.digest());
        for (int i = 0; i < OciLayout.MAX_DEPTH + 1; i++) {
            cur = l.putBlob(OciJson.encode(ImageIndex.of(List.of(cur))), MediaTypes.INDEX);
        }
        l.tag("deep", cur);
        assertThatThrownBy(l::walk).isInstanceOf(FormatException.class).hasMessageContaining("nested deeper");
        assertThatThrownBy(l::gc).isInstanceOf(FormatException.class); // never deletes from a layout it cannot read
    }

    @Test
    void wrongDescriptorSizeIsRefused() throws IOException {
        OciLayout l = OciLayout.openOrCreate(dir.resolve("l"));
        Descriptor b = l.putBlob("{}".getBytes(StandardCharsets.UTF_8), MediaTypes.CONFIG);
        Descriptor lie = Descriptor.of(MediaTypes.CONFIG, b.digest(), 3);
        assertThatThrownBy(() -> l.readBlob(lie, 100)).isInstanceOf(FormatException.class).hasMessageContaining("2 bytes");
        try (var in = l.openBlob(lie)) {
            assertThatThrownBy(in::readAllBytes).isInstanceOf(FormatException.class);
        }
    }
}
