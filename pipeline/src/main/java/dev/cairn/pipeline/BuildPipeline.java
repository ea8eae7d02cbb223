package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.pipeline.uki.UkiAssembly;
import dev.cairn.oci.CosignSignatures;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.ImageBuilder;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciLayout;
import dev.cairn.signing.CmsOptions;
import dev.cairn.signing.CmsSigner;
import dev.cairn.signing.DeferredSignatures;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.Pem;
import dev.cairn.signing.RawSignature;
import dev.cairn.signing.RootHashSignature;
import dev.cairn.signing.ipe.IpePolicy;
import dev.cairn.signing.pcr.PcrSigningKey;
import dev.cairn.squashfs.DirectorySource;
import dev.cairn.squashfs.PseudoDefinition;
import dev.cairn.squashfs.SourceFilter;
import dev.cairn.squashfs.SquashfsImage;
import dev.cairn.squashfs.SquashfsOptions;
import dev.cairn.squashfs.SquashfsResult;
import dev.cairn.squashfs.SquashfsWriter;
import dev.cairn.squashfs.TarSource;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.UkiBuilder;
import dev.cairn.uki.initrd.InitrdAttributes;
import dev.cairn.uki.initrd.InitrdCompression;
import dev.cairn.uki.initrd.InitrdContent;
import dev.cairn.uki.initrd.InitrdOptions;
import dev.cairn.uki.initrd.InitrdTree;
import dev.cairn.uki.initrd.InitrdWriter;
import dev.cairn.verity.VerityFormatter;
import dev.cairn.verity.VerityParams;
import dev.cairn.verity.VerityProgress;
import dev.cairn.verity.VerityResult;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * {@code cairn build}: the steps from a spec to a signed, verified image set. Everything is built
 * in {@code OUT/.cairn-staging}, checked as a whole by {@link ImageSetVerifier} (the same checks
 * {@code cairn verify} runs), and only then moved into {@code OUT}; the manifest comes last. A
 * failure or Ctrl-C leaves the previous outputs as they were, and the next run starts afresh.
 * Expensive steps are cached by input digest ({@link StepCache}).
 */
final class BuildPipeline {
    static final String ROOTFS = "rootfs.img";
    static final String ROOTHASH = "rootfs.roothash";
    static final String ROOTHASH_SIG = "rootfs.roothash.p7s";
    static final String POLICY = "ipe-policy.txt";
    static final String POLICY_SIG = "ipe-policy.p7s";
    static final String INITRAMFS = "initramfs.cpio.zst";
    static final String MANIFEST = "manifest.json";
    static final String MANIFEST_SIG = "manifest.json.p7s";
    static final String UKI_ARTIFACT_TYPE = "application/vnd.cairn.uki.v1+efi";
    static final String POLICY_ARTIFACT_TYPE = "application/vnd.cairn.ipe-policy.v1";
    /** Where the initramfs carries the signed artifacts its /init needs. */
    static final String INITRD_ROOTHASH = "etc/cairn/roothash";
    static final String INITRD_ROOTHASH_SIG = "etc/cairn/roothash.p7s";
    static final String INITRD_POLICY = "etc/ipe/policy.p7s";
    /** zstd level of a packed initramfs: a tenth of level 19's time for a few percent more bytes. */
    static final int INITRD_ZSTD_LEVEL = 9;
    /** The phase path of PCR 11 right after systemd-stub: the UKI's sections measured, no boot phase word yet. */
    static final String SECTIONS_ONLY_PHASE = ":";

    /**
     * @param unsigned      every key role is deferred ({@code --unsigned}), recorded in the signing request
     * @param answeredRound the round of the signing request whose answers this build injects (0: none)
     * @param answers       every signature injected so far, to keep in OUT for the next round (null: none)
     */
    record Options(Path out, boolean force, int threads, long sourceDateEpoch, BuildListener listener, RegistryStepCache remote,
                   boolean unsigned, int answeredRound, byte[] answers) {
        Options(Path out, boolean force, int threads, long sourceDateEpoch, BuildListener listener, RegistryStepCache remote) {
            this(out, force, threads, sourceDateEpoch, listener, remote, false, 0, null);
        }
    }

    /** Where injected signatures are kept between rounds of a split build (removed once the set is complete). */
    static final String ANSWERS = ".cairn-signatures.json";

    /** What a build produced: the manifest (as written) and how each step went with the cache. */
    record Outcome(ObjectNode manifest, byte[] manifestBytes, List<StepReport> steps, Path uki, SigningRequest request) {
    }

    private final BuildSpec spec;
    private final BuildKeys keys;
    private final Options o;
    private final Path staging;
    private final StepCache cache;
    private int stepNo;
    /** Steps of a build: 8, and the disk image when the spec asks for one. */
    private int steps() {
        return (spec.outputs().disk() != null ? 9 : 8) + spec.extensions().size();
    }

    private BuildPipeline(BuildSpec spec, BuildKeys keys, Options o) {
        this.spec = spec;
        this.keys = keys;
        this.o = o;
        this.staging = o.out().resolve(".cairn-staging");
        this.cache = new StepCache(o.out().resolve(".cairn-cache"), o.force(), o.remote());
    }

    static Outcome run(BuildSpec spec, BuildKeys keys, Options o) throws IOException {
        return new BuildPipeline(spec, keys, o).run();
    }

    private Outcome run() throws IOException {
        Files.createDirectories(o.out());
        dev.cairn.io.FileTrees.delete(staging); // an interrupted earlier build
        cache.sweep();
        Files.createDirectories(staging);
        Thread cleanup = new Thread(() -> {
            try {
                dev.cairn.io.FileTrees.delete(staging);
            } catch (IOException ignored) {
                // best effort on Ctrl-C; the next build removes it
            }
        }, "cairn-build-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        boolean done = false;
        try {
            ObjectNode rootfs = step("rootfs", "root filesystem -> SquashFS + dm-verity tree", this::rootfs);
            String rootHash = rootfs.path("verity").path("rootHash").asText();
            step("roothash", "dm-verity root-hash signature", () -> rootHashSignature(rootHash));
            List<ObjectNode> extensions = extensions();
            ObjectNode ipe = step("ipe", "IPE policy", () -> ipePolicy(rootHash, extensions));
            ObjectNode initrd = step("initramfs", "initramfs", this::initramfs);
            String cmdline = spec.kernel().cmdline().render(cmdlineValues(rootfs));
            ObjectNode uki = step("uki", "UKI (signed, PCR 11 predicted)", () -> uki(cmdline));
            ObjectNode oci = step("oci", "OCI layout (layer, artifacts, cosign signature)", () -> oci(rootHash, ipe.size() > 0));
            ObjectNode disk = spec.outputs().disk() == null ? null
                    : step("disk", "disk image (GPT: ESP with the UKI, root, root-verity, root-verity-sig)", () -> disk(rootfs, uki,
                    extensions));
            ObjectNode manifest = manifest(rootfs, ipe, initrd, uki, oci, disk, extensions);
            byte[] bytes = ManifestJson.encode(manifest);
            step("manifest", "build manifest (signed)", () -> {
                Files.write(staging.resolve(MANIFEST), bytes);
                KeyMaterial km = keys.get(KeyRole.MANIFEST);
                label("manifest");
                byte[] sig = CmsSigner.sign(bytes, km, new CmsOptions(true, true, false, "SHA-256"));
                if (keys.deferred() == null || keys.deferred().pending().isEmpty()) {
                    Files.write(staging.resolve(MANIFEST_SIG), sig);
                }
                return ManifestJson.object();
            });
            SigningRequest request = signingRequest(manifest, bytes);
            if (request != null) {
                // not signed yet: no whole-set check (it would fail on every missing signature); the request is the output
                o.listener().warning("the set is not signed yet: " + request.signatures().size() + " signature(s) of round "
                        + request.round() + " to make (" + String.join(", ", request.roles()) + "), listed in " + o.out().resolve(SigningRequest.FILE));
                Files.write(staging.resolve(SigningRequest.FILE), request.encode());
                if (o.answers() != null) {
                    Files.write(staging.resolve(ANSWERS), o.answers());
                }
                publish();
                if (o.answers() == null) {
                    Files.deleteIfExists(o.out().resolve(ANSWERS)); // an earlier split build's
                }
                done = true;
                cache.publishRemote();
                return new Outcome(manifest, bytes, cache.reports(), o.out().resolve(uki.path("path").asText()), request);
            }
            step("check", "verify the whole set", () -> {
                ImageSetVerifier.Report r = ImageSetVerifier.verify(staging, anchor(keys.get(KeyRole.MANIFEST)),
                        keys.get(KeyRole.SECUREBOOT).certificate(), Instant.now());
                if (!r.ok()) {
                    throw new PipelineException(PipelineException.Kind.IO, "the new image set fails its own verification (not kept): "
                            + r.firstFailure());
                }
                return ManifestJson.object();
            });
            publish();
            Files.deleteIfExists(o.out().resolve(SigningRequest.FILE));
            Files.deleteIfExists(o.out().resolve(ANSWERS));
            done = true;
            cache.publishRemote();
            return new Outcome(manifest, bytes, cache.reports(), o.out().resolve(uki.path("path").asText()), null);
        } finally {
            if (!done) {
                dev.cairn.io.FileTrees.delete(staging);
            }
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException ignored) {
                // shutting down
            }
        }
    }

