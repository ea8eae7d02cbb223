package dev.cairn.pipeline.sysext;

import dev.cairn.disk.DiskLayout;
import dev.cairn.disk.DiskResult;
import dev.cairn.disk.DpsType;
import dev.cairn.disk.GptWriter;
import dev.cairn.disk.PartitionSpec;
import dev.cairn.disk.RepartUuids;
import dev.cairn.io.AtomicOutput;
import dev.cairn.io.AtomicOutputGroup;
import dev.cairn.pipeline.PipelineException;
import dev.cairn.pipeline.disk.VerityPartitions;
import dev.cairn.pipeline.disk.WrittenPartition;
import dev.cairn.signing.RootHashSignature;
import dev.cairn.squashfs.DirectorySource;
import dev.cairn.squashfs.EntryMetadata;
import dev.cairn.squashfs.SourceFilter;
import dev.cairn.squashfs.SquashfsEntry;
import dev.cairn.squashfs.SquashfsImage;
import dev.cairn.squashfs.SquashfsOptions;
import dev.cairn.squashfs.SquashfsResult;
import dev.cairn.squashfs.SquashfsWriter;
import dev.cairn.squashfs.TarSource;
import dev.cairn.verity.VerityFormatter;
import dev.cairn.verity.VerityParams;
import dev.cairn.verity.VerityProgress;
import dev.cairn.verity.VerityResult;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code cairn sysext create}: a systemd system or configuration extension image from a tree.
 *
 * <p>The tree becomes a SquashFS (every time stamp the request's source date epoch) into which
 * cairn writes the extension-release file itself ({@link ExtensionRelease#path}); a SOURCE that
 * carries an os-release, or an extension-release file other than exactly that one, is refused.
 * The SquashFS gets a dm-verity tree (sha256, 4 KiB blocks, superblock; salt and superblock UUID
 * derived from the extension's name, versions and the SquashFS's digest) and the root hash a
 * detached PKCS#7 signature. Then either
 * <ul>
 * <li>{@link SysextRequest.Format#DDI}: a GPT disk with the root, root-verity and root-verity-sig
 * partitions exactly as a build's disk lays them out ({@link VerityPartitions}; no ESP), typed
 * {@code root-<arch>} (systemd 252 finds a signed {@code usr} partition's signature only for the
 * root designator), UUIDs from the root-hash halves, disk GUID and signature-partition UUID from a
 * seed derived from the name and version/level; or</li>
 * <li>{@link SysextRequest.Format#SQUASHFS}: the SquashFS alone as {@code NAME.raw}, beside it
 * {@code NAME.verity}, {@code NAME.roothash} and (signed) {@code NAME.roothash.p7s}, the sidecar
 * names systemd's {@code verity_settings_load} looks for.</li>
 * </ul>
 * Sidecar files of an earlier image under the same name ({@code NAME.verity}, {@code NAME.roothash},
 * {@code NAME.roothash.p7s}, {@code NAME.usrhash}, {@code NAME.usrhash.p7s}) that the new image
 * does not replace are removed: systemd would apply them to the new image. Outputs are written
 * beside their targets and renamed into place; the same request gives the same bytes.
 */
public final class SysextBuilder {
    static final List<String> SIDECARS = List.of(".verity", ".roothash", ".roothash.p7s", ".usrhash", ".usrhash.p7s");

    private SysextBuilder() {
    }

    /** Builds the extension image {@code request} describes. */
    public static SysextResult build(SysextRequest request) throws IOException {
        Path out = request.output().toAbsolutePath().normalize();
        Path source = request.source();
        if (!Files.isDirectory(source) && !Files.isRegularFile(source)) {
            throw new NoSuchFileException(source.toString(), null, "no such directory or tar archive");
        }
        Files.createDirectories(out.getParent());
        return request.format() == SysextRequest.Format.DDI ? ddi(request, out) : squashfs(request, out);
    }

    // ---- formats ----

    private static SysextResult ddi(SysextRequest r, Path out) throws IOException {
        Path dir = out.getParent();
        Path work = AtomicOutput.createTempFile(dir, "." + out.getFileName() + ".", ".squashfs");
        Path sig = null;
        try {
            Written sq;
            try (FileChannel ch = FileChannel.open(work, StandardOpenOption.WRITE, StandardOpenOption.READ)) {
                sq = writeSquashfs(r, ch, work, out);
            }
            long hashOffset = sq.result().imageSize();
            VerityResult v = VerityFormatter.format(work, work, verityParams(r, sq.sha256()).withHashOffset(hashOffset), r.threads(),
                    VerityProgress.NONE);
            String rootHash = v.rootHashHex();
            if (r.signed()) {
                sig = AtomicOutput.createTempFile(dir, "." + out.getFileName() + ".", ".verity-sig");
                byte[] p7s = RootHashSignature.sign(rootHash, r.key(), true);
                Files.write(sig, VerityPartitions.signatureContent(rootHash, p7s, r.key()));
            }
            UUID seed = seed(r.release());
            DpsType.Arch arch = partitionArchitecture(r.release());
            List<PartitionSpec> parts = VerityPartitions.specs(arch, work, Files.size(work), hashOffset, v.rootHash(), seed, sig);
            DiskLayout layout = DiskLayout.plan(RepartUuids.diskUuid(seed), parts, 0);
            DiskResult written = GptWriter.write(layout, out);
            List<String> warnings = new ArrayList<>(sq.warnings());
            removeStaleSidecars(out, List.of(), warnings);
            return new SysextResult(out, SysextRequest.Format.DDI, r.release(), rootHash, r.signed(), written.totalSize(),
                    written.sha256Hex(), hashOffset, layout.diskGuid(), WrittenPartition.of(layout, written), List.of(), warnings);
        } finally {
            Files.deleteIfExists(work);
            AtomicOutput.settled(work);
            if (sig != null) {
                Files.deleteIfExists(sig);
                AtomicOutput.settled(sig);
            }
        }
    }

    private static SysextResult squashfs(SysextRequest r, Path out) throws IOException {
        String stem = r.release().name();
        Path dir = out.getParent();
        Path verity = dir.resolve(stem + ".verity");
        Path roothash = dir.resolve(stem + ".roothash");
        Path p7sFile = dir.resolve(stem + ".roothash.p7s");
        Written sq;
        String rootHash;
        try (AtomicOutputGroup outputs = new AtomicOutputGroup()) {
            AtomicOutput image = outputs.open(out);
            sq = writeSquashfs(r, image.channel(), image.tempPath(), out);
            VerityResult v = VerityFormatter.format(image.tempPath(), verity, verityParams(r, sq.sha256()), r.threads(),
                    VerityProgress.NONE, outputs);
            rootHash = v.rootHashHex();
            // read_one_line_file: the trailing newline is fine, as in veritysetup's --root-hash-file habit
            outputs.write(roothash, (rootHash + "\n").getBytes(StandardCharsets.US_ASCII));
            if (r.signed()) {
                outputs.write(p7sFile, RootHashSignature.sign(rootHash, r.key(), true));
            }
            outputs.commit();
        }
        List<Path> sidecars = r.signed() ? List.of(verity, roothash, p7sFile) : List.of(verity, roothash);
        List<String> warnings = new ArrayList<>(sq.warnings());
        removeStaleSidecars(out, sidecars, warnings);
        long size = sq.result().imageSize();
        return new SysextResult(out, SysextRequest.Format.SQUASHFS, r.release(), rootHash, r.signed(), size,
                HexFormat.of().formatHex(sq.sha256()), size, null, List.of(), sidecars, warnings);
    }

    // ---- the SquashFS ----

    /** The SquashFS as written: its result, SHA-256 and the warnings its checks raised. */
    private record Written(SquashfsResult result, byte[] sha256, List<String> warnings) {
    }

    /**
     * Writes SOURCE and the extension-release file as a SquashFS into {@code ch} (the file
     * {@code file}), then reads the image back and refuses what systemd would refuse or misread.
     */
    private static Written writeSquashfs(SysextRequest r, FileChannel ch, Path file, Path out) throws IOException {
        ExtensionRelease rel = r.release();
        long t = r.sourceDateEpoch();
        SquashfsOptions options = SquashfsOptions.defaults(r.compression()).withTime(t).withProcessors(r.threads());
        SourceFilter filter = r.allRoot() ? new SourceFilter(List.of(), 0L, 0L) : SourceFilter.none();
        SquashfsResult result;
        boolean fromSource;
        try (SquashfsWriter w = new SquashfsWriter(ch, options)) {
            Path source = r.source();
            if (Files.isDirectory(source)) {
                // the output, its temp file and its sidecars never become entries, should they lie inside SOURCE
                Set<Path> skip = new java.util.HashSet<>();
                skip.add(out);
                skip.add(file.toAbsolutePath().normalize());
                String stem = rel.name();
                for (String s : SIDECARS) {
                    skip.add(out.resolveSibling(stem + s));
                }
                DirectorySource.add(source, w, filter, skip);
            } else {
                try (InputStream in = Files.newInputStream(source)) {
                    TarSource.add(in, w, filter);
                }
            }
            fromSource = w.contains(rel.path());
            if (!fromSource) {
                // missing parents are created 0755 root:root with the same time stamp
                w.addFile(rel.path(), EntryMetadata.of(0644, 0, 0, t), new ByteArrayInputStream(rel.bytes()));
            }
            result = w.finish();
        }
        List<String> warnings = new ArrayList<>(result.warnings());
        warnings.addAll(check(file, r, fromSource));
        return new Written(result, sha256(file), warnings);
    }

    /** Where extension-release files live, for both kinds. */
    static final List<String> RELEASE_DIRECTORIES = Arrays.stream(ExtensionRelease.Kind.values())
            .map(ExtensionRelease.Kind::directory).toList();

    /**
     * Reads the image back: no os-release; no extension-release file but the one cairn writes
     * (SOURCE may carry that one only with exactly cairn's bytes); warnings for top-level entries
     * systemd does not merge for this kind of extension.
     */
    static List<String> check(Path file, SysextRequest r, boolean fromSource) throws IOException {
        ExtensionRelease rel = r.release();
        List<String> warnings = new ArrayList<>();
        try (SquashfsImage img = SquashfsImage.open(file)) {
            for (String p : OsRelease.PATHS) { // the os-release files systemd reads: an extension must not have them
                if (find(img, p) != null) {
                    throw refused(r, p + " is there: an extension image must not carry an os-release file (systemd would take it"
                            + " for an operating system image, not an extension)");
                }
            }
            for (String d : RELEASE_DIRECTORIES) {
                SquashfsEntry dir = find(img, d);
                if (dir == null) {
                    continue;
                }
                if (!dir.isDirectory()) {
                    throw refused(r, d + " is not a directory");
                }
                for (SquashfsEntry e : img.list(dir)) {
                    if (!e.path().equals(rel.path())) {
                        throw refused(r, e.path() + " is there: cairn writes the extension-release file itself ("
                                + rel.path() + ", from the name, ID, version and architecture given); remove it from SOURCE");
                    }
                }
            }
            SquashfsEntry own = find(img, rel.path());
            if (own == null || own.type() != SquashfsEntry.Type.FILE) {
                throw refused(r, rel.path() + " is not a regular file");
            }
            if (fromSource) {
                byte[] have;
                try (InputStream in = img.open(own)) {
                    have = in.readNBytes(64 * 1024);
                }
                if (!Arrays.equals(have, rel.bytes())) {
                    throw refused(r, rel.path() + " differs from the extension-release file the options describe (" + rel.content()
                            .strip().replace('\n', ' ') + "); remove it from SOURCE and let cairn write it");
                }
            }
            List<String> unmerged = new ArrayList<>();
            for (SquashfsEntry e : img.list(img.root())) {
                if (!rel.kind().mergedDirectories().contains(e.name())) {
                    unmerged.add(e.name());
                }
            }
            if (!unmerged.isEmpty()) {
                warnings.add("SOURCE has top-level entries systemd-" + rel.kind().label() + " does not merge (only "
                        + String.join(" and ", rel.kind().mergedDirectories().stream().sorted().map(s -> "/" + s).toList()) + "): "
                        + String.join(", ", unmerged));
            }
        }
        return warnings;
    }

    private static SquashfsEntry find(SquashfsImage img, String path) throws IOException {
        try {
            return img.lookup(path);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static PipelineException refused(SysextRequest r, String why) {
        return new PipelineException(PipelineException.Kind.BAD_INPUT, r.source() + ": " + why);
    }

    // ---- derivations ----

    /** veritysetup's defaults; salt and superblock UUID derived from the extension and the SquashFS's digest. */
    static VerityParams verityParams(SysextRequest r, byte[] squashfsSha256) {
        byte[] salt = derive("cairn sysext verity salt", r.release(), squashfsSha256);
        byte[] u = derive("cairn sysext verity uuid", r.release(), squashfsSha256);
        u[6] = (byte) ((u[6] & 0x0f) | 0x40);
        u[8] = (byte) ((u[8] & 0x3f) | 0x80);
        ByteBuffer b = ByteBuffer.wrap(u);
        return VerityParams.defaults(salt, new UUID(b.getLong(), b.getLong()));
    }

    private static byte[] derive(String label, ExtensionRelease rel, byte[] content) {
        MessageDigest md = sha256();
        md.update(String.join("\0", label, rel.kind().label(), rel.name(), nullToEmpty(rel.versionId()), nullToEmpty(rel.level()), "")
                .getBytes(StandardCharsets.UTF_8));
        return md.digest(content);
    }

    /** The seed of the DDI's disk GUID and signature-partition UUID: from the kind, name, version and level. */
    static UUID seed(ExtensionRelease rel) {
        return VerityPartitions.seed("cairn sysext seed", rel.kind().label(), rel.name(), "VERSION_ID=" + nullToEmpty(rel.versionId()),
                rel.kind().levelKey() + "=" + nullToEmpty(rel.level()));
    }

    /** The DPS architecture of the DDI's partitions: the release's, x86-64 when it names none or {@code _any}. */
    static DpsType.Arch partitionArchitecture(ExtensionRelease rel) {
        return rel.architecture() == null ? DpsType.Arch.X86_64 : rel.architecture().dps().orElse(DpsType.Arch.X86_64);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    /** Removes sidecars of {@code out} that {@code keep} does not name; says so in {@code warnings}. */
    static void removeStaleSidecars(Path out, List<Path> keep, List<String> warnings) throws IOException {
        String fn = out.getFileName().toString();
        String stem = fn.substring(0, fn.length() - ExtensionRelease.SUFFIX.length());
        for (String s : SIDECARS) {
            Path p = out.resolveSibling(stem + s);
            if (!keep.contains(p) && Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(p);
                warnings.add("removed " + p + ": systemd would have applied it to the new " + fn);
            }
        }
    }

    private static byte[] sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return md.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
