package dev.cairn.cli;

import static dev.cairn.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cairn.oci.ArtifactStore;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.DmVeritySignatures;
import dev.cairn.oci.Manifest;
import dev.cairn.oci.OciLayout;
import dev.cairn.pipeline.oci.NodeLayerConversion;
import dev.cairn.testing.KataTarIndex;
import dev.cairn.testing.TestPki;
import dev.cairn.testing.ToolOracle;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn oci sign|verify --format dm-verity --conversion tardev}: per-layer root hashes of
 * Kata's tardev conversion, checked against an independent implementation of the conversion
 * (kata_tarindex.py) and veritysetup with a zero salt; the PKCS#7 checked by OpenSSL over the hex
 * root hash; the referrer through docker-registry (fallback tag); a substituted layer refused by name.
 */
class OciDmVerityIT {
    static final String ZERO_SALT = "0".repeat(64);

    @TempDir
    Path dir;

    private Path image(String name, String... contents) throws Exception {
        Path img = dir.resolve(name);
        for (int i = 0; i < contents.length; i++) {
            Path tree = Files.createDirectories(dir.resolve(name + "-tree" + i));
            Files.writeString(tree.resolve("file" + i), contents[i]);
            Files.createDirectories(tree.resolve("etc/sub"));
            Files.writeString(tree.resolve("etc/sub/conf"), "layer " + i + "\n");
            Files.createSymbolicLink(tree.resolve("link"), Path.of("file" + i));
            MainTest.Run r = run("oci", "layer", "add", img + ":app", tree.toString(), "--type", "tar+gzip");
            assertThat(r.code()).as(r.err()).isZero();
        }
        return img;
    }

    @Test
    void rootHashesMatchTheNodesConversionAndSignaturesVerify() throws Exception {
        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        ToolOracle openssl = ToolOracle.require("openssl", "openssl");
        KataTarIndex kata = KataTarIndex.require(dir);
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path cert = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("k.crt"));
        Path ca = TestPki.get().ca().writeCertPem(dir.resolve("ca.crt"));
        Path img = image("img", "first layer\n", "x".repeat(200_000));