    interface Step {
        ObjectNode run() throws IOException;
    }

    private ObjectNode step(String name, String label, Step s) throws IOException {
        stepNo++;
        long t0 = System.nanoTime();
        o.listener().stepStarted(stepNo, steps(), name, label);
        ObjectNode r = s.run();
        StepReport report = cache.report(name);
        if (report == null) {
            cache.notCached(name);
            report = cache.report(name);
        }
        o.listener().stepFinished(report, java.time.Duration.ofNanos(System.nanoTime() - t0));
        return r;
    }

    // ---- steps ----

    private ObjectNode rootfs() throws IOException {
        BuildSpec.Rootfs r = spec.rootfs();
        Set<Path> skipOut = Set.of(o.out().toAbsolutePath().normalize());
        RootfsOverlay overlay = r.overlay().isEmpty() ? null : RootfsOverlay.scan(r.overlay(), skipOut);
        StepCache.Key key = new StepCache.Key().add("step", "rootfs v3").add("name", spec.image().name())
                .add("version", spec.image().version()).add("comp", r.compression().name()).add("pseudo", String.join("\n", r.pseudo()))
                .add("exclude", String.join("\n", r.exclude())).add("sde", Long.toString(o.sourceDateEpoch()))
                .add("salt", spec.verity().salt() == null ? "derived" : HexFormat.of().formatHex(spec.verity().salt()));
        if (r.fileContexts() != null) {
            // the rules by content (FILE and the companions libselinux reads), not by path
            for (Path f : dev.cairn.pipeline.selinux.FileContexts.files(r.fileContexts())) {
                key.addFile("selinux " + f.getFileName(), f);
            }
        }
        if (r.ima() != null) {
            // the signer's certificate stands for the key: a new key makes new signatures
            key.add("ima", r.ima().files() + " " + r.ima().hash() + " " + BuildKeys.fingerprint(keys.get(KeyRole.IMA)));
        }
        for (int i = 0; i < r.overlay().size(); i++) {
            // by content and tree shape (modes: only the execute bits reach the image, but the whole mode keys it)
            key.addTree("overlay " + i, r.overlay().get(i), skipOut);
        }
        if (!r.clean().isEmpty()) {
            key.add("clean", String.join(",", r.clean().stream().map(BuildSpec.Cleanup::specName).toList()));
        }
        if (r.dir() != null) {
            key.addTree("dir", r.dir(), Set.of(o.out().toAbsolutePath().normalize()));
        } else if (r.tar() != null) {
            key.addFile("tar", r.tar());
        } else {
            // layers are content addressed (and verified while read): their digests stand for their bytes
            for (dev.cairn.oci.Descriptor l : r.oci().layers()) {
                key.add("oci layer", l.mediaType() + " " + l.digest());
            }
        }
        Optional<ObjectNode> hit = cache.restore("rootfs", key, staging, List.of(ROOTFS));
        if (hit.isPresent()) {
            Optional<ObjectNode> sound = sound("rootfs", key, List.of(ROOTFS),
                    () -> CachedResults.rootfs(hit.get(), staging.resolve(ROOTFS), spec.compressionName(), o.threads(),
                            treeResult(overlay, CachedResults.cleanCounts(hit.get(), r.clean()))));
            if (sound.isPresent()) {
                noteTree(sound.get());
                return sound.get();
            }
        }
        Path img = staging.resolve(ROOTFS);
        long sde = o.sourceDateEpoch();
        // every inode time is SOURCE_DATE_EPOCH (not capped at it): the tree's times never reach the image,
        // which is what lets the cache key leave them out
        SquashfsOptions so = SquashfsOptions.defaults(r.compression()).withTime(sde).withProcessors(o.threads());
        SquashfsResult sq;
        RootfsClean clean = new RootfsClean(r.clean());
        boolean[] sourcePhase = {true};
        try (FileChannel ch = FileChannel.open(img, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
             SquashfsWriter w = new SquashfsWriter(ch, so)) {
            if (overlay != null || !r.clean().isEmpty()) {
                // an entry the overlay replaces or a clean-up removes is never read: none of its content reaches the image
                w.gate((path, type) -> sourcePhase[0] && overlay != null && overlay.source(path, type) == dev.cairn.squashfs.EntryGate.Verdict.SKIP
                        ? dev.cairn.squashfs.EntryGate.Verdict.SKIP : clean.check(path, type));
            }
            SourceFilter filter = new SourceFilter(r.exclude(), 0L, 0L);
            if (r.fileContexts() != null) {
                w.addEntryAttributes(dev.cairn.pipeline.selinux.FileContexts.load(r.fileContexts())
                        .labeller(new java.util.concurrent.atomic.AtomicLong(), new java.util.concurrent.atomic.AtomicLong()));
            }
            if (r.ima() != null) {
                // after the labels; IMA signs content only, so the order does not change a signature
                w.addEntryAttributes(new ImaFileSigning(keys.get(KeyRole.IMA), r.ima()));
            }
            if (r.dir() != null) {
                DirectorySource.add(r.dir(), w, filter, Set.of(o.out().toAbsolutePath().normalize()));
            } else if (r.tar() != null) {
                try (InputStream in = Files.newInputStream(r.tar())) {
                    TarSource.add(in, w, filter);
                }
            } else {
                dev.cairn.oci.OciLayout layout = dev.cairn.oci.OciLayout.open(r.oci().layout());
                for (dev.cairn.oci.Descriptor l : r.oci().layers()) {
                    try (InputStream blob = OciRootfsResolver.open(layout, l)) {
                        TarSource.addLayer(new java.io.FilterInputStream(blob) {
                            @Override
                            public void close() {
                                // the blob is drained and closed below, after the tar reader is done with it
                            }
                        }, w, filter);
                        OciRootfsResolver.drain(blob);
                    }
                }
            }
            sourcePhase[0] = false;
            if (overlay != null) {
                overlay.addTo(w, sde);
            }
            for (int i = 0; i < r.pseudo().size(); i++) {
                PseudoDefinition.parse(r.pseudo().get(i), "rootfs.pseudo[" + i + "]").apply(w, sde);
            }
            clean.finish(w);
            sq = w.finish();
        }
        clean.warnings().forEach(m -> o.listener().warning("rootfs: " + m));
        sq.warnings().forEach(m -> o.listener().warning("rootfs: " + m));
        SquashfsImage.check(img);
        byte[] sqDigest = HexFormat.of().parseHex(StepCache.digest(img));
        byte[] salt = spec.verity().salt() != null ? spec.verity().salt() : derive("cairn build verity salt", sqDigest);
        byte[] u = derive("cairn build verity uuid", sqDigest);
        u[6] = (byte) ((u[6] & 0x0f) | 0x40);
        u[8] = (byte) ((u[8] & 0x3f) | 0x80);
        ByteBuffer ub = ByteBuffer.wrap(u);
        VerityParams p = VerityParams.defaults(salt, new UUID(ub.getLong(), ub.getLong())).withHashOffset(sq.imageSize());
        VerityResult v = VerityFormatter.format(img, img, p, o.threads(), VerityProgress.NONE);
        ObjectNode res = CachedResults.result(spec.compressionName(), sq.imageSize(), HexFormat.of().formatHex(sqDigest), sq.inodes(), v);
        ArrayNode counts = ManifestJson.object().arrayNode();
        clean.record(counts, r.clean());
        res.setAll(treeResult(overlay, counts));
        cache.store("rootfs", key, staging, List.of(ROOTFS), res);
        noteTree(res);
        return res;
    }

    /**
     * The rootfs result's {@code overlay} ({@code [{dir, entries}]}, the directory as the spec names
     * it) and {@code clean} ({@code [{name, removed, emptied}]}), each only when the spec has them.
     */
    private ObjectNode treeResult(RootfsOverlay overlay, ArrayNode clean) {
        ObjectNode n = ManifestJson.object();
        if (overlay != null) {
            ArrayNode a = n.putArray("overlay");
            Path base = spec.file().toAbsolutePath().getParent();
            for (int i = 0; i < spec.rootfs().overlay().size(); i++) {
                Path d = spec.rootfs().overlay().get(i);
                ObjectNode e = a.addObject();
                e.put("dir", d.startsWith(base) ? base.relativize(d).toString().replace(java.io.File.separatorChar, '/') : d.toString());
                e.put("entries", overlay.counts().get(i));
            }
        }
        if (!spec.rootfs().clean().isEmpty()) {
            n.set("clean", clean);
        }
        return n;
    }

    /** The step report says what the overlays added and what each clean-up removed or emptied. */
    private void noteTree(ObjectNode rootfs) {
        for (com.fasterxml.jackson.databind.JsonNode e : rootfs.path("overlay")) {
            cache.note("rootfs", "overlay " + e.path("dir").asText() + ": " + e.path("entries").asLong() + " entries");
        }
        for (com.fasterxml.jackson.databind.JsonNode e : rootfs.path("clean")) {
            cache.note("rootfs", "clean-up " + e.path("name").asText() + ": " + e.path("removed").asLong() + " removed, "
                    + e.path("emptied").asLong() + " emptied");
        }
    }

    private byte[] derive(String label, byte[] content) {
        MessageDigest md = sha256();
        md.update((label + "\0" + spec.image().name() + "\0" + spec.image().version() + "\0").getBytes(StandardCharsets.UTF_8));
        return md.digest(content);
    }

    private ObjectNode rootHashSignature(String rootHash) throws IOException {
        Files.write(staging.resolve(ROOTHASH), (rootHash + "\n").getBytes(StandardCharsets.US_ASCII));
        label("roothash");
        Files.write(staging.resolve(ROOTHASH_SIG), RootHashSignature.sign(rootHash, keys.get(KeyRole.VERITY), true));
        return ManifestJson.object();
    }

    /**
     * One step per {@code extensions:} entry, in spec order, each written to
     * {@code staging/extensions/NAME.raw} (sidecars beside a naked SquashFS); their results, the
     * manifest's {@code extensions}.
     */
    private List<ObjectNode> extensions() throws IOException {
        if (spec.extensions().isEmpty()) {
            return List.of();
        }
        dev.cairn.pipeline.sysext.OsRelease os;
        try (SquashfsImage img = SquashfsImage.open(staging.resolve(ROOTFS))) {
            os = dev.cairn.pipeline.sysext.OsRelease.read(img);
        }
        Files.createDirectories(staging.resolve(ExtensionStep.DIR));
        List<ObjectNode> out = new ArrayList<>();
        for (BuildSpec.Extension x : spec.extensions()) {
            out.add(step(ExtensionStep.stepName(x), "extension " + x.name() + " (" + x.kind().label() + ", "
                    + x.format().name().toLowerCase(Locale.ROOT) + ")", () -> extension(x, os)));
        }
        return out;
    }

    private ObjectNode extension(BuildSpec.Extension x, dev.cairn.pipeline.sysext.OsRelease os) throws IOException {
        dev.cairn.pipeline.sysext.ExtensionRelease rel = ExtensionStep.release(spec, x, os);
        if (rel.id().equals("_any") && (rel.versionId() != null || rel.level() != null)) {
            o.listener().warning("extension " + x.name() + ": with osId _any systemd compares neither VERSION_ID nor "
                    + rel.kind().levelKey() + " (it matches every host)");
        }
        KeyMaterial km = keys.get(KeyRole.VERITY);
        Path dir = staging.resolve(ExtensionStep.DIR);
        List<String> files = ExtensionStep.files(x);
        String step = ExtensionStep.stepName(x);
        StepCache.Key key = new StepCache.Key().add("step", "extension v1").add("name", x.name()).add("release", rel.content())
                .add("kind", rel.kind().label()).add("format", x.format().name()).add("comp", x.compression().name())
                .add("sde", Long.toString(o.sourceDateEpoch())).add("key", BuildKeys.fingerprint(km));
        if (x.dir() != null) {
            key.addTree("dir", x.dir(), Set.of(o.out().toAbsolutePath().normalize()));
        } else {
            key.addFile("tar", x.tar());
        }
        // an image with a signature still to come is not cached: the next round's would be restored as if signed
        boolean deferred = keys.deferred() != null;
        Optional<ObjectNode> hit = deferred ? Optional.empty() : cache.restore(step, key, dir, files);
        if (hit.isPresent()) {
            Optional<ObjectNode> sound = sound(step, key, files.stream().map(f -> ExtensionStep.DIR + "/" + f).toList(),
                    () -> ExtensionStep.checkRestored(hit.get(), dir));
            if (sound.isPresent()) {
                return sound.get();
            }
        }
        label(ExtensionStep.signatureLabel(x));
        dev.cairn.pipeline.sysext.SysextResult r = dev.cairn.pipeline.sysext.SysextBuilder.build(
                dev.cairn.pipeline.sysext.SysextRequest.builder(x.dir() != null ? x.dir() : x.tar(), staging.resolve(x.path()), rel)
                        .format(x.format()).compression(x.compression()).key(km).sourceDateEpoch(o.sourceDateEpoch())
                        .threads(o.threads()).build());
        r.warnings().forEach(w -> o.listener().warning("extension " + x.name() + ": " + w));
        ObjectNode n = ExtensionStep.result(x, r, dir);
        if (!deferred) {
            cache.store(step, key, dir, files, n);
        }
        return n;
    }

    private ObjectNode ipePolicy(String rootHash, List<ObjectNode> extensions) throws IOException {
        BuildSpec.Ipe ipe = spec.ipe();
        if (!ipe.enabled()) {
            return ManifestJson.object();
        }
        Map<IpePolicy.Op, IpePolicy.Action> defaults = new EnumMap<>(IpePolicy.Op.class);
        defaults.put(IpePolicy.Op.EXECUTE, IpePolicy.Action.DENY);
        List<IpePolicy.Rule> rules = new ArrayList<>(List.of(
                new IpePolicy.Rule(IpePolicy.Op.EXECUTE, List.of(IpePolicy.property("boot_verified=TRUE")), IpePolicy.Action.ALLOW),
                new IpePolicy.Rule(IpePolicy.Op.EXECUTE, List.of(IpePolicy.property("dmverity_roothash=sha256:" + rootHash)),
                        IpePolicy.Action.ALLOW)));
        // then each extension's root hash, by name (programs of merged extensions run from their dm-verity device)
        List<String> extensionHashes = ExtensionStep.rootHashesByName(extensions);
        for (String h : extensionHashes) {
            rules.add(new IpePolicy.Rule(IpePolicy.Op.EXECUTE, List.of(IpePolicy.property("dmverity_roothash=sha256:" + h)),
                    IpePolicy.Action.ALLOW));
        }
        StringBuilder text = new StringBuilder(new IpePolicy(ipe.name(), IpePolicy.Version.parse(ipe.version()), defaults,
                IpePolicy.Action.ALLOW, rules).render());
        for (String r : ipe.rules()) {
            text.append(r.strip()).append('\n');
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
        IpePolicy.parse(bytes);
        Files.write(staging.resolve(POLICY), bytes);
        label("ipe-policy");
        Files.write(staging.resolve(POLICY_SIG), CmsSigner.sign(bytes, keys.get(KeyRole.IPE), new CmsOptions(false, true, false, "SHA-256")));
        ObjectNode r = ManifestJson.object();
        r.put("name", ipe.name());
        r.put("version", ipe.version());
        ArrayNode trusted = r.putArray("trustedRootHashes").add("sha256:" + rootHash);
        extensionHashes.forEach(h -> trusted.add("sha256:" + h));
        return r;
    }

    private ObjectNode initramfs() throws IOException {
        BuildSpec.Initramfs in = spec.kernel().initramfs();
        Path target = staging.resolve(INITRAMFS);
        ObjectNode r = ManifestJson.object();
        if (in.dir() == null) {
            Files.copy(in.file(), target);
            r.put("source", "file");
            return r;
        }
        InitrdOptions opts = InitrdOptions.defaults(InitrdCompression.ZSTD).withLevel(INITRD_ZSTD_LEVEL).withMtime(o.sourceDateEpoch());
        InitrdContent extra = InitrdContent.resolve(in.binaries(), in.modulesDir(), in.modules());
        StepCache.Key key = new StepCache.Key().add("step", "initramfs v2").add("level", Integer.toString(INITRD_ZSTD_LEVEL))
                .add("sde", Long.toString(o.sourceDateEpoch())).addTree("dir", in.dir(), Set.of(o.out().toAbsolutePath().normalize()))
                .addFile("roothash", staging.resolve(ROOTHASH)).addFile("roothash.p7s", staging.resolve(ROOTHASH_SIG));
        if (spec.ipe().enabled()) {
            key.addFile("policy", staging.resolve(POLICY_SIG));
        }
        if (in.file() != null) {
            key.addFile("file", in.file());
        }
        for (InitrdContent.Item i : extra.items()) {
            key.add("item", i.path() + " " + i.permissions() + " " + (i.linkTarget() != null ? "-> " + i.linkTarget()
                    : i.source() != null ? "sha256:" + StepCache.digest(i.source())
                    : HexFormat.of().formatHex(sha256().digest(i.content()))));
        }
        Optional<ObjectNode> hit = cache.restore("initramfs", key, staging, List.of(INITRAMFS));
        if (hit.isPresent()) {
            Optional<ObjectNode> sound = sound("initramfs", key, List.of(INITRAMFS),
                    () -> CachedResults.initramfs(hit.get(), target, extra.moduleLoadOrder(), in.file()));
            if (sound.isPresent()) {
                return sound.get();
            }
        }
        long fileSize = 0;
        String fileSha256 = null;
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(target, StandardOpenOption.CREATE_NEW), 1 << 16);
             InitrdWriter w = new InitrdWriter(os, opts)) {
            if (in.file() != null) {
                // the ready initramfs first, as it is; zeros up to a multiple of 4 (the kernel skips them between archives and
                // wants an uncompressed cpio header 4-aligned); then cairn's archive, which the kernel unpacks over it
                MessageDigest md = sha256();
                try (InputStream f = new java.security.DigestInputStream(Files.newInputStream(in.file()), md)) {
                    fileSize = f.transferTo(os);
                }
                fileSha256 = HexFormat.of().formatHex(md.digest());
                os.write(new byte[initrdPadding(fileSize)]);
            }
            InitrdTree.add(in.dir(), w, false, Set.of(o.out().toAbsolutePath().normalize()));
            extra.addTo(w);
            r.putArray("modules").addAll(extra.moduleLoadOrder().stream()
                    .map(com.fasterxml.jackson.databind.node.TextNode::valueOf).toList());
            addFile(w, INITRD_ROOTHASH, Files.readAllBytes(staging.resolve(ROOTHASH)));
            addFile(w, INITRD_ROOTHASH_SIG, Files.readAllBytes(staging.resolve(ROOTHASH_SIG)));
            if (spec.ipe().enabled()) {
                addFile(w, INITRD_POLICY, Files.readAllBytes(staging.resolve(POLICY_SIG)));
            }
            r.put("entries", w.finish().entries());
        }
        if (in.file() != null) {
            ObjectNode f = r.putObject("file");
            f.put("size", fileSize);
            f.put("sha256", fileSha256);
        }
        r.put("source", in.source());
        cache.store("initramfs", key, staging, List.of(INITRAMFS), r);
        return r;
    }

