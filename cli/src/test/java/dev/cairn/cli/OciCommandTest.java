package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.SeededData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn oci …} in-process: reproducible layers, artifacts, inspect/ls/gc, exit codes for bad input. */
class OciCommandTest {
    @TempDir
    Path dir;

    static MainTest.Run run(String... args) {
        return MainTest.run(args);
    }

    Path tree(String name) throws IOException {
        Path t = dir.resolve(name);
        Files.createDirectories(t.resolve("etc"));
        Files.writeString(t.resolve("etc/hostname"), "cairn\n");
        Files.write(t.resolve("data"), SeededData.bytes(7, 200_000));
        Files.createSymbolicLink(t.resolve("link"), Path.of("etc/hostname"));
        return t;
    }

    static String field(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\" : \"([^\"]+)\"").matcher(json);
        assertThat(m.find()).as(key + " in " + json).isTrue();
        return m.group(1);
    }

    @Test
    void everyLayerTypeIsReproducibleAcrossLayoutsAndTrees() throws IOException {
        for (String type : new String[] {"squashfs", "squashfs+gzip", "tar", "tar+gzip", "tar+zstd"}) {
            MainTest.Run a = run("oci", "layer", "add", dir.resolve("a-" + type) + ":img", tree("ta-" + type).toString(), "--type", type,
                    "--source-date-epoch", "1700000000", "--json");
            MainTest.Run b = run("oci", "layer", "add", dir.resolve("b-" + type) + ":img", tree("tb-" + type).toString(), "--type", type,
                    "--source-date-epoch", "1700000000", "--json");
            assertThat(a.code()).as(a.err()).isZero();
            assertThat(b.code()).as(b.err()).isZero();
            assertThat(field(a.out(), "manifest")).as(type).isEqualTo(field(b.out(), "manifest"));
            if (type.startsWith("squashfs")) {
                assertThat(field(a.out(), "verityRootHash")).matches("[0-9a-f]{64}");
                assertThat(field(a.out(), "diffId")).isEqualTo(field(a.out(), "layer"));
                assertThat(field(a.out(), "mediaType")).isEqualTo("application/vnd.stacker.image.layer.squashfs+"
                        + (type.equals("squashfs") ? "zstd" : "gzip"));
            } else {
                // diff_id is the digest of the uncompressed tar: the layer digest itself only for plain tar
                assertThat(field(a.out(), "diffId").equals(field(a.out(), "layer"))).as(type).isEqualTo(type.equals("tar"));
            }
        }
    }

    @Test
    void layersStackArtifactsReferAndGcCleansUp() throws IOException {
        Path lay = dir.resolve("lay");
        assertThat(run("oci", "layer", "add", lay + ":img", tree("t1").toString(), "--type", "tar+gzip").code()).isZero();
        MainTest.Run two = run("oci", "layer", "add", lay + ":img", tree("t2").toString(), "--type", "squashfs", "--json");
        assertThat(two.code()).as(two.err()).isZero();
        assertThat(two.out()).contains("\"layers\" : 2");
        Files.writeString(dir.resolve("linux.efi"), "MZ not really");
        MainTest.Run art = run("oci", "artifact", "add", lay + ":uki", "--artifact-type", "application/vnd.cairn.uki.v1",
                dir.resolve("linux.efi").toString(), "--subject", "img", "--json");
        assertThat(art.code()).as(art.err()).isZero();
        MainTest.Run insp = run("oci", "inspect", lay + ":img", "--json");
        assertThat(insp.code()).as(insp.err()).isZero();
        assertThat(insp.out()).contains("\"verityRootHash\"", "\"referrers\"", field(art.out(), "manifest"), "\"diffIds\"");
        String img = two.out().replaceAll("(?s).*\"manifest\" : \"(sha256:[0-9a-f]{64})\".*", "$1");
        MainTest.Run byDigest = run("oci", "inspect", lay + ":" + img, "--json");
        assertThat(byDigest.code()).as(byDigest.err()).isZero();
        assertThat(byDigest.out()).contains("\"digest\" : \"" + img + "\"");
        MainTest.Run tree = run("oci", "tree", lay + ":img");
        assertThat(tree.out()).contains("└── " + field(art.out(), "manifest") + "  application/vnd.cairn.uki.v1");
        MainTest.Run inspArt = run("oci", "inspect", lay + ":uki");
        assertThat(inspArt.out()).contains("artifactType: application/vnd.cairn.uki.v1", "subject: ");
        MainTest.Run ls = run("oci", "ls", lay.toString());
        assertThat(ls.out().lines().map(l -> l.split("\t")[0]).toList()).containsExactly("img", "uki");
        // the first manifest and config of img are garbage now
        MainTest.Run gc = run("oci", "gc", lay.toString(), "--json");
        assertThat(gc.code()).as(gc.err()).isZero();
        assertThat(gc.out()).contains("\"removed\" : [ \"sha256:");
        MainTest.Run whole = run("oci", "inspect", lay.toString());
        assertThat(whole.code()).as(whole.err()).isZero();
        assertThat(whole.out()).contains("2 index entries").doesNotContain("missing blob");
    }

    @Test
    void badInputGivesExit3WithAClearMessage() throws IOException {
        Path lay = dir.resolve("lay");
        assertThat(run("oci", "layer", "add", lay + ":img", tree("t").toString(), "--type", "tar").code()).isZero();
        Path junk = Files.writeString(dir.resolve("junk.tar"), "x".repeat(2048));
        MainTest.Run intoNew = run("oci", "layer", "add", dir.resolve("new-lay") + ":img", junk.toString(), "--type", "tar");
        assertThat(intoNew.code()).as(intoNew.err()).isEqualTo(3);
        assertThat(dir.resolve("new-lay")).as("no empty layout left by a failed add").doesNotExist();
        assertThat(run("oci", "layer", "add", lay + ":img", junk.toString(), "--type", "squashfs").code()).isEqualTo(3);
        assertThat(run("oci", "inspect", lay + ":img").code()).as("an existing layout stays as it was").isZero();
        MainTest.Run noTag = run("oci", "layer", "add", lay.toString(), tree("t2").toString());
        assertThat(noTag.code()).isEqualTo(3);
        assertThat(noTag.err()).contains("names no tag");
        MainTest.Run badTag = run("oci", "inspect", lay + ":-x");
        assertThat(badTag.code()).isEqualTo(3);
        assertThat(badTag.err()).contains("invalid tag");
        MainTest.Run badType = run("oci", "layer", "add", lay + ":img", dir.resolve("t").toString(), "--type", "cpio");
        assertThat(badType.code()).isEqualTo(3);
        MainTest.Run unknownTag = run("oci", "inspect", lay + ":nope");
        assertThat(unknownTag.code()).isEqualTo(3);
        assertThat(unknownTag.err()).contains("no image with this tag");
        MainTest.Run notLayout = run("oci", "ls", dir.resolve("t").toString());
        assertThat(notLayout.code()).isEqualTo(3);
        assertThat(notLayout.err()).contains("not an OCI image layout");
        // a tampered manifest: inspect refuses, gc deletes nothing
        String idx = Files.readString(lay.resolve("index.json"));
        Matcher m = Pattern.compile("sha256:([0-9a-f]{64})").matcher(idx);
        assertThat(m.find()).isTrue();
        Path manifest = lay.resolve("blobs/sha256/" + m.group(1));
        Files.writeString(manifest, Files.readString(manifest).replace("\"layers\"", "\"layerz\""));
        MainTest.Run tampered = run("oci", "inspect", lay + ":img");
        assertThat(tampered.code()).isEqualTo(3);
        assertThat(tampered.err()).contains("does not match its digest");
        long before;
        try (var s = Files.list(lay.resolve("blobs/sha256"))) {
            before = s.count();
        }
        assertThat(run("oci", "gc", lay.toString()).code()).isEqualTo(3);
        try (var s = Files.list(lay.resolve("blobs/sha256"))) {
            assertThat(s.count()).isEqualTo(before);
        }
        MainTest.Run oversized = run("oci", "ls", lay.toString());
        assertThat(oversized.code()).isZero();
        Files.write(lay.resolve("index.json"), new byte[5 * 1024 * 1024]);
        MainTest.Run big = run("oci", "ls", lay.toString());
        assertThat(big.code()).isEqualTo(3);
        assertThat(big.err()).contains("limit");
    }

    /** Signature formats without oracles (OciSignatureOracleIT has those): reproducible with SOURCE_DATE_EPOCH, target and option checks. */
    @Test
    void signFormatsTargetsAndOptionErrors() throws IOException {
        Path img = dir.resolve("img");
        assertThat(run("oci", "layer", "add", img + ":app", tree("t").toString(), "--type", "tar").code()).isZero();
        Path key = dev.cairn.testing.TestPki.get().ecLeaf().writeKeyPem(dir.resolve("ec.key"));
        Path cert = dev.cairn.testing.TestPki.get().ecLeaf().writeCertPem(dir.resolve("ec.crt"));
        Path ca = dev.cairn.testing.TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
        // ECDSA signatures are randomized, so only the bundle-free parts are compared: the notation
        // envelope's protected header carries the SOURCE_DATE_EPOCH time
        MainTest.Run n = run("oci", "sign", img + ":app", "--format", "notation", "--key", key.toString(), "--cert", cert.toString(),
                "--source-date-epoch", "1700000000", "--json");
        assertThat(n.code()).as(n.err()).isZero();
        assertThat(n.err()).contains("ends at CN=cairn test EC signer, not at a root");
        var layout = dev.cairn.oci.OciLayout.open(img);
        var env = dev.cairn.oci.NotationSignatures.parse(dev.cairn.oci.NotationSignatures.read(dev.cairn.oci.ArtifactStore.of(layout),
                layout.resolve("app").digest()).get(0).envelope());
        assertThat(env.signingTime()).isEqualTo(java.time.Instant.ofEpochSecond(1700000000));
        assertThat(run("oci", "verify", img + ":app", "--format", "notation", "--ca", ca.toString()).code()).isZero();
        assertThat(run("oci", "verify", img + ":app", "--format", "notation", "--cert", cert.toString()).code()).isZero();
        MainTest.Run wrongCert = run("oci", "verify", img + ":app", "--format", "notation", "--cert", ca.toString());
        assertThat(wrongCert.code()).isEqualTo(1);
        assertThat(wrongCert.err()).contains("not the --cert");
        MainTest.Run none = run("oci", "verify", img + ":app", "--format", "sigstore-bundle", "--ca", ca.toString());
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("no sigstore-bundle signature");

        MainTest.Run format = run("oci", "sign", img + ":app", "--format", "cose", "--key", key.toString(), "--cert", cert.toString());
        assertThat(format.code()).isEqualTo(2);
        assertThat(format.err()).contains("use cosign, notation, sigstore-bundle or dm-verity");
        MainTest.Run noRef = run("oci", "sign", img + ":app", "--key", key.toString(), "--cert", cert.toString());
        assertThat(noRef.code()).isEqualTo(3);
        assertThat(noRef.err()).contains("--reference REGISTRY/REPOSITORY is required for a layout");
        MainTest.Run refNotation = run("oci", "sign", img + ":app", "--format", "notation", "--reference", "r.example/x", "--key",
                key.toString(), "--cert", cert.toString());
        assertThat(refNotation.code()).isEqualTo(3);
        assertThat(refNotation.err()).contains("cosign options");
        // not a layout directory but a registry reference: nothing listens on port 9 of loopback
        MainTest.Run remote = run("oci", "verify", "127.0.0.1:9/cairn/app:v1", "--format", "notation", "--ca", ca.toString());
        assertThat(remote.code()).as(remote.err()).isEqualTo(5);
        MainTest.Run missing = run("oci", "verify", dir.resolve("no-such-layout") + ":app", "--ca", ca.toString());
        assertThat(missing.code()).isEqualTo(3);
    }
    @Test
    void convertRefusesATamperedOrNonFileLayerBlob() throws Exception {
        Path lay = dir.resolve("lay");
        Path tar = dir.resolve("l.tar");
        try (var out = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(Files.newOutputStream(tar))) {
            byte[] big = SeededData.bytes(3, 300_000); // the layer is far longer than the forged tar
            var e = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("big");
            e.setSize(big.length);
            out.putArchiveEntry(e);
            out.write(big);
            out.closeArchiveEntry();
        }
        MainTest.Run add = run("oci", "layer", "add", lay + ":img", tar.toString(), "--type", "tar", "--json");
        assertThat(add.code()).as(add.err()).isZero();
        Path blob = lay.resolve("blobs/sha256/" + field(add.out(), "layer").substring(7));
        long size = Files.size(blob);

        // the same size, a shorter tar in front (its end-of-archive comes first), zeros after it
        Path evil = OciOracleIT.ociTar(dir.resolve("evil.tar"), "etc/", "etc/hello");
        byte[] forged = java.util.Arrays.copyOf(Files.readAllBytes(evil), Math.toIntExact(size));
        assertThat(Files.size(evil)).isLessThan(size / 10);
        Files.write(blob, forged);
        MainTest.Run conv = run("oci", "convert", lay + ":img");
        assertThat(conv.code()).as(conv.out() + conv.err()).isEqualTo(3);
        assertThat(conv.err()).contains("digest");
        assertThat(run("oci", "inspect", lay + ":img-squashfs").code()).as("no converted image").isEqualTo(3);

        Files.delete(blob); // a FIFO in an untrusted layout must not block the reader
        assertThat(new ProcessBuilder("mkfifo", blob.toString()).start().waitFor()).isZero();
        MainTest.Run fifo = run("oci", "convert", lay + ":img");
        assertThat(fifo.code()).as(fifo.err()).isEqualTo(3);
        assertThat(fifo.err()).contains("not a file");
    }
}
