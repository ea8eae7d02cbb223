package dev.cairn.pipeline.sysext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.disk.DpsType;
import dev.cairn.disk.RepartUuids;
import dev.cairn.pipeline.PipelineException;
import dev.cairn.pipeline.disk.DiskInspector;
import dev.cairn.pipeline.disk.VerityPartitions;
import dev.cairn.pipeline.disk.WrittenPartition;
import dev.cairn.pipeline.sysext.ExtensionRelease.Architecture;
import dev.cairn.pipeline.sysext.ExtensionRelease.Kind;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.squashfs.SquashfsEntry;
import dev.cairn.squashfs.SquashfsImage;
import dev.cairn.testing.Golden;
import dev.cairn.testing.SeededKeys;
import dev.cairn.verity.VerityParams;
import dev.cairn.verity.VerityProgress;
import dev.cairn.verity.VerifyResult;
import dev.cairn.verity.VerityVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SysextBuilder} on trees made here (tarballs with fixed owners, modes and times, so the
 * bytes depend on nothing of the host) and a key derived from a seed: the DDI's partitions are the
 * build disk's (types, UUIDs from the root-hash halves, read-only flags, systemd's signature JSON),
 * the release file is in the SquashFS, outputs are reproducible and pinned by golden digests, and
 * SOURCE trees systemd would misread are refused with nothing left behind. The systemd oracles are
 * in the command line's {@code SysextIT}.
 */
class SysextBuilderTest {
    static final long SDE = 1_700_000_000L;
    /** Verify with the geometry of the superblock at the start of the hash file. */
    static final VerityParams SUPERBLOCK = VerityParams.defaults(new byte[0], new UUID(0, 0));
    static KeyMaterial key;

    @TempDir
    Path dir;

    @BeforeAll
    static void key() {
        SeededKeys.Issued k = SeededKeys.selfSigned("cairn sysext test key", "cairn sysext test", 2048, 7, false);
        key = new KeyMaterial(k.keys().getPrivate(), k.certificate(), List.of(k.certificate()), null, "seeded test key");
    }