    /** Zeros after a ready initramfs of {@code size} bytes, so that cairn's appended archive starts 4-aligned. */
    static int initrdPadding(long size) {
        return Math.toIntExact((4 - (size & 3)) & 3);
    }

    private static void addFile(InitrdWriter w, String path, byte[] content) throws IOException {
        String[] parts = path.split("/");
        StringBuilder dir = new StringBuilder();
        for (int i = 0; i < parts.length - 1; i++) {
            dir.append(i == 0 ? "" : "/").append(parts[i]);
            if (!w.contains(dir.toString())) {
                w.addDirectory(dir.toString(), InitrdAttributes.root(0755));
            }
        }
        w.addFile(path, InitrdAttributes.root(0644), content);
    }

    private Map<String, String> cmdlineValues(ObjectNode rootfs) {
        Map<String, String> v = new TreeMap<>();
        com.fasterxml.jackson.databind.JsonNode vn = rootfs.path("verity");
        v.put("verity.roothash", vn.path("rootHash").asText());
        v.put("verity.salt", vn.path("salt").asText());
        v.put("verity.hashoffset", vn.path("hashOffset").asText());
        v.put("verity.datablocks", vn.path("dataBlocks").asText());
        v.put("image.name", spec.image().name());
        v.put("image.version", spec.image().version());
        if (spec.outputs().disk() != null) {
            // DPS: the data partition's UUID is the root hash's first 128 bits, the hash partition's its last
            byte[] rh = HexFormat.of().parseHex(vn.path("rootHash").asText());
            v.put("disk.root.partuuid", uuid(rh, 0).toString());
            v.put("disk.verity.partuuid", uuid(rh, rh.length - 16).toString());
        }
        return v;
    }