        MainTest.Run s = run("oci", "sign", img + ":app", "--format", "dm-verity", "--conversion", "tardev", "--key", key.toString(),
                "--cert", cert.toString(), "--json");
        assertThat(s.code()).as(s.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(s.out());
        assertThat(j.get("layers")).hasSize(2);

        OciLayout layout = OciLayout.open(img);
        Descriptor subject = layout.resolve("app");
        Manifest m = ArtifactStore.of(layout).readManifest(subject).manifest();
        List<DmVeritySignatures.Attached> refs = DmVeritySignatures.read(ArtifactStore.of(layout), subject.digest());
        assertThat(refs).hasSize(1);
        assertThat(refs.get(0).conversion()).isEqualTo("tardev");
        for (int i = 0; i < m.layers().size(); i++) {
            Descriptor l = m.layers().get(i);
            DmVeritySignatures.LayerSignature sig = refs.get(0).layers().get(i);
            assertThat(sig.layer()).isEqualTo(l.digest());
            assertThat(j.get("layers").get(i).get("rootHash").asText()).isEqualTo(sig.rootHash());

            // the independent conversion: gunzip, kata_tarindex.py, veritysetup with a 32-byte zero salt
            Path tar = dir.resolve("layer" + i + ".tar");
            try (InputStream in = new GZIPInputStream(Files.newInputStream(layout.blobPath(l.digest())))) {
                Files.copy(in, tar);
            }
            byte[] index = kata.index(tar, dir.resolve("layer" + i + ".index"));
            Path data = dir.resolve("layer" + i + ".data");
            Files.copy(tar, data);
            Files.write(data, index, java.nio.file.StandardOpenOption.APPEND);
            Path tree = dir.resolve("layer" + i + ".vtree");
            String format = veritysetup.runOk("format", "--no-superblock", "--salt=" + ZERO_SALT, "--data-block-size=4096",
                    "--hash-block-size=4096", data.toString(), tree.toString()).stdout();
            assertThat(format).as("veritysetup's root hash of the independent conversion").contains("Root hash:      \t" + sig.rootHash());

            // cairn's own conversion and tree pass veritysetup verify
            Path work = Files.createDirectories(dir.resolve("work" + i));
            NodeLayerConversion.Converted c;
            try (InputStream in = layout.openBlob(l)) {
                c = NodeLayerConversion.convert(NodeLayerConversion.Conversion.TARDEV, l, in, work, 2);
            }
            assertThat(Files.readAllBytes(c.data())).isEqualTo(Files.readAllBytes(data));
            veritysetup.runOk("verify", "--no-superblock", "--salt=" + ZERO_SALT, "--data-block-size=4096", "--hash-block-size=4096",
                    c.data().toString(), c.tree().toString(), c.rootHash());

            // the PKCS#7: detached, over the hex root hash, no attributes, as the kernel checks it
            Path p7 = Files.write(dir.resolve("layer" + i + ".p7s"), sig.pkcs7());
            Path hex = Files.writeString(dir.resolve("layer" + i + ".hex"), sig.rootHash(), StandardCharsets.US_ASCII);
            openssl.runOk("smime", "-verify", "-binary", "-inform", "DER", "-in", p7.toString(), "-content", hex.toString(),
                    "-CAfile", ca.toString(), "-purpose", "any", "-out", "/dev/null");
            assertThat(openssl.runOk("cms", "-cmsout", "-print", "-inform", "DER", "-in", p7.toString()).stdout())
                    .as("no signed attributes").containsPattern("(?<!un)signedAttrs:\\s*<ABSENT>");
        }

        for (String[] trust : List.of(new String[] {"--cert", cert.toString()}, new String[] {"--ca", ca.toString()})) {
            MainTest.Run v = run("oci", "verify", img + ":app", "--format", "dm-verity", trust[0], trust[1]);
            assertThat(v.code()).as(v.err()).isZero();
        }
        MainTest.Run other = run("oci", "verify", img + ":app", "--format", "dm-verity", "--cert",
                TestPki.get().ecLeaf().writeCertPem(dir.resolve("other.crt")).toString());
        assertThat(other.code()).isEqualTo(1);

        // a substituted layer: a new image whose second layer changed, with the old signature claimed for it
        Path img2 = image("img2", "first layer\n", "y" + "x".repeat(199_999));
        OciLayout layout2 = OciLayout.open(img2);
        Descriptor subject2 = layout2.resolve("app");
        Manifest m2 = ArtifactStore.of(layout2).readManifest(subject2).manifest();
        List<DmVeritySignatures.LayerSignature> forged = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            DmVeritySignatures.LayerSignature old = refs.get(0).layers().get(i);
            forged.add(new DmVeritySignatures.LayerSignature(m2.layers().get(i).digest(), old.rootHash(), old.pkcs7()));
        }
        DmVeritySignatures.attach(ArtifactStore.of(layout2), subject2, forged, "tardev", Instant.EPOCH);
        MainTest.Run substituted = run("oci", "verify", img2 + ":app", "--format", "dm-verity", "--cert", cert.toString());
        assertThat(substituted.code()).isEqualTo(1);
        assertThat(substituted.err()).contains("layer 1 (" + m2.layers().get(1).digest() + ")").contains("root hash");
        assertThat(m2.layers().get(0).digest()).isEqualTo(m.layers().get(0).digest());