    /** A tarball of {@code entries}: "path" (directory when it ends in '/') then content, all 0:0, fixed times. */
    static Path tar(Path file, String... entries) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); TarArchiveOutputStream t = new TarArchiveOutputStream(os)) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (int i = 0; i < entries.length; i += 2) {
                String name = entries[i];
                byte[] content = entries[i + 1] == null ? new byte[0] : entries[i + 1].getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry(name);
                e.setMode(name.endsWith("/") ? 040755 : name.contains("bin/") ? 0100755 : 0100644);
                e.setModTime(1234567890L * 1000);
                e.setIds(0, 0);
                if (!name.endsWith("/")) {
                    e.setSize(content.length);
                }
                t.putArchiveEntry(e);
                t.write(content);
                t.closeArchiveEntry();
            }
        }
        return file;
    }

    static Path usrTree(Path file) throws IOException {
        return tar(file, "usr/", null, "usr/bin/", null, "usr/bin/hello", "#!/bin/sh\necho hello from a sysext\n",
                "usr/share/hello/", null, "usr/share/hello/README", "seeded content ".repeat(500), "opt/", null, "opt/tool/", null,
                "opt/tool/data", "x");
    }

    static ExtensionRelease release(String name) {
        return new ExtensionRelease(Kind.SYSEXT, name, "debian", "12", null, Architecture.X86_64);
    }

    SysextRequest.Builder request(Path source, Path out, ExtensionRelease rel) {
        return SysextRequest.builder(source, out, rel).key(key).sourceDateEpoch(SDE);
    }

    static byte[] slice(Path file, long offset, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(Math.toIntExact(size));
            while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
                // read on
            }
            return b.array();
        }
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    static String read(SquashfsImage img, String path) throws IOException {
        try (InputStream in = img.open(img.lookup(path))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void ddiHasTheBuildDisksVerityPartitionsAndTheReleaseFile() throws Exception {
        Path out = dir.resolve("out/foo.raw");
        SysextResult r = SysextBuilder.build(request(usrTree(dir.resolve("src.tar")), out, release("foo")).build());

        assertThat(r.format()).isEqualTo(SysextRequest.Format.DDI);
        assertThat(r.size()).isEqualTo(Files.size(out));
        assertThat(r.sha256()).isEqualTo(sha256(out));
        assertThat(r.signed()).isTrue();
        assertThat(r.warnings()).isEmpty();
        assertThat(r.sidecars()).isEmpty();
        List<WrittenPartition> p = r.partitions();
        assertThat(p).extracting(WrittenPartition::designator)
                .containsExactly("root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig");
        assertThat(p).extracting(WrittenPartition::label).containsExactly("root-x86-64", "root-x86-64-verity", "root-x86-64-verity-sig");
        assertThat(p).allSatisfy(x -> assertThat(x.attributes()).isEqualTo(DpsType.READ_ONLY));
        byte[] rootHash = HexFormat.of().parseHex(r.rootHash());
        assertThat(p.get(0).uuid()).isEqualTo(RepartUuids.fromRootHashHalf(rootHash, false));
        assertThat(p.get(1).uuid()).isEqualTo(RepartUuids.fromRootHashHalf(rootHash, true));
        UUID seed = VerityPartitions.seed("cairn sysext seed", "sysext", "foo", "VERSION_ID=12", "SYSEXT_LEVEL=");
        assertThat(p.get(2).uuid()).isEqualTo(RepartUuids.partitionUuid(seed, DpsType.ROOT_X86_64_VERITY_SIG.uuid(), 0));
        assertThat(r.diskGuid()).isEqualTo(RepartUuids.diskUuid(seed));
        assertThat(p.get(0).size()).isEqualTo(r.squashfsSize());
        assertThat(p.get(2).size()).isEqualTo(16384);

        // the signature partition: systemd's compact JSON, NUL-padded
        String sig = new String(slice(out, p.get(2).offset(), p.get(2).size()), StandardCharsets.US_ASCII);
        assertThat(sig).startsWith("{\"rootHash\":\"" + r.rootHash() + "\",\"certificateFingerprint\":\"");
        String json = sig.substring(0, sig.indexOf('\0'));
        assertThat(json).endsWith("\"}");
        assertThat(sig.substring(json.length())).matches("\0+");

        // the root partition is the SquashFS with the release file; the verity partition its tree
        Path root = Files.write(dir.resolve("root.img"), slice(out, p.get(0).offset(), p.get(0).size()));
        Path hash = Files.write(dir.resolve("hash.img"), slice(out, p.get(1).offset(), p.get(1).size()));
        try (SquashfsImage img = SquashfsImage.open(root)) {
            assertThat(read(img, "usr/lib/extension-release.d/extension-release.foo")).isEqualTo("ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\n");
            SquashfsEntry e = img.lookup("usr/lib/extension-release.d/extension-release.foo");
            assertThat(e.mode() & 07777).isEqualTo(0644);
            assertThat(e.mtime()).isEqualTo(SDE);
            assertThat(img.lookup("usr/lib").mtime()).isEqualTo(SDE);
            assertThat(img.lookup("usr/bin/hello").mtime()).isEqualTo(SDE);
            assertThat(img.info().mkfsTime()).isEqualTo(SDE);
        }
        VerifyResult v = VerityVerifier.verify(root, hash, SUPERBLOCK, rootHash, 1, VerityProgress.NONE);
        assertThat(v).isInstanceOf(VerifyResult.Intact.class);

        // cairn's own disk reader agrees, the signature included
        DiskInspector.Report rep = DiskInspector.inspect(out, List.of(key.certificate()), Instant.parse("2030-01-01T00:00:00Z"), 1);
        assertThat(rep.checks()).allSatisfy(c -> assertThat(c.ok()).as(c.what() + ": " + c.detail()).isTrue());
        assertThat(rep.signedRootHash()).isEqualTo(r.rootHash());
        // nothing but the image is left in the output directory
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertThat(s.toList()).containsExactly(out);
        }
    }

    @Test
    void reproducibleWhateverTheThreadsAndPinnedByGoldenDigests() throws Exception {
        Path src = usrTree(dir.resolve("src.tar"));
        SysextResult a = SysextBuilder.build(request(src, dir.resolve("a/foo.raw"), release("foo")).threads(1).build());
        SysextResult b = SysextBuilder.build(request(src, dir.resolve("b/foo.raw"), release("foo")).threads(3).build());
        assertThat(Files.readAllBytes(dir.resolve("b/foo.raw"))).isEqualTo(Files.readAllBytes(dir.resolve("a/foo.raw")));
        assertThat(b).usingRecursiveComparison().ignoringFields("output").isEqualTo(a);

        SysextResult q = SysextBuilder.build(request(src, dir.resolve("q/foo.raw"), release("foo")).format(SysextRequest.Format.SQUASHFS)
                .build());
        assertThat(q.rootHash()).isEqualTo(a.rootHash()); // the same SquashFS, the same tree parameters
        StringBuilder digests = new StringBuilder();
        for (Path f : List.of(dir.resolve("a/foo.raw"), dir.resolve("q/foo.raw"), dir.resolve("q/foo.verity"),
                dir.resolve("q/foo.roothash"), dir.resolve("q/foo.roothash.p7s"))) {
            digests.append(sha256(f)).append("  ").append(dir.relativize(f)).append('\n');
        }
        // regenerate (only for an intended change of output):
        // ./mvnw -o -pl pipeline -am test -Dtest=SysextBuilderTest -Dsurefire.failIfNoSpecifiedTests=false -Dgolden.update=true
        Golden.assertMatchesGolden(SysextBuilderTest.class, "sysext/digests.txt", digests.toString().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void diskIdentityComesFromNameAndVersionNotContent() throws Exception {
        SysextResult a = SysextBuilder.build(request(usrTree(dir.resolve("a.tar")), dir.resolve("a/foo.raw"), release("foo")).build());
        SysextResult b = SysextBuilder.build(request(tar(dir.resolve("b.tar"), "usr/", null, "usr/x", "other"), dir.resolve("b/foo.raw"),
                release("foo")).build());
        SysextResult c = SysextBuilder.build(request(usrTree(dir.resolve("c.tar")), dir.resolve("c/foo.raw"),
                new ExtensionRelease(Kind.SYSEXT, "foo", "debian", "13", null, Architecture.X86_64)).build());
        assertThat(b.rootHash()).isNotEqualTo(a.rootHash());
        assertThat(b.diskGuid()).isEqualTo(a.diskGuid());
        assertThat(b.partitions().get(2).uuid()).isEqualTo(a.partitions().get(2).uuid());
        assertThat(c.diskGuid()).isNotEqualTo(a.diskGuid());
    }

    @Test
    void squashfsFormatWritesTheSidecarsSystemdLooksFor() throws Exception {
        Path out = dir.resolve("foo.raw");
        SysextResult r = SysextBuilder.build(request(usrTree(dir.resolve("src.tar")), out, release("foo"))
                .format(SysextRequest.Format.SQUASHFS).build());
        assertThat(r.partitions()).isEmpty();
        assertThat(r.diskGuid()).isNull();
        assertThat(r.sidecars()).containsExactly(dir.resolve("foo.verity"), dir.resolve("foo.roothash"), dir.resolve("foo.roothash.p7s"));
        assertThat(Files.readString(dir.resolve("foo.roothash"))).isEqualTo(r.rootHash() + "\n");
        assertThat(r.size()).isEqualTo(Files.size(out)).isEqualTo(r.squashfsSize());
        assertThat(r.sha256()).isEqualTo(sha256(out));
        try (SquashfsImage img = SquashfsImage.open(out)) {
            assertThat(read(img, "usr/lib/extension-release.d/extension-release.foo")).startsWith("ID=debian\n");
            assertThat(img.imageSize()).isEqualTo(Files.size(out)); // naked: no tree appended
        }
        Path verity = dir.resolve("foo.verity");
        VerifyResult v = VerityVerifier.verify(out, verity, SUPERBLOCK, HexFormat.of().parseHex(r.rootHash()), 1,
                VerityProgress.NONE);
        assertThat(v).isInstanceOf(VerifyResult.Intact.class);
    }

    @Test
    void unsignedDdiHasNoSignaturePartition() throws Exception {
        SysextResult r = SysextBuilder.build(request(usrTree(dir.resolve("src.tar")), dir.resolve("foo.raw"), release("foo")).key(null)
                .build());
        assertThat(r.signed()).isFalse();
        assertThat(r.partitions()).extracting(WrittenPartition::designator).containsExactly("root-x86-64", "root-x86-64-verity");
    }

    @Test
    void partitionTypesFollowTheArchitectureX8664WhenNoneOrAny() throws Exception {
        Path src = usrTree(dir.resolve("src.tar"));
        SysextResult arm = SysextBuilder.build(request(src, dir.resolve("a/foo.raw"),
                new ExtensionRelease(Kind.SYSEXT, "foo", "debian", "12", null, Architecture.ARM64)).build());
        assertThat(arm.partitions()).extracting(WrittenPartition::designator)
                .containsExactly("root-arm64", "root-arm64-verity", "root-arm64-verity-sig");
        for (Architecture a : new Architecture[] {null, Architecture.ANY}) {
            SysextResult r = SysextBuilder.build(request(src, dir.resolve(a + "/foo.raw"),
                    new ExtensionRelease(Kind.SYSEXT, "foo", "debian", "12", null, a)).build());
            assertThat(r.partitions().get(0).designator()).isEqualTo("root-x86-64");
        }
    }

    @Test
    void confextCarriesItsReleaseFileInEtc() throws Exception {
        Path out = dir.resolve("conf.raw");
        SysextResult r = SysextBuilder.build(request(tar(dir.resolve("c.tar"), "etc/", null, "etc/app.conf", "a=b\n"), out,
                new ExtensionRelease(Kind.CONFEXT, "conf", "debian", null, "3", null)).format(SysextRequest.Format.SQUASHFS).build());
        assertThat(r.warnings()).isEmpty();
        try (SquashfsImage img = SquashfsImage.open(out)) {
            assertThat(read(img, "etc/extension-release.d/extension-release.conf")).isEqualTo("ID=debian\nCONFEXT_LEVEL=3\n");
            assertThat(read(img, "etc/app.conf")).isEqualTo("a=b\n");
        }
    }

    @Test
    void aDirectorySourceWorksAndUnmergedTopLevelEntriesAreWarnedAbout() throws Exception {
        Path src = Files.createDirectories(dir.resolve("tree/usr/bin"));
        Files.writeString(src.resolve("tool"), "x");
        Files.createDirectories(dir.resolve("tree/etc"));
        Files.writeString(dir.resolve("tree/etc/ignored.conf"), "y");
        SysextResult r = SysextBuilder.build(request(dir.resolve("tree"), dir.resolve("foo.raw"), release("foo")).allRoot(true)
                .format(SysextRequest.Format.SQUASHFS).build());
        assertThat(r.warnings()).singleElement().asString().contains("does not merge").contains("/opt and /usr").endsWith(": etc");
        try (SquashfsImage img = SquashfsImage.open(dir.resolve("foo.raw"))) {
            assertThat(img.lookup("usr/bin/tool").uid()).isZero();
        }
    }

    @Test
    void anIdenticalReleaseFileInSourceIsAcceptedADifferentOneRefused() throws Exception {
        String path = "usr/lib/extension-release.d/extension-release.foo";
        SysextResult same = SysextBuilder.build(request(tar(dir.resolve("same.tar"), "usr/", null, path,
                "ID=debian\nVERSION_ID=12\nARCHITECTURE=x86-64\n"), dir.resolve("a/foo.raw"), release("foo")).build());
        assertThat(same.signed()).isTrue();

        Path out = dir.resolve("b/foo.raw");
        assertThatThrownBy(() -> SysextBuilder.build(request(tar(dir.resolve("diff.tar"), "usr/", null, path, "ID=debian\nVERSION_ID=11\n"),
                out, release("foo")).build())).isInstanceOf(PipelineException.class)
                .hasMessageContaining(path + " differs from the extension-release file the options describe")
                .satisfies(e -> assertThat(((PipelineException) e).kind()).isEqualTo(PipelineException.Kind.BAD_INPUT));
        assertNothingWritten(out);
    }

    @Test
    void osReleaseAndOtherReleaseFilesAreRefused() throws Exception {
        String[][] cases = {
                {"etc/os-release", "os-release"},
                {"usr/lib/os-release", "os-release"},
                {"usr/lib/extension-release.d/extension-release.other", "cairn writes the extension-release file itself"},
                {"etc/extension-release.d/extension-release.foo", "cairn writes the extension-release file itself"},
        };
        for (int i = 0; i < cases.length; i++) {
            Path out = dir.resolve("o" + i + "/foo.raw");
            Path src = tar(dir.resolve("bad" + i + ".tar"), "usr/", null, "usr/bin/x", "x", cases[i][0], "ID=debian\n");
            assertThatThrownBy(() -> SysextBuilder.build(request(src, out, release("foo")).build())).as(cases[i][0])
                    .isInstanceOf(PipelineException.class).hasMessageContaining(cases[i][0]).hasMessageContaining(cases[i][1]);
            assertNothingWritten(out);
        }
    }

    static void assertNothingWritten(Path out) throws IOException {
        assertThat(out).doesNotExist();
        if (Files.isDirectory(out.getParent())) {
            try (Stream<Path> s = Files.list(out.getParent())) {
                assertThat(s.toList()).as("left in " + out.getParent()).isEmpty();
            }
        }
    }

    @Test
    void staleSidecarsOfAnEarlierImageAreRemoved() throws Exception {
        Path src = usrTree(dir.resolve("src.tar"));
        Path out = dir.resolve("foo.raw");
        SysextBuilder.build(request(src, out, release("foo")).format(SysextRequest.Format.SQUASHFS).build());
        assertThat(dir.resolve("foo.roothash.p7s")).exists();
        // unsigned naked image: the old signature would not match it
        SysextResult unsigned = SysextBuilder.build(request(src, out, release("foo")).key(null).format(SysextRequest.Format.SQUASHFS).build());
        assertThat(dir.resolve("foo.roothash.p7s")).doesNotExist();
        assertThat(dir.resolve("foo.verity")).exists();
        assertThat(unsigned.warnings()).singleElement().asString().contains("removed").contains("foo.roothash.p7s");
        // a DDI: a .verity beside it would make systemd treat the disk as a naked file system
        SysextResult ddi = SysextBuilder.build(request(src, out, release("foo")).build());
        assertThat(dir.resolve("foo.verity")).doesNotExist();
        assertThat(dir.resolve("foo.roothash")).doesNotExist();
        assertThat(ddi.warnings()).hasSize(2);
    }

    @Test
    void requestChecks() {
        Path src = dir.resolve("src");
        assertThatThrownBy(() -> SysextRequest.builder(src, dir.resolve("bar.raw"), release("foo")).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name the file foo.raw");
        assertThatThrownBy(() -> SysextRequest.builder(src, dir.resolve("foo.raw"), release("foo")).sourceDateEpoch(-1).build())
                .hasMessageContaining("source date epoch");
        assertThatThrownBy(() -> SysextBuilder.build(SysextRequest.builder(src, dir.resolve("foo.raw"), release("foo")).build()))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);
    }
}