    /** 16 bytes of {@code b} from {@code off} as a UUID in textual byte order (systemd's sd_id128_t), no version bits. */
    static UUID uuid(byte[] b, int off) {
        ByteBuffer bb = ByteBuffer.wrap(b, off, 16);
        return new UUID(bb.getLong(), bb.getLong());
    }

    private ObjectNode uki(String cmdline) throws IOException {
        BuildSpec.Kernel k = spec.kernel();
        String file = spec.image().name() + ".efi";
        KeyMaterial pcr = keys.get(KeyRole.PCR);
        // a deferred key cannot sign PcrSigningKey.of's test challenge: its certificate stands for the key (the station checks)
        PcrSigningKey pcrKey = DeferredSignatures.isDeferred(pcr)
                ? new PcrSigningKey(pcr.key(), (java.security.interfaces.RSAPublicKey) pcr.certificate().getPublicKey(), pcr.provider(),
                        pcr.description())
                : PcrSigningKey.of(pcr);
        byte[] osrel = (k.osRelease() != null ? k.osRelease().strip() + "\n" : osRelease()).getBytes(StandardCharsets.UTF_8);
        UkiBuilder.Inputs in = new UkiBuilder.Inputs(k.stub(), k.linux(), List.of(staging.resolve(INITRAMFS)),
                cmdline.getBytes(StandardCharsets.US_ASCII), osrel, null, null, null, null,
                pcrKey.pcrpkeyPem().getBytes(StandardCharsets.US_ASCII), List.of());
        StepCache.Key ck = new StepCache.Key().add("step", "uki v2").addFile("stub", k.stub()).addFile("linux", k.linux())
                .addFile("initrd", staging.resolve(INITRAMFS)).add("cmdline", cmdline).add("osrel", new String(osrel, StandardCharsets.UTF_8))
                .add("banks", String.join(",", k.pcrBanks())).add("sb", BuildKeys.fingerprint(keys.get(KeyRole.SECUREBOOT)))
                .add("pcr", BuildKeys.fingerprint(pcr)).add("file", file)
                .add("recorded", k.linuxFile() + "\n" + k.stubFile());
        // a UKI with signatures still to come is not cached: the next round's would be restored as if signed
        boolean deferred = keys.deferred() != null;
        Optional<ObjectNode> hit = deferred ? Optional.empty() : cache.restore("uki", ck, staging, List.of(file));
        if (hit.isPresent()) {
            Optional<ObjectNode> sound = sound("uki", ck, List.of(file), () -> {
                UkiBuilder.Prepared prepared = UkiBuilder.prepare(in);
                ObjectNode rebuilt = ukiResult(file, cmdline, prepared);
                UkiEntryCheck.check(staging.resolve(file), prepared, keys.get(KeyRole.SECUREBOOT), pcrKey, k.pcrBanks(),
                        predictions(staging.resolve(file), prepared.rule(), PcrPredictor.DEFAULT_PHASES));
                CachedResults.same(hit.get(), rebuilt, "uki");
                return rebuilt;
            });
            if (sound.isPresent()) {
                return sound.get();
            }
        }
        label("authenticode:" + file);
        UkiAssembly.Result r = UkiAssembly.build(new UkiAssembly.Request(in, keys.get(KeyRole.SECUREBOOT), false, pcrKey, k.pcrBanks(),
                null, true, staging.resolve(file)));
        ObjectNode n = ukiResult(file, cmdline, r.prepared());
        if (!deferred) {
            cache.store("uki", ck, staging, List.of(file), n);
        }
        return n;
    }

