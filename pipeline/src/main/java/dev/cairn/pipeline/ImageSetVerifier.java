package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.pipeline.uki.PeSigning;
import dev.cairn.oci.CosignSignatures;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.Digest;
import dev.cairn.oci.Manifest;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciLayout;
import dev.cairn.signing.CmsVerifier;
import dev.cairn.signing.RawSignature;
import dev.cairn.signing.ipe.IpePolicy;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.pcr.PcrPolicy;
import dev.cairn.signing.pcr.PcrPolicySignature;
import dev.cairn.signing.pcr.PcrSignatures;
import dev.cairn.signing.pcr.PcrValue;
import dev.cairn.uki.MeasurementRule;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.StubInfo;
import dev.cairn.uki.UkiFile;
import dev.cairn.verity.HashAlgorithm;
import dev.cairn.verity.VerifyResult;
import dev.cairn.verity.VerityParams;
import dev.cairn.verity.VerityVerifier;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;

/**
 * Checks a whole image set offline, link by link, as {@code cairn verify OUT --ca CERT} does:
 * the manifest's CMS signature chains to the CA; every artifact has the size and digest the
 * manifest lists; the dm-verity tree matches the SquashFS and gives the manifest's root hash; the
 * root-hash signature, the IPE policy signature and the UKI's Authenticode signature are by the
 * certificates the manifest pins (and chain to {@code --db-cert} when given); the UKI command line
 * carries exactly that root hash; the policy trusts exactly that root hash; the initramfs inside
 * the UKI carries exactly the signed policy and root-hash signature; PCR 11 recomputed from the
 * UKI's sections equals the manifest and is what {@code .pcrsig} signs; the OCI layout holds the
 * same layer, UKI and policy, with a valid cosign signature. Every link is reported; the first
 * failure names the broken one.
 */
public final class ImageSetVerifier {
    private static final Pattern ROOT_HASH_PARAM = Pattern.compile("(?i)(?:^|\\s)([A-Za-z0-9_.-]*root_?hash)=([0-9a-fA-F]+)");
    private static final int MAX_SMALL_FILE = 4 * 1024 * 1024;
    /** The fixed names {@code cairn build} writes artifacts under. */
    private static final List<String> ARTIFACT_NAMES = List.of(BuildPipeline.ROOTFS, BuildPipeline.ROOTHASH, "disk.raw", "disk.vhd",
            BuildPipeline.ROOTHASH_SIG, BuildPipeline.POLICY, BuildPipeline.POLICY_SIG, BuildPipeline.INITRAMFS);

    /** One checked link: its name, whether it holds, and what was found. */
    public record Check(String link, boolean ok, String detail) {
    }

    public record Report(List<Check> checks, ObjectNode manifest) {
        public boolean ok() {
            return checks.stream().allMatch(Check::ok) && !checks.isEmpty();
        }

        public String firstFailure() {
            return checks.stream().filter(c -> !c.ok()).findFirst().map(c -> c.link() + ": " + c.detail()).orElse(null);
        }
    }

    private final Path dir;
    private final List<Check> checks = new ArrayList<>();
    private ObjectNode m;

    private ImageSetVerifier(Path dir) {
        this.dir = dir;
    }

    /**
     * @param dir    the build output directory (holding manifest.json and manifest.json.p7s)
     * @param ca     the certificate the manifest signer must chain to
     * @param dbCert the Secure Boot db certificate the UKI, root hash and policy must chain to, or null
     */
    public static Report verify(Path dir, X509Certificate ca, X509Certificate dbCert, Instant now) throws IOException {
        ImageSetVerifier v = new ImageSetVerifier(dir);
        v.run(ca, dbCert, now);
        return new Report(List.copyOf(v.checks), v.m);
    }

    private interface Link {
        String check() throws Exception;
    }

    /** Runs one link; a thrown exception or a returned failure marks it broken. */
    private boolean link(String name, Link l) {
        try {
            checks.add(new Check(name, true, l.check()));
            return true;
        } catch (Failure f) {
            checks.add(new Check(name, false, f.getMessage()));
        } catch (Exception e) {
            String msg = e instanceof IOException io ? PipelineException.describe(io) : e.getMessage();
            checks.add(new Check(name, false, msg == null ? e.getClass().getSimpleName() : msg));
        }
        return false;
    }