        // one byte of a layer blob changed in place: refused, naming the layer
        Path blob = layout.blobPath(m.layers().get(1).digest());
        byte[] b = Files.readAllBytes(blob);
        b[b.length / 2] ^= 1;
        Files.write(blob, b);
        MainTest.Run corrupt = run("oci", "verify", img + ":app", "--format", "dm-verity", "--cert", cert.toString());
        assertThat(corrupt.code()).isEqualTo(1);
        assertThat(corrupt.err()).contains("layer 1 (" + m.layers().get(1).digest() + ")");
    }

    @Test
    void referrerTravelsThroughARegistryFallbackTag() throws Exception {
        Path key = TestPki.get().ecLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path cert = TestPki.get().ecLeaf().writeCertPem(dir.resolve("k.crt"));
        Path img = image("img", "registry layer\n");
        try (RegistryFixture reg = RegistryFixture.start(dir.resolve("registry"), null, null)) {
            String ref = reg.host() + "/cairn/app:v1";
            assertThat(run("oci", "push", img + ":app", ref).code()).isZero();
            MainTest.Run s = run("oci", "sign", ref, "--format", "dm-verity", "--conversion", "tardev", "--key", key.toString(),
                    "--cert", cert.toString());
            assertThat(s.code()).as(s.err()).isZero();
            MainTest.Run v = run("oci", "verify", ref, "--format", "dm-verity", "--cert", cert.toString(), "--json");
            assertThat(v.code()).as(v.err()).isZero();
            assertThat(v.out()).contains("\"format\" : \"dm-verity\"");
            // the registry has no referrers API: the referrer is listed in the sha256-<hex> fallback index
            ToolOracle skopeo = ToolOracle.require("skopeo", "skopeo");
            String digest = OciLayout.open(img).resolve("app").digest().toString();
            String fallback = skopeo.runOk("inspect", "--raw", "--tls-verify=false",
                    "docker://" + reg.host() + "/cairn/app:sha256-" + digest.substring(7)).stdout();
            assertThat(fallback).contains(DmVeritySignatures.ARTIFACT_TYPE);
        }
    }

    /** containerd's EROFS conversion: cairn's image equals mkfs.erofs 1.8's, and the signed root hash is veritysetup's over it. */
    @Test
    void containerdErofsRootHashesAreThoseOfMkfsErofsImages() throws Exception {
        ToolOracle veritysetup = ToolOracle.require("veritysetup", "cryptsetup-bin");
        ToolOracle mkfs = ToolOracle.requireAt(Path.of(System.getProperty("cairn.erofs.tools", "/opt/cairn-oracles/trixie-erofs/bin"))
                .resolve("mkfs.erofs"), "erofs-utils from Debian 13 (src-test-fixtures/trixie-erofs-utils.sh)");
        assertThat(mkfs.runOk("--version").stdout()).startsWith("mkfs.erofs (erofs-utils) 1.8.");
        Path key = TestPki.get().ecLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path cert = TestPki.get().ecLeaf().writeCertPem(dir.resolve("k.crt"));
        Path img = image("img", "erofs layer\n", "z".repeat(300_000));
        MainTest.Run s = run("oci", "sign", img + ":app", "--format", "dm-verity", "--conversion", "containerd-erofs", "--key",
                key.toString(), "--cert", cert.toString(), "--json");
        assertThat(s.code()).as(s.err()).isZero();
        OciLayout layout = OciLayout.open(img);
        Descriptor subject = layout.resolve("app");
        Manifest m = ArtifactStore.of(layout).readManifest(subject).manifest();
        DmVeritySignatures.Attached ref = DmVeritySignatures.read(ArtifactStore.of(layout), subject.digest()).get(0);
        assertThat(ref.conversion()).isEqualTo("containerd-erofs");
        for (int i = 0; i < m.layers().size(); i++) {
            Descriptor l = m.layers().get(i);
            byte[] tar;
            try (InputStream in = new GZIPInputStream(Files.newInputStream(layout.blobPath(l.digest())))) {
                tar = in.readAllBytes();
            }
            // containerd's argv (erofs differ, reproducible configuration) with its UUIDv5 of the layer digest
            String uuid = dev.cairn.erofs.ErofsOptions.containerd(l.digest().toString()).uuid().toString();
            Path erofs = dir.resolve("layer" + i + ".erofs");
            mkfs.run(Duration.ofMinutes(2), dir, List.of("--tar=f", "--aufs", "--quiet", "-Enoinline_data", "-b4096", "-T0",
                    "--mkfs-time", "--sort=none", "-U", uuid, erofs.toString()), tar).assertExit(0);
            Path tree = dir.resolve("layer" + i + ".vtree");
            String format = veritysetup.runOk("format", "--no-superblock", "--salt=" + ZERO_SALT, "--data-block-size=4096",
                    "--hash-block-size=4096", erofs.toString(), tree.toString()).stdout();
            assertThat(format).as("veritysetup over mkfs.erofs's image").contains("Root hash:      \t" + ref.layers().get(i).rootHash());
            Path work = Files.createDirectories(dir.resolve("erofs-work" + i));
            NodeLayerConversion.Converted c;
            try (InputStream in = layout.openBlob(l)) {
                c = NodeLayerConversion.convert(NodeLayerConversion.Conversion.CONTAINERD_EROFS, l, in, work, 2);
            }
            assertThat(Files.readAllBytes(c.data())).as("cairn's EROFS image is mkfs.erofs's").isEqualTo(Files.readAllBytes(erofs));
        }
        MainTest.Run v = run("oci", "verify", img + ":app", "--format", "dm-verity", "--cert", cert.toString());
        assertThat(v.code()).as(v.err()).isZero();

        // tar-index mode: mkfs.erofs --tar=i's index followed by the raw tar, a 512-byte-block tree
        Path img2 = image("img-ti", "tar index layer\n", "t".repeat(100_000));
        MainTest.Run s2 = run("oci", "sign", img2 + ":app", "--format", "dm-verity", "--conversion", "containerd-erofs-tarindex",
                "--key", key.toString(), "--cert", cert.toString());
        assertThat(s2.code()).as(s2.err()).isZero();
        OciLayout layout2 = OciLayout.open(img2);
        Descriptor subject2 = layout2.resolve("app");
        Manifest m2 = ArtifactStore.of(layout2).readManifest(subject2).manifest();
        DmVeritySignatures.Attached ref2 = DmVeritySignatures.read(ArtifactStore.of(layout2), subject2.digest()).get(0);
        for (int i = 0; i < m2.layers().size(); i++) {
            Descriptor l = m2.layers().get(i);
            byte[] tar;
            try (InputStream in = new GZIPInputStream(Files.newInputStream(layout2.blobPath(l.digest())))) {
                tar = in.readAllBytes();
            }
            String uuid = dev.cairn.erofs.ErofsOptions.containerd(l.digest().toString()).uuid().toString();
            Path index = dir.resolve("ti" + i + ".erofs");
            mkfs.run(Duration.ofMinutes(2), dir, List.of("--tar=i", "--aufs", "--quiet", "-b4096", "-T0", "--mkfs-time",
                    "--sort=none", "-U", uuid, index.toString()), tar).assertExit(0);
            Files.write(index, tar, java.nio.file.StandardOpenOption.APPEND); // containerd appends the raw tar
            Path tree = dir.resolve("ti" + i + ".vtree");
            String format = veritysetup.runOk("format", "--no-superblock", "--salt=" + ZERO_SALT, "--data-block-size=512",
                    "--hash-block-size=512", index.toString(), tree.toString()).stdout();
            assertThat(format).as("veritysetup over mkfs.erofs's index + tar").contains("Root hash:      \t" + ref2.layers().get(i).rootHash());
        }
        MainTest.Run v2 = run("oci", "verify", img2 + ":app", "--format", "dm-verity", "--ca",
                TestPki.get().ca().writeCertPem(dir.resolve("ca.crt")).toString());
        assertThat(v2.code()).as(v2.err()).isZero();

        // the same signatures do not pass as another conversion's
        MainTest.Run wrong = run("oci", "verify", img + ":app", "--format", "dm-verity", "--conversion", "tardev", "--cert", cert.toString());
        assertThat(wrong.code()).isEqualTo(1);
        assertThat(wrong.err()).contains("layer 0 (").contains("tardev root hash");
    }
}