    /**
     * The uki step's result, from the UKI in staging and this build's own inputs: what the manifest
     * records, the same whether the UKI was just built or came from the cache.
     */
    private ObjectNode ukiResult(String file, String cmdline, UkiBuilder.Prepared prepared) throws IOException {
        BuildSpec.Kernel k = spec.kernel();
        Path uki = staging.resolve(file);
        ObjectNode n = ManifestJson.object();
        n.put("path", file);
        n.put("authenticodeSha256", HexFormat.of().formatHex(dev.cairn.uki.UkiFile.open(uki).authenticodeDigest("SHA-256")));
        n.put("cmdline", cmdline);
        n.put("stub", prepared.stub().map(s -> s.version()).orElse("unknown"));
        n.put("uname", prepared.uname());
        n.put("measurementRule", prepared.rule().label());
        ObjectNode kernel = n.putObject("kernel");
        kernel.put("file", k.linuxFile());
        kernel.put("sha256", StepCache.digest(k.linux()));
        ObjectNode stub = n.putObject("stubFile");
        stub.put("file", k.stubFile());
        stub.put("sha256", StepCache.digest(k.stub()));
        ArrayNode pcrs = n.putArray("pcr11");
        // ":" (no phase word yet: what an initramfs without systemd-pcrphase reads) first; .pcrsig signs only systemd's phases
        List<PcrPredictor.Prediction> all = new ArrayList<>(predictions(uki, prepared.rule(), List.of(SECTIONS_ONLY_PHASE)));
        all.addAll(predictions(uki, prepared.rule(), PcrPredictor.DEFAULT_PHASES));
        for (PcrPredictor.Prediction p : all) {
            ObjectNode e = pcrs.addObject();
            e.put("phase", p.phase());
            e.put("bank", p.bank().id());
            e.put("value", p.hex());
        }
        return n;
    }

    /** PCR 11 for {@code phases} (sorted, as UkiAssembly predicts them) from the sections of the UKI {@code uki} measures. */
    private List<PcrPredictor.Prediction> predictions(Path uki, dev.cairn.uki.MeasurementRule rule, List<String> phases) throws IOException {
        List<PcrPredictor.Bank> banks = spec.kernel().pcrBanks().stream().map(PcrPredictor.Bank::parse).toList();
        return PcrPredictor.predict(rule, dev.cairn.uki.UkiFile.open(uki).measuredSections(rule, banks), banks,
                phases.stream().distinct().sorted().toList());
    }

    interface Rebuild {
        ObjectNode result() throws IOException;
    }

    /**
     * A cache hit made sound: the step's result rebuilt from the restored files (which must prove
     * what the entry claims), or empty when they do not; then the entry is dropped, the restored
     * files removed, and the step is built as on a miss.
     */
    private Optional<ObjectNode> sound(String step, StepCache.Key key, List<String> files, Rebuild rebuild) throws IOException {
        try {
            return Optional.of(rebuild.result());
        } catch (IOException | RuntimeException e) {
            String from = cache.report(step).source();
            o.listener().warning("step cache: the " + step + " entry" + ("local".equals(from) ? "" : " from " + from) + " is not used ("
                    + step + " is built instead): " + (e instanceof IOException io ? PipelineException.describe(io) : e.getMessage()));
            cache.rejectHit(step, key);
            for (String f : files) {
                Files.deleteIfExists(staging.resolve(f));
            }
            return Optional.empty();
        }
    }

    private String osRelease() {
        String n = spec.image().name();
        String v = spec.image().version();
        return "NAME=\"" + n + "\"\nID=" + n + "\nVERSION_ID=" + v + "\nIMAGE_ID=" + n + "\nIMAGE_VERSION=" + v
                + "\nPRETTY_NAME=\"" + n + " " + v + "\"\n";
    }