    private static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;

        Failure(String m) {
            super(m);
        }
    }

    private static void require(boolean condition, String message) throws Failure {
        if (!condition) {
            throw new Failure(message);
        }
    }

    private void run(X509Certificate ca, X509Certificate dbCert, Instant now) throws IOException {
        Path manifestFile = dir.resolve(BuildPipeline.MANIFEST);
        byte[][] bytes = new byte[1][];
        boolean signed = link("manifest signature", () -> {
            bytes[0] = readSmall(manifestFile);
            if (!java.nio.file.Files.exists(dir.resolve(BuildPipeline.MANIFEST_SIG))
                    && java.nio.file.Files.isRegularFile(dir.resolve(SigningRequest.FILE))) {
                throw new Failure("the set is not signed yet: " + dir.resolve(SigningRequest.FILE)
                        + " lists the signatures still to make (cairn sign request, then cairn build --inject)");
            }
            byte[] sig = readSmall(dir.resolve(BuildPipeline.MANIFEST_SIG));
            X509Certificate signer = CmsVerifier.verify(sig, bytes[0], List.of(ca), List.of(), now).signer();
            return "signed by " + signer.getSubjectX500Principal().getName() + ", trusted by " + ca.getSubjectX500Principal().getName();
        });
        if (!signed) {
            return; // nothing below can be trusted without it
        }
        if (!link("manifest content", () -> {
            m = ManifestJson.decode(bytes[0], manifestFile);
            return m.path("image").path("name").asText() + " " + m.path("image").path("version").asText();
        })) {
            return;
        }
        link("manifest signer pinned", () -> {
            X509Certificate signer = CmsVerifier.signerCertificate(readSmall(dir.resolve(BuildPipeline.MANIFEST_SIG)));
            requirePinned("manifest", signer);
            return "keys.manifest matches the signer";
        });
        Map<String, Path> artifacts = new HashMap<>();
        for (JsonNode a : m.path("artifacts")) {
            String name = a.path("name").asText();
            Path p = safe(a.path("path").asText());
            artifacts.put(name, p);
            link("artifact " + name, () -> {
                require(p != null && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS), a.path("path").asText() + " is missing");
                long size = Files.size(p);
                require(size == a.path("size").asLong(), a.path("path").asText() + " has " + size + " bytes, the manifest says "
                        + a.path("size").asLong());
                String d = StepCache.digest(p);
                require(d.equals(a.path("sha256").asText()), a.path("path").asText() + " has sha256 " + d + ", the manifest says "
                        + a.path("sha256").asText());
                return "sha256 " + d;
            });
        }
        link("no unlisted artifacts", () -> {
            // a file under an artifact name the manifest does not list is left over from another set
            // (an IPE policy trusting an old root hash): nothing may pick it up as part of this one
            Set<String> listed = new HashSet<>();
            for (JsonNode a : m.path("artifacts")) {
                listed.add(a.path("path").asText());
            }
            List<String> unlisted = new ArrayList<>();
            for (String name : ARTIFACT_NAMES) {
                if (!listed.contains(name) && Files.exists(dir.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
                    unlisted.add(name);
                }
            }
            // every file in OUT/extensions is listed: systemd would pick up a stray NAME.raw (or apply a stray sidecar)
            Path xdir = dir.resolve(ExtensionStep.DIR);
            if (Files.isDirectory(xdir, LinkOption.NOFOLLOW_LINKS)) {
                try (var s = Files.list(xdir)) {
                    for (Path f : s.sorted().toList()) {
                        String rel = ExtensionStep.DIR + "/" + f.getFileName();
                        if (!listed.contains(rel)) {
                            unlisted.add(rel);
                        }
                    }
                }
            }
            require(unlisted.isEmpty(), String.join(", ", unlisted) + " not listed in the manifest (left over from another build?)");
            return "none";
        });
        JsonNode vm = m.path("verity");
        String rootHash = vm.path("rootHash").asText();
        link("dm-verity tree", () -> {
            Path img = need(artifacts, "rootfs");
            VerityParams p = VerityParams.defaults(HexFormat.of().parseHex(vm.path("salt").asText()), UUID.fromString(vm.path("uuid").asText()))
                    .withHash(hashAlgorithm(vm.path("algorithm").asText()))
                    .withBlockSizes(vm.path("dataBlockSize").asInt(), vm.path("hashBlockSize").asInt())
                    .withHashOffset(vm.path("hashOffset").asLong()).withDataBlocks(vm.path("dataBlocks").asLong());
            VerifyResult r = VerityVerifier.verify(img, img, p, HexFormat.of().parseHex(rootHash), Math.max(1,
                    Math.min(4, Runtime.getRuntime().availableProcessors())), dev.cairn.verity.VerityProgress.NONE);
            if (r instanceof VerifyResult.Corrupted c) {
                throw new Failure("the SquashFS or its hash tree is corrupted: " + c.describe());
            }
            require(vm.path("hashOffset").asLong() == m.path("squashfs").path("size").asLong(),
                    "the hash tree does not start right after the SquashFS");
            return "root hash " + rootHash + " over " + vm.path("dataBlocks").asLong() + " blocks";
        });
        link("root hash file", () -> {
            String text = new String(readSmall(need(artifacts, "roothash")), StandardCharsets.US_ASCII).strip();
            require(text.equals(rootHash), "rootfs.roothash holds " + text + ", the tree's root hash is " + rootHash);
            return rootHash;
        });
        link("root-hash signature", () -> {
            X509Certificate s = verifyCms("verity", readSmall(need(artifacts, "roothash-signature")),
                    rootHash.getBytes(StandardCharsets.US_ASCII), dbCert, now);
            return "signed by " + s.getSubjectX500Principal().getName();
        });
        boolean hasIpe = m.has("ipe");
        if (hasIpe) {
            link("IPE policy", () -> {
                byte[] text = readSmall(need(artifacts, "ipe-policy"));
                IpePolicy p = IpePolicy.parse(text);
                Set<String> trusted = new HashSet<>();
                for (IpePolicy.Rule r : p.rules()) {
                    for (IpePolicy.Property prop : r.properties()) {
                        if (prop.key().equals("dmverity_roothash") && r.action() == IpePolicy.Action.ALLOW) {
                            trusted.add(prop.value().toLowerCase(Locale.ROOT));
                        }
                    }
                }
                Set<String> expected = new HashSet<>();
                expected.add("sha256:" + rootHash);
                for (JsonNode x : m.path("extensions")) {
                    expected.add("sha256:" + x.path("rootHash").asText().toLowerCase(Locale.ROOT));
                }
                require(trusted.equals(expected), "the policy trusts " + (trusted.isEmpty() ? "no root hash"
                        : String.join(", ", new java.util.TreeSet<>(trusted))) + ", not exactly the image's sha256:" + rootHash
                        + (expected.size() > 1 ? " and its extensions' " + (expected.size() - 1) + " root hashes" : ""));
                return p.name() + " " + p.version() + " trusts sha256:" + rootHash
                        + (expected.size() > 1 ? " and " + (expected.size() - 1) + " extension root hash(es)" : "");
            });
            link("IPE policy signature", () -> {
                byte[] text = readSmall(need(artifacts, "ipe-policy"));
                byte[] signedPolicy = readSmall(need(artifacts, "ipe-policy-signed"));
                byte[] content = CmsVerifier.verify(signedPolicy, null, List.of(CmsVerifier.signerCertificate(signedPolicy)), List.of(), now).content();
                require(java.util.Arrays.equals(content, text), "the signed policy's content differs from ipe-policy.txt");
                X509Certificate s = verifyCms("ipe", signedPolicy, null, dbCert, now);
                return "signed by " + s.getSubjectX500Principal().getName();
            });
        }
        JsonNode um = m.path("uki");
        UkiFile[] uki = new UkiFile[1];
        link("UKI signature", () -> {
            uki[0] = UkiFile.open(need(artifacts, "uki"));
            String digest = HexFormat.of().formatHex(uki[0].authenticodeDigest("SHA-256"));
            require(digest.equals(um.path("authenticodeSha256").asText()), "the UKI's Authenticode digest " + digest
                    + " differs from the manifest's");
            var v = PeSigning.verify(uki[0], List.of(dbCert != null ? dbCert : pinnedCertificate("secureboot")));
            requirePinned("secureboot", v.signer());
            return "signed by " + v.signer().getSubjectX500Principal().getName();
        });
        link("UKI command line", () -> {
            UkiFile u = uki[0] != null ? uki[0] : UkiFile.open(need(artifacts, "uki"));
            String cmdline = new String(u.sectionBytes(".cmdline").orElseThrow(() -> new Failure("the UKI has no .cmdline")),
                    StandardCharsets.US_ASCII).replace("\0", "").strip();
            Matcher mm = ROOT_HASH_PARAM.matcher(cmdline);
            int found = 0;
            while (mm.find()) {
                found++;
                require(mm.group(2).equalsIgnoreCase(rootHash), mm.group(1) + "=" + mm.group(2) + " on the command line is not the "
                        + "image's root hash " + rootHash);
            }
            require(found > 0, "the command line carries no root hash (…roothash=HEX)");
            require(cmdline.equals(um.path("cmdline").asText()), "the UKI's .cmdline differs from the manifest's");
            return "root hash " + rootHash;
        });
        link("UKI initramfs", () -> {
            UkiFile u = uki[0] != null ? uki[0] : UkiFile.open(need(artifacts, "uki"));
            byte[] initrd = readSmall(need(artifacts, "initramfs"), 512L * 1024 * 1024);
            byte[] section = u.section(".initrd").orElseThrow(() -> new Failure("the UKI has no .initrd")).toBytes(512 * 1024 * 1024);
            require(section.length >= initrd.length && java.util.Arrays.equals(section, 0, initrd.length, initrd, 0, initrd.length),
                    "the UKI's .initrd is not the initramfs artifact");
            String source = m.path("initramfs").path("source").asText();
            if (source.equals("file")) {
                return "initramfs from a file";
            }
            int offset = 0;
            if (source.equals("file+dir")) {
                // the ready file, zeros to a multiple of 4, then cairn's archive with what it carries
                JsonNode f = m.path("initramfs").path("file");
                long size = f.path("size").asLong(-1);
                require(f.path("size").isIntegralNumber() && size >= 0 && size <= initrd.length, "initramfs.file.size is not "
                        + "the length of a ready initramfs inside the artifact");
                offset = Math.toIntExact(size + BuildPipeline.initrdPadding(size));
                require(offset <= initrd.length, "the initramfs artifact ends inside the ready file's padding");
                java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
                md.update(initrd, 0, Math.toIntExact(size));
                require(HexFormat.of().formatHex(md.digest()).equals(f.path("sha256").asText()),
                        "the initramfs artifact does not start with the ready file the manifest names (initramfs.file.sha256)");
                for (int k = Math.toIntExact(size); k < offset; k++) {
                    require(initrd[k] == 0, "the padding after the ready initramfs is not zeros");
                }
            } else {
                require(source.equals("dir"), "initramfs.source is '" + source + "', not dir, file or file+dir");
            }
            Map<String, byte[]> carried = cpioEntries(java.util.Arrays.copyOfRange(initrd, offset, initrd.length),
                    Set.of(BuildPipeline.INITRD_ROOTHASH_SIG, BuildPipeline.INITRD_POLICY));
            require(java.util.Arrays.equals(carried.get(BuildPipeline.INITRD_ROOTHASH_SIG), readSmall(need(artifacts, "roothash-signature"))),
                    "the initramfs's " + BuildPipeline.INITRD_ROOTHASH_SIG + " is not this build's root-hash signature");
            if (hasIpe) {
                require(java.util.Arrays.equals(carried.get(BuildPipeline.INITRD_POLICY), readSmall(need(artifacts, "ipe-policy-signed"))),
                        "the initramfs's " + BuildPipeline.INITRD_POLICY + " is not this build's signed IPE policy");
            }
            return (source.equals("file+dir") ? "ready file + packed directory, " : "") + "carries the signed policy and root-hash signature";
        });
        link("PCR 11 prediction", () -> {
            UkiFile u = uki[0] != null ? uki[0] : UkiFile.open(need(artifacts, "uki"));
            MeasurementRule rule = u.stub().map(StubInfo::rule).orElse(MeasurementRule.SYSTEMD_257);
            Map<String, List<JsonNode>> byBank = new java.util.TreeMap<>();
            for (JsonNode p : um.path("pcr11")) {
                byBank.computeIfAbsent(p.path("bank").asText(), k -> new ArrayList<>()).add(p);
            }
            require(!byBank.isEmpty(), "the manifest has no PCR 11 prediction");
            List<PcrPredictor.Bank> banks = byBank.keySet().stream().map(PcrPredictor.Bank::parse).toList();
            List<String> phases = new ArrayList<>();
            for (JsonNode p : byBank.values().iterator().next()) {
                phases.add(p.path("phase").asText());
            }
            List<PcrPredictor.Prediction> now11 = PcrPredictor.predict(rule, u.measuredSections(rule, banks), banks,
                    phases.stream().distinct().sorted().toList());
            Set<String> expected = new HashSet<>();
            for (JsonNode p : um.path("pcr11")) {
                expected.add(p.path("bank").asText() + "/" + p.path("phase").asText() + "/" + p.path("value").asText());
            }
            Set<String> actual = new HashSet<>();
            for (PcrPredictor.Prediction p : now11) {
                actual.add(p.bank().id() + "/" + p.phase() + "/" + p.hex());
            }
            require(actual.equals(expected), "PCR 11 computed from the UKI's sections differs from the manifest's prediction");
            String sigJson = new String(u.sectionBytes(".pcrsig").orElseThrow(() -> new Failure("the UKI has no .pcrsig")),
                    StandardCharsets.US_ASCII).replace("\0", "").strip();
            PcrSignatures sigs = PcrSignatures.parse(sigJson);
            RSAPublicKey key = rsaPublicKey(new String(u.sectionBytes(".pcrpkey").orElseThrow(() -> new Failure("the UKI has no .pcrpkey")),
                    StandardCharsets.US_ASCII));
            require(sigs.verifiesWith(key), ".pcrsig does not verify with .pcrpkey");
            for (PcrSignatures.Bank b : sigs.banks()) {
                Set<String> signedPolicies = new HashSet<>();
                for (PcrPolicySignature e : b.entries()) {
                    signedPolicies.add(e.policyHex());
                }
                Set<String> predicted = new HashSet<>();
                for (PcrPredictor.Prediction p : now11) {
                    if (p.bank().id().equals(b.bank().jsonName()) && !p.phase().equals(BuildPipeline.SECTIONS_ONLY_PHASE)) {
                        predicted.add(HexFormat.of().formatHex(PcrPolicy.policyPcrDigest(new PcrValue(PcrBank.of(p.bank().id()), p.phase(),
                                p.value()))));
                    }
                }
                require(signedPolicies.equals(predicted), ".pcrsig (" + b.bank().jsonName() + ") signs other PCR 11 values than predicted");
            }
            return now11.size() + " values in " + banks.size() + (banks.size() == 1 ? " bank" : " banks") + ", .pcrsig signs them";
        });
        JsonNode om = m.path("oci");
        link("OCI image", () -> {
            OciLayout layout = OciLayout.open(safe(om.path("layout").asText()));
            Descriptor d = layout.resolve(om.path("tag").asText());
            require(d.digest().toString().equals(om.path("manifest").asText()), "tag " + om.path("tag").asText() + " points at "
                    + d.digest() + ", the manifest says " + om.path("manifest").asText());
            Manifest img = layout.readManifest(d).manifest();
            require(img.layers().size() == 1, "the image has " + img.layers().size() + " layers, not 1");
            Descriptor layer = img.layers().get(0);
            String rootfsSha = artifactSha(m, "rootfs");
            require(layer.digest().toString().equals("sha256:" + rootfsSha), "the OCI layer is not the rootfs artifact");
            require(rootHash.equals(layer.annotations().get(MediaTypes.ATOMFS_VERITY_ROOT_HASH)),
                    "the layer's " + MediaTypes.ATOMFS_VERITY_ROOT_HASH + " annotation is not the root hash");
            require(layout.hasBlob(layer.digest()) && StepCache.digest(layout.blobPath(layer.digest())).equals(rootfsSha),
                    "the layer blob is damaged");
            Manifest ukiArt = layout.readManifest(layout.resolve(om.path("ukiArtifact").asText())).manifest();
            require(ukiArt.subject() != null && ukiArt.subject().digest().equals(d.digest()), "the UKI artifact does not refer to the image");
            require(ukiArt.layers().size() == 1 && ukiArt.layers().get(0).digest().toString().equals("sha256:" + artifactSha(m, "uki")),
                    "the UKI artifact does not hold this UKI");
            if (om.has("policyArtifact")) {
                Manifest pol = layout.readManifest(layout.resolve(om.path("policyArtifact").asText())).manifest();
                require(pol.subject() != null && pol.subject().digest().equals(d.digest()), "the policy artifact does not refer to the image");
                Set<String> held = new HashSet<>();
                pol.layers().forEach(x -> held.add(x.digest().toString()));
                require(held.equals(Set.of("sha256:" + artifactSha(m, "ipe-policy"), "sha256:" + artifactSha(m, "ipe-policy-signed"))),
                        "the policy artifact does not hold this policy and its signature");
            }
            return "manifest " + d.digest() + ": layer, UKI and policy in place";
        });
        link("OCI cosign signature", () -> {
            OciLayout layout = OciLayout.open(safe(om.path("layout").asText()));
            Digest d = Digest.parse("oci.manifest", om.path("manifest").asText());
            List<CosignSignatures.Signature> sigs = CosignSignatures.read(layout, d);
            require(!sigs.isEmpty(), "no cosign signature for " + d);
            for (CosignSignatures.Signature s : sigs) {
                require(CosignSignatures.signedDigest(s.payload()).equals(d), "the cosign payload names another image");
                require(s.certificatePem() != null, "the cosign signature carries no certificate");
                X509Certificate c = certificate(s.certificatePem().getBytes(StandardCharsets.US_ASCII));
                requirePinned("oci", c);
                require(RawSignature.verify(s.payload(), Base64.getDecoder().decode(s.base64Signature()), c.getPublicKey()),
                        "the cosign signature does not verify");
            }
            return sigs.size() + (sigs.size() == 1 ? " signature" : " signatures") + " by keys.oci";
        });
        for (JsonNode x : m.path("extensions")) {
            String xname = x.path("name").asText();
            link("extension " + xname, () -> extension(x, artifacts, dbCert, now));
        }
        if (m.has("disk")) {
            link("disk image", () -> {
                JsonNode dm = m.path("disk");
                Path disk = need(artifacts, "disk");
                // a disk that is not the one the manifest lists is not read any further (it may be anything)
                String diskLink = "artifact disk";
                require(checks.stream().anyMatch(c -> c.link().equals(diskLink) && c.ok()),
                        "not inspected: the disk's digest does not match the manifest");
                dev.cairn.pipeline.disk.DiskInspector.Report r = inspectDdi(disk, dbCert, now);
                require(rootHash.equalsIgnoreCase(r.rootHash()), "the disk's root partitions hold root hash " + r.rootHash() + ", the set's is " + rootHash);
                // exactly the partitions the manifest lists, where it says
                List<String> listed = new ArrayList<>();
                for (JsonNode p : dm.path("partitions")) {
                    listed.add(p.path("number").asInt() + " " + p.path("type").asText() + " " + p.path("uuid").asText() + " "
                            + p.path("label").asText() + " " + p.path("attributes").asText() + " " + p.path("offset").asLong() + " "
                            + p.path("size").asLong());
                }
                List<String> found = new ArrayList<>();
                for (dev.cairn.pipeline.disk.DiskInspector.Partition p : r.partitions()) {
                    found.add(p.number() + " " + p.type() + " " + p.uuid() + " " + p.label() + " "
                            + String.format(java.util.Locale.ROOT, "0x%016x", p.attributes()) + " " + p.offset() + " " + p.size());
                }
                require(found.equals(listed), "the disk's partitions " + found + " are not the manifest's " + listed);
                String ukiSha = artifactSha(m, "uki");
                for (JsonNode f : dm.path("esp").path("files")) {
                    String want = f.asText();
                    require(r.espFiles().stream().anyMatch(e -> e.path().equalsIgnoreCase(want) && e.sha256().equals(ukiSha)),
                            "the ESP's " + want + " is not the set's UKI");
                }
                require(java.util.Arrays.equals(r.signature(), readSmall(need(artifacts, "roothash-signature"))),
                        "the signature partition does not carry the set's root-hash signature");
                // the extension images on the ESP (systemd-stub's add-on directory): each the set's extension, nothing else there
                Set<String> accounted = new HashSet<>();
                for (JsonNode f : dm.path("esp").path("files")) {
                    accounted.add(f.asText().toUpperCase(Locale.ROOT));
                }
                for (JsonNode f : dm.path("esp").path("extensions")) {
                    String want = f.path("path").asText();
                    String sha = artifactSha(m, ExtensionStep.ARTIFACT + f.path("extension").asText());
                    require(r.espFiles().stream().anyMatch(e -> e.path().equalsIgnoreCase(want) && e.sha256().equals(sha)),
                            "the ESP's " + want + " is not the set's extension " + f.path("extension").asText());
                    accounted.add(want.toUpperCase(Locale.ROOT));
                }
                require(dm.path("esp").path("extensions").size() == m.path("extensions").size(),
                        "the ESP holds " + dm.path("esp").path("extensions").size() + " extension(s), the set has " + m.path("extensions").size());
                List<String> extra = r.espFiles().stream().map(e -> e.path()).filter(pth -> !accounted.contains(pth.toUpperCase(Locale.ROOT)))
                        .toList();
                require(extra.isEmpty(), "the ESP holds files the manifest does not list: " + String.join(", ", extra));
                return r.partitions().size() + " partitions; root hash recomputed from them; ESP holds the UKI; signature partition verifies";
            });
        }
    }

    /**
     * An extension of the set: its image is the listed artifact; a DDI is inspected as a disk (tree
     * recomputed from its partitions, signature partition verified against the verity certificate)
     * and must hold the root hash the manifest records; a naked SquashFS's root-hash file must say
     * that hash and its {@code .roothash.p7s} must verify over it.
     */
    private String extension(JsonNode x, Map<String, Path> artifacts, X509Certificate dbCert, Instant now) throws Exception {
        String name = x.path("name").asText();
        String artifact = ExtensionStep.ARTIFACT + name;
        require(checks.stream().anyMatch(c -> c.link().equals("artifact " + artifact) && c.ok()),
                "not inspected: the image's digest does not match the manifest");
        Path img = need(artifacts, artifact);
        String rh = x.path("rootHash").asText();
        if ("ddi".equals(x.path("format").asText())) {
            dev.cairn.pipeline.disk.DiskInspector.Report r = inspectDdi(img, dbCert, now);
            require(rh.equalsIgnoreCase(r.rootHash()), "its partitions hold root hash " + r.rootHash() + ", the manifest says " + rh);
            require(r.signature() != null, "it has no root-hash signature");
            X509Certificate s = verifyCms("verity", r.signature(), rh.getBytes(StandardCharsets.US_ASCII), dbCert, now);
            return "DDI, root hash " + rh + " recomputed, signed by " + s.getSubjectX500Principal().getName();
        }
        String text = new String(readSmall(need(artifacts, artifact + ":roothash")), StandardCharsets.US_ASCII).strip();
        require(text.equals(rh), name + ".roothash holds " + text + ", the manifest says " + rh);
        X509Certificate s = verifyCms("verity", readSmall(need(artifacts, artifact + ":roothash.p7s")),
                rh.getBytes(StandardCharsets.US_ASCII), dbCert, now);
        return "SquashFS, root hash " + rh + ", signed by " + s.getSubjectX500Principal().getName();
    }

    // ---- helpers ----

    private Path need(Map<String, Path> artifacts, String name) throws Failure {
        Path p = artifacts.get(name);
        require(p != null, "the manifest lists no " + name + " artifact");
        return p;
    }

    private static String artifactSha(ObjectNode m, String name) throws Failure {
        for (JsonNode a : m.path("artifacts")) {
            if (a.path("name").asText().equals(name)) {
                return a.path("sha256").asText();
            }
        }
        throw new Failure("the manifest lists no " + name + " artifact");
    }

    /** A manifest path inside the output directory; null for anything that would leave it. */
    private Path safe(String rel) {
        if (rel.isEmpty() || rel.startsWith("/") || rel.contains("\\") || rel.contains("\0")) {
            return null;
        }
        Path p = dir.resolve(rel).normalize();
        return p.startsWith(dir.normalize()) ? p : null;
    }

    private void requirePinned(String role, X509Certificate c) throws Exception {
        String pinned = m.path("keys").path(role).path("certificateSha256").asText();
        String actual = dev.cairn.signing.CmsSigner.fingerprint(c);
        require(pinned.equals(actual), "signed by " + c.getSubjectX500Principal().getName() + ", not by the keys." + role
                + " certificate the manifest pins");
    }

    /**
     * A DDI (the set's disk or an extension) read by {@link dev.cairn.pipeline.disk.DiskInspector} against the
     * verity certificate (the db certificate given, else the manifest's pinned one); every check it makes must hold.
     */
    private dev.cairn.pipeline.disk.DiskInspector.Report inspectDdi(Path image, X509Certificate dbCert, Instant now) throws Exception {
        X509Certificate verityCert = dbCert != null ? dbCert : pinnedCertificate("verity");
        dev.cairn.pipeline.disk.DiskInspector.Report r = dev.cairn.pipeline.disk.DiskInspector.inspect(image, List.of(verityCert), now,
                Runtime.getRuntime().availableProcessors());
        for (dev.cairn.pipeline.disk.DiskInspector.Check c : r.checks()) {
            require(c.ok(), c.what() + ": " + c.detail());
        }
        return r;
    }

    /** The certificate the (signed) manifest records for a role. */
    private X509Certificate pinnedCertificate(String role) throws Exception {
        String b64 = m.path("keys").path(role).path("certificate").asText();
        require(!b64.isEmpty(), "the manifest records no keys." + role + " certificate");
        X509Certificate c = certificate(Base64.getDecoder().decode(b64));
        requirePinned(role, c);
        return c;
    }

    private static X509Certificate certificate(byte[] derOrPem) throws java.security.cert.CertificateException {
        return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(derOrPem));
    }

    private static HashAlgorithm hashAlgorithm(String name) throws Failure {
        for (HashAlgorithm h : HashAlgorithm.values()) {
            if (h.veritysetupName().equals(name)) {
                return h;
            }
        }
        throw new Failure("unknown dm-verity hash " + name);
    }

    private X509Certificate verifyCms(String role, byte[] cms, byte[] detached, X509Certificate dbCert, Instant now) throws Exception {
        X509Certificate signer = CmsVerifier.signerCertificate(cms);
        requirePinned(role, signer);
        CmsVerifier.verify(cms, detached, List.of(dbCert != null ? dbCert : pinnedCertificate(role)), List.of(), now);
        return signer;
    }

    private static byte[] readSmall(Path p) throws IOException {
        return readSmall(p, MAX_SMALL_FILE);
    }

    private static byte[] readSmall(Path p, long max) throws IOException {
        if (Files.size(p) > max) {
            throw new dev.cairn.io.FormatException("size", Files.size(p), p + " is larger than " + max + " bytes");
        }
        return Files.readAllBytes(p);
    }

    private static RSAPublicKey rsaPublicKey(String pem) throws Exception {
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(b64)));
    }

    /** The named entries of a (zstd-, gzip- or un-)compressed newc archive; each at most 1 MiB. */
    private static Map<String, byte[]> cpioEntries(byte[] archive, Set<String> names) throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        try (InputStream raw = decompress(archive); CpioArchiveInputStream cpio = new CpioArchiveInputStream(raw)) {
            for (CpioArchiveEntry e; (e = cpio.getNextEntry()) != null; ) {
                String n = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                if (names.contains(n)) {
                    if (e.getSize() > 1 << 20) {
                        throw new dev.cairn.io.FormatException("initramfs", n, "entry larger than 1 MiB");
                    }
                    out.put(n, cpio.readNBytes((int) e.getSize()));
                }
            }
        }
        return out;
    }

    private static InputStream decompress(byte[] b) throws IOException {
        InputStream in = new java.io.ByteArrayInputStream(b);
        if (b.length >= 4 && (b[0] & 0xff) == 0x28 && (b[1] & 0xff) == 0xb5 && (b[2] & 0xff) == 0x2f && (b[3] & 0xff) == 0xfd) {
            return new org.apache.commons.compress.compressors.zstandard.ZstdCompressorInputStream(in);
        }
        if (b.length >= 2 && (b[0] & 0xff) == 0x1f && (b[1] & 0xff) == 0x8b) {
            return new java.util.zip.GZIPInputStream(in);
        }
        return in;
    }
}