    private ObjectNode oci(String rootHash, boolean withPolicy) throws IOException {
        BuildSpec.Outputs out = spec.outputs();
        OciLayout layout = OciLayout.openOrCreate(staging.resolve(out.ociLayout()));
        String type = switch (spec.rootfs().compression()) {
            case ZSTD -> MediaTypes.STACKER_SQUASHFS_ZSTD;
            case GZIP -> MediaTypes.STACKER_SQUASHFS_GZIP;
            default -> throw new IllegalArgumentException("rootfs.compression " + spec.compressionName()
                    + ": stacker's SquashFS layer media types exist for zstd and gzip only");
        };
        Descriptor layer;
        try (InputStream in = Files.newInputStream(staging.resolve(ROOTFS))) {
            layer = layout.putBlob(in, type, null, -1).withAnnotation(MediaTypes.ATOMFS_VERITY_ROOT_HASH, rootHash);
        }
        ImageBuilder.LayerResult image = ImageBuilder.appendLayer(layout, out.tag(), layer, layer.digest(), "cairn build "
                + spec.image().name() + " " + spec.image().version(), new ImageBuilder.ImageDefaults("linux", "amd64",
                Instant.ofEpochSecond(o.sourceDateEpoch())));
        Descriptor manifest = image.manifest();
        Descriptor ukiBlob;
        String ukiFile = spec.image().name() + ".efi";
        try (InputStream in = Files.newInputStream(staging.resolve(ukiFile))) {
            ukiBlob = layout.putBlob(in, UKI_ARTIFACT_TYPE, null, -1).withAnnotation(MediaTypes.TITLE, ukiFile);
        }
        Map<String, String> ann = new TreeMap<>();
        ann.put("org.opencontainers.image.created", java.time.format.DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(o.sourceDateEpoch())));
        Descriptor ukiArtifact = ImageBuilder.addArtifact(layout, out.tag() + "-uki", UKI_ARTIFACT_TYPE, List.of(ukiBlob), manifest, ann);
        Descriptor policyArtifact = null;
        if (withPolicy) {
            List<Descriptor> files = new ArrayList<>();
            for (String f : List.of(POLICY, POLICY_SIG)) {
                try (InputStream in = Files.newInputStream(staging.resolve(f))) {
                    files.add(layout.putBlob(in, f.endsWith(".p7s") ? "application/pkcs7-signature" : "text/plain", null, -1)
                            .withAnnotation(MediaTypes.TITLE, f));
                }
            }
            policyArtifact = ImageBuilder.addArtifact(layout, out.tag() + "-ipe-policy", POLICY_ARTIFACT_TYPE, files, manifest, ann);
        }
        KeyMaterial km = keys.get(KeyRole.OCI);
        byte[] payload = CosignSignatures.payload(out.reference(), manifest.digest());
        label("cosign");
        String sig = java.util.Base64.getEncoder().encodeToString(RawSignature.sign(payload, km));
        Descriptor sigManifest = CosignSignatures.attach(layout, manifest.digest(),
                new CosignSignatures.Signature(payload, sig, pem(km.certificate())));
        ObjectNode n = ManifestJson.object();
        n.put("layout", out.ociLayout());
        n.put("tag", out.tag());
        n.put("reference", out.reference());
        n.put("manifest", manifest.digest().toString());
        n.put("config", image.config().digest().toString());
        n.put("layer", layer.digest().toString());
        n.put("layerMediaType", type);
        n.put("ukiArtifact", ukiArtifact.digest().toString());
        if (policyArtifact != null) {
            n.put("policyArtifact", policyArtifact.digest().toString());
        }
        n.put("cosignSignature", sigManifest.digest().toString());
        return n;
    }

    private static String pem(X509Certificate c) {
        try {
            return Pem.encode("CERTIFICATE", c.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("cannot encode the signer certificate", e);
        }
    }

    // ---- manifest ----

    private ObjectNode disk(ObjectNode rootfs, ObjectNode uki, List<ObjectNode> extensions) throws IOException {
        Path ukiFile = staging.resolve(uki.path("path").asText());
        int machine = dev.cairn.uki.UkiFile.open(ukiFile).image().coff().machine();
        dev.cairn.disk.DpsType.Arch arch = switch (machine) {
            case 0x8664 -> dev.cairn.disk.DpsType.Arch.X86_64;
            case 0xAA64 -> dev.cairn.disk.DpsType.Arch.ARM64;
            default -> throw new PipelineException(PipelineException.Kind.BAD_INPUT, String.format(Locale.ROOT,
                    "outputs.disk: the UKI's machine type 0x%04x has no DPS root partition type here (x86-64 and arm64 have)", machine));
        };
        for (BuildSpec.Extension x : spec.extensions()) {
            if (x.arch().dps().isPresent() && x.arch().dps().get() != arch) {
                o.listener().warning("extension " + x.name() + " is for ARCHITECTURE=" + x.arch().value() + " but the disk boots a "
                        + arch.systemdName() + " UKI: systemd-sysext on it refuses the extension (give arch: "
                        + arch.systemdName() + " or _any)");
            }
        }
        com.fasterxml.jackson.databind.JsonNode v = rootfs.path("verity");
        return DiskImageStep.build(spec, staging, staging.resolve(ROOTFS), v.path("hashOffset").asLong(), v.path("rootHash").asText(),
                ukiFile, keys.get(KeyRole.VERITY), Files.readAllBytes(staging.resolve(ROOTHASH_SIG)), arch, o.sourceDateEpoch(),
                ExtensionStep.espFiles(extensions, staging));
    }

    /**
     * {@code tpm} in the manifest: PCR 7 as the firmware will measure it with the key store the
     * machines have (spec {@code tpm.keyStore}, else the development store when the secureboot role
     * uses development keys) and the db entry that accepts the secureboot certificate, per PCR bank;
     * and the spec's version policy (PolicyPCR on PCR 7, then PolicyNV). Null when no store is known.
     */
    /** The development keys' OVMF variable store, relative to their directory. */
    static final String DEV_KEY_STORE = "secureboot/OVMF_VARS.fd";

    private ObjectNode tpmPrediction() throws IOException {
        BuildSpec.Tpm t = spec.tpm();
        Path store = t.keyStore();
        boolean devStore = false;
        if (store == null && keys.isDevelopment(KeyRole.SECUREBOOT) && keys.dev() != null) {
            Path dev = keys.dev().dir().resolve(DEV_KEY_STORE);
            store = Files.isRegularFile(dev) ? dev : null;
            devStore = store != null;
        }
        if (store == null) {
            if (t.policy() != null) {
                throw new PipelineException(PipelineException.Kind.BAD_INPUT, spec.file() + ": tpm.policy binds PCR 7, which needs "
                        + "the machines' key store: give tpm.keyStore (an OVMF variable store with the keys enrolled)");
            }
            return null;
        }
        dev.cairn.signing.secureboot.Pcr7Prediction.Variables v = dev.cairn.pipeline.boot.Pcr7Predictor.fromVarStore(store);
        if (v.secureBoot() != 1) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, store + ": Secure Boot is not enabled in this key store (no PK)");
        }
        KeyMaterial sb = keys.get(KeyRole.SECUREBOOT);
        List<java.security.cert.X509Certificate> chain = new ArrayList<>(sb.chain());
        if (chain.isEmpty() || !chain.get(0).equals(sb.certificate())) {
            chain.add(0, sb.certificate());
        }
        dev.cairn.signing.secureboot.EfiSignatureList.Entry authority = dev.cairn.pipeline.boot.Pcr7Predictor.authorityFor(v, chain);
        List<dev.cairn.signing.secureboot.Pcr7Prediction.Event> events =
                dev.cairn.signing.secureboot.Pcr7Prediction.events(v, List.of(authority));
        ObjectNode n = ManifestJson.object();
        ObjectNode ks = n.putObject("keyStore");
        // named independently of where OUT or the development keys lie (a split build keeps them elsewhere)
        ks.put("source", devStore ? "dev" : "spec");
        if (devStore) {
            ks.put("file", DEV_KEY_STORE);
        } else {
            Path base = spec.file().toAbsolutePath().normalize().getParent();
            Path abs = store.toAbsolutePath().normalize();
            ks.put("file", base != null && abs.startsWith(base) ? base.relativize(abs).toString() : abs.getFileName().toString());
        }
        ks.put("sha256", StepCache.digest(store));
        ObjectNode a = n.putObject("pcr7Authority");
        a.put("owner", authority.owner().toString());
        a.put("sha256", HexFormat.of().formatHex(authority.dataSha256()));
        ArrayNode pcr7 = n.putArray("pcr7");
        byte[] first = null;
        for (String bank : spec.kernel().pcrBanks()) {
            byte[] value = dev.cairn.signing.secureboot.Pcr7Prediction.replay(events, dev.cairn.signing.pcr.PcrBank.of(bank));
            first = first == null ? value : first;
            ObjectNode e = pcr7.addObject();
            e.put("bank", bank);
            e.put("value", HexFormat.of().formatHex(value));
        }
        if (t.policy() != null) {
            BuildSpec.VersionPolicy vp = t.policy();
            dev.cairn.signing.pcr.PcrBank bank = dev.cairn.signing.pcr.PcrBank.of(spec.kernel().pcrBanks().get(0));
            dev.cairn.signing.tpm.TpmsNvPublic nv = new dev.cairn.signing.tpm.TpmsNvPublic(vp.nvIndex(), vp.nvAttributes(), new byte[0],
                    vp.nvSize()).written();
            dev.cairn.signing.tpm.TpmPolicy policy = dev.cairn.signing.tpm.TpmPolicy.start()
                    .pcr(List.of(new dev.cairn.signing.tpm.TpmPolicy.PcrCondition(bank, 7, first)))
                    .nv(nv, vp.version().getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, dev.cairn.signing.tpm.NvOperation.EQ);
            ObjectNode pn = n.putObject("policy");
            pn.put("kind", "pcr7+nv-version");
            pn.put("pcrBank", bank.jsonName());
            pn.put("nvIndex", String.format(java.util.Locale.ROOT, "0x%08x", vp.nvIndex()));
            pn.put("nvAttributes", String.format(java.util.Locale.ROOT, "0x%08x", nv.attributes()));
            pn.put("nvSize", vp.nvSize());
            pn.put("nvName", HexFormat.of().formatHex(nv.name()));
            pn.put("version", vp.version());
            pn.put("digest", policy.digestHex());
        }
        return n;
    }

    private ObjectNode manifest(ObjectNode rootfs, ObjectNode ipe, ObjectNode initrd, ObjectNode uki, ObjectNode oci, ObjectNode disk,
                                List<ObjectNode> extensions) throws IOException {
        ObjectNode m = ManifestJson.object();
        m.put("schemaVersion", 1);
        m.put("mediaType", ManifestJson.MEDIA_TYPE);
        ObjectNode image = m.putObject("image");
        image.put("name", spec.image().name());
        image.put("version", spec.image().version());
        ObjectNode sp = m.putObject("spec");
        sp.put("file", spec.file().getFileName().toString());
        sp.put("sha256", spec.sha256());
        m.put("sourceDateEpoch", o.sourceDateEpoch());
        ArrayNode artifacts = m.putArray("artifacts");
        Map<String, String> files = new LinkedHashMap<>();
        files.put("rootfs", ROOTFS);
        files.put("roothash", ROOTHASH);
        files.put("roothash-signature", ROOTHASH_SIG);
        if (ipe.size() > 0) {
            files.put("ipe-policy", POLICY);
            files.put("ipe-policy-signed", POLICY_SIG);
        }
        files.put("initramfs", INITRAMFS);
        files.put("uki", uki.path("path").asText());
        if (disk != null) {
            files.put("disk", disk.path("file").asText());
        }
        for (Map.Entry<String, String> e : files.entrySet()) {
            Path p = staging.resolve(e.getValue());
            ObjectNode a = artifacts.addObject();
            a.put("name", e.getKey());
            a.put("path", e.getValue());
            a.put("size", Files.size(p));
            a.put("sha256", StepCache.digest(p));
        }
        ExtensionStep.artifacts(artifacts, extensions, staging);
        m.set("squashfs", rootfs.get("squashfs"));
        BuildSpec.Rootfs rs = spec.rootfs();
        if (rs.fileContexts() != null) {
            ObjectNode se = m.putObject("selinux");
            se.put("fileContexts", rs.fileContexts().getFileName().toString());
            ArrayNode fs = se.putArray("files");
            for (Path f : dev.cairn.pipeline.selinux.FileContexts.files(rs.fileContexts())) {
                ObjectNode fo = fs.addObject();
                fo.put("name", f.getFileName().toString());
                fo.put("sha256", StepCache.digest(f));
            }
        }
        if (rootfs.has("overlay")) {
            m.set("overlay", rootfs.get("overlay"));
        }
        if (rootfs.has("clean")) {
            m.set("clean", rootfs.get("clean"));
        }
        if (rs.ima() != null) {
            ObjectNode im = m.putObject("ima");
            im.put("files", rs.ima().files().name().toLowerCase(java.util.Locale.ROOT));
            im.put("hash", rs.ima().hash().name().toLowerCase(java.util.Locale.ROOT));
            im.put("signatureVersion", 2);
            im.put("signer", "keys.ima");
        }
        ObjectNode v = rootfs.get("verity").deepCopy();
        v.put("layout", "appended");
        v.put("signature", ROOTHASH_SIG);
        m.set("verity", v);
        if (ipe.size() > 0) {
            m.set("ipe", ipe);
        }
        ObjectNode ir = m.putObject("initramfs");
        ir.setAll(initrd);
        if (spec.kernel().initramfs().dir() != null) {
            // a ready file alone is used as it is: cairn adds nothing to it
            ir.put("carries", String.join(",", ipe.size() > 0 ? List.of(INITRD_ROOTHASH, INITRD_ROOTHASH_SIG, INITRD_POLICY)
                    : List.of(INITRD_ROOTHASH, INITRD_ROOTHASH_SIG)));
        }
        m.set("uki", uki);
        ObjectNode tpm = tpmPrediction();
        if (tpm != null) {
            m.set("tpm", tpm);
        }
        m.set("oci", oci);
        if (disk != null) {
            m.set("disk", disk);
        }
        if (!extensions.isEmpty()) {
            ArrayNode xs = m.putArray("extensions");
            extensions.forEach(xs::add);
        }
        ObjectNode k = m.putObject("keys");
        for (KeyRole role : KeyRole.values()) {
            if (!keys.has(role)) {
                continue;
            }
            KeyMaterial km = keys.get(role);
            ObjectNode e = k.putObject(role.specName());
            e.put("subject", km.certificate().getSubjectX500Principal().getName());
            e.put("certificateSha256", BuildKeys.fingerprint(km));
            try {
                e.put("certificate", java.util.Base64.getEncoder().encodeToString(km.certificate().getEncoded()));
            } catch (CertificateEncodingException x) {
                throw new IllegalArgumentException("cannot encode the " + role.specName() + " certificate", x);
            }
            e.put("development", keys.isDevelopment(role));
        }
        return m;
    }

    /** The trust anchor of a key's chain: its last certificate (the CA, or the certificate itself). */
    static X509Certificate anchor(KeyMaterial km) {
        List<X509Certificate> chain = km.chain().isEmpty() ? List.of(km.certificate()) : km.chain();
        return chain.get(chain.size() - 1);
    }

    // ---- deferred signatures ----

    /** Names the signatures the next signing call makes (for the signing request). */
    private void label(String id) {
        if (keys.deferred() != null) {
            keys.deferred().label(id);
        }
    }

    /** The round a role's signatures belong to: a signature covers those of earlier rounds (docs/build-release.md). */
    static int round(KeyRole role) {
        return switch (role) {
            case VERITY, IPE, OCI -> 1;   // over the root hash, the policy, the OCI image manifest: nothing signed
            case PCR -> 2;                // .pcrsig: PCR 11 covers the initrd, which carries the root-hash and policy signatures
            case SECUREBOOT -> 3;         // Authenticode covers every section, .pcrsig too
            case MANIFEST -> 4;           // the manifest lists the digest of every artifact
            case IMA -> throw new IllegalStateException("IMA signatures are made while the root filesystem is written, never deferred");
        };
    }

    /**
     * The signatures of the earliest round still missing, or null when the set is complete. A
     * signature of a later round is over placeholders and is asked for only once its round comes.
     */
    private SigningRequest signingRequest(ObjectNode manifest, byte[] manifestBytes) throws IOException {
        DeferredSignatures d = keys.deferred();
        if (d == null || d.pending().isEmpty()) {
            return null;
        }
        int round = Integer.MAX_VALUE;
        for (DeferredSignatures.Pending p : d.pending()) {
            round = Math.min(round, round(role(p)));
        }
        if (round <= o.answeredRound()) {
            List<String> again = new ArrayList<>();
            for (DeferredSignatures.Pending p : d.pending()) {
                if (round(role(p)) == round) {
                    again.add(p.label() + " (" + p.role() + ")");
                }
            }
            throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, "the injected signatures do not cover "
                    + String.join(", ", again) + ": the build now asks to sign other bytes than the request did (the spec, an input "
                    + "or a key changed since the request was made: build with --unsigned again), or an answer is missing");
        }
        Map<String, String[]> pcrLabels = pcrLabels(manifest);
        List<SigningRequest.Entry> entries = new ArrayList<>();
        Set<String> ids = new java.util.HashSet<>();
        String ukiFile = manifest.path("uki").path("path").asText();
        for (DeferredSignatures.Pending p : d.pending()) {
            KeyRole role = role(p);
            if (round(role) != round) {
                continue;
            }
            String id;
            String kind;
            String description;
            String artifact;
            switch (role) {
                case VERITY -> {
                    if (ExtensionStep.isSignatureLabel(p.label())) {
                        String xn = ExtensionStep.nameOfLabel(p.label());
                        id = p.label();
                        kind = "cms";
                        description = "root-hash PKCS#7 (dm-verity, kernel keyring) of extension " + xn + " over its root hash "
                                + ExtensionStep.rootHashOf(manifest, xn);
                        artifact = ExtensionStep.DIR + "/" + xn + dev.cairn.pipeline.sysext.ExtensionRelease.SUFFIX;
                        break;
                    }
                    id = "roothash";
                    kind = "cms";
                    description = "root-hash PKCS#7 (dm-verity, kernel keyring) over the root hash " + manifest.path("verity").path("rootHash").asText();
                    artifact = ROOTHASH_SIG;
                }
                case IPE -> {
                    id = "ipe-policy";
                    kind = "cms";
                    description = "IPE policy PKCS#7 over the policy text (" + POLICY + ")";
                    artifact = POLICY_SIG;
                }
                case OCI -> {
                    id = "cosign";
                    kind = "cosign";
                    description = "cosign payload of " + manifest.path("oci").path("manifest").asText() + " ("
                            + manifest.path("oci").path("reference").asText() + ")";
                    artifact = manifest.path("oci").path("layout").asText();
                }
                case PCR -> {
                    String[] bp = pcrLabels.get(p.dataSha256());
                    if (bp == null) {
                        throw new IllegalStateException("a PCR policy signature over an unpredicted value");
                    }
                    id = "pcr11:" + bp[0] + ":" + bp[1];
                    kind = "pcr-policy";
                    description = "PCR 11 policy, bank " + bp[0] + ", phase " + bp[1] + " (.pcrsig of " + ukiFile + ")";
                    artifact = ukiFile;
                }
                case SECUREBOOT -> {
                    id = "authenticode:" + ukiFile;
                    kind = "authenticode";
                    description = "Authenticode of " + ukiFile + " (signed attributes; image digest sha256:"
                            + manifest.path("uki").path("authenticodeSha256").asText() + ")";
                    artifact = ukiFile;
                }
                case MANIFEST -> {
                    id = "manifest";
                    kind = "cms";
                    description = "build manifest (" + MANIFEST + ", sha256:" + SigningRequest.sha256(manifestBytes) + ")";
                    artifact = MANIFEST_SIG;
                }
                default -> throw new IllegalStateException(role.name());
            }
            if (!ids.add(id)) {
                throw new IllegalStateException("two signatures named " + id);
            }
            entries.add(new SigningRequest.Entry(id, keys.deferredAs(role).specName(), kind, description, artifact, p.algorithm(),
                    p.certificate(), p.data()));
        }
        return new SigningRequest(spec.image().name(), spec.image().version(), round, o.unsigned(), SigningRequest.sha256(manifestBytes),
                entries);
    }

    private static KeyRole role(DeferredSignatures.Pending p) {
        return KeyRole.valueOf(p.role().toUpperCase(Locale.ROOT));
    }

    /** SHA-256 of each PCR policy digest .pcrsig signs → {bank, phase}, from the predictions the manifest records. */
    private static Map<String, String[]> pcrLabels(ObjectNode manifest) {
        Map<String, String[]> m = new TreeMap<>();
        for (com.fasterxml.jackson.databind.JsonNode e : manifest.path("uki").path("pcr11")) {
            String phase = e.path("phase").asText();
            String bank = e.path("bank").asText();
            try {
                byte[] pol = dev.cairn.signing.pcr.PcrPolicy.policyPcrDigest(new dev.cairn.signing.pcr.PcrValue(
                        dev.cairn.signing.pcr.PcrBank.of(bank), phase, HexFormat.of().parseHex(e.path("value").asText())));
                m.put(SigningRequest.sha256(pol), new String[] {bank, phase});
            } catch (RuntimeException x) {
                // a bank .pcrsig does not sign
            }
        }
        return m;
    }

    // ---- publishing ----

    private void publish() throws IOException {
        Set<String> stale = previousArtifacts();
        List<Path> entries;
        try (var s = Files.list(staging)) {
            entries = s.sorted().toList();
        }
        for (Path p : entries) {
            String name = p.getFileName().toString();
            stale.remove(name);
            if (name.equals(MANIFEST) || name.equals(MANIFEST_SIG) || name.equals(SigningRequest.FILE)) {
                continue;
            }
            replace(p, o.out().resolve(name));
        }
        // the manifest and its signature last: whoever reads them finds every artifact in place
        Files.deleteIfExists(o.out().resolve(MANIFEST_SIG));
        // what the previous set listed and this one does not (an IPE policy trusting the old root hash,
        // the UKI of an old image name) goes, so no signed artifact of the old set stays beside the new one
        for (String name : stale) {
            Path p = o.out().resolve(name);
            if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(p);
            } else if (name.equals(ExtensionStep.DIR) && Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                dev.cairn.io.FileTrees.delete(p);
            }
        }
        replace(staging.resolve(MANIFEST), o.out().resolve(MANIFEST));
        if (Files.exists(staging.resolve(MANIFEST_SIG))) {
            replace(staging.resolve(MANIFEST_SIG), o.out().resolve(MANIFEST_SIG));
        }
        if (Files.exists(staging.resolve(SigningRequest.FILE))) {
            replace(staging.resolve(SigningRequest.FILE), o.out().resolve(SigningRequest.FILE));
        }
        Files.delete(staging);
    }

    /**
     * The artifact files the manifest already in OUT lists (plain file names only, never a path
     * elsewhere): candidates for removal once the new set is in place. Nothing else in OUT is
     * touched. An unreadable or foreign manifest lists nothing.
     */
    private Set<String> previousArtifacts() {
        Set<String> names = new java.util.TreeSet<>();
        Path prev = o.out().resolve(MANIFEST);
        if (!Files.isRegularFile(prev, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return names;
        }
        try {
            ObjectNode m = ManifestJson.decode(Files.readAllBytes(prev), prev);
            for (com.fasterxml.jackson.databind.JsonNode a : m.path("artifacts")) {
                String p = a.path("path").asText("");
                if (!p.isEmpty() && !p.startsWith(".") && !p.contains("/") && !p.contains("\\")
                        && !p.equals(MANIFEST) && !p.equals(MANIFEST_SIG)) {
                    names.add(p);
                } else if (p.startsWith(ExtensionStep.DIR + "/")) {
                    names.add(ExtensionStep.DIR); // the directory as a whole: a set without extensions removes it
                }
            }
        } catch (IOException | RuntimeException e) {
            // not a manifest cairn can read: remove nothing
        }
        return names;
    }

    private void replace(Path from, Path to) throws IOException {
        if (Files.isDirectory(to, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Path old = o.out().resolve(".cairn-old-" + to.getFileName());
            dev.cairn.io.FileTrees.delete(old);
            Files.move(to, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            dev.cairn.io.FileTrees.delete(old);
            return;
        }
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static MessageDigest sha256() {
        return StepCache.sha256();
    }
}
