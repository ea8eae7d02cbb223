package dev.cairn.pipeline;

import dev.cairn.oci.ImageTransfer;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import dev.cairn.signing.DeferredSignatures;

/**
 * cairn's main job as a library call: a spec to a signed, verified image set, the same steps and
 * bytes as {@code cairn build}. The output directory is locked for the build (a second build waits
 * or, without {@link BuildRequest#waitForLock()}, fails naming the holder); the set is built in
 * {@code OUT/.cairn-staging}, checked as a whole, and only then replaces what OUT held.
 *
 * <pre>{@code
 * BuildResult r = ImageSetBuilder.build(BuildRequest.builder(BuildSpec.load(Path.of("image.yaml")), Path.of("out")).build());
 * }</pre>
 *
 * With {@link BuildRequest#unsigned()} (or key roles the spec defers) the build makes no signature
 * of those roles: it writes {@code OUT/signing-request.json} ({@link SigningRequest}) and returns it
 * in {@link BuildResult#signingRequest()}; a signing station answers with {@link SigningStation},
 * and {@link BuildRequest#inject()} puts the answers in, round after round, until the set is
 * complete and verified (docs/build-release.md, two-machine workflow).
 *
 * <p>Failures are {@link PipelineException}s ({@link SpecException} for the spec, naming its line);
 * {@link IOException}s are problems reading an input or writing an output, naming the file.
 */
public final class ImageSetBuilder {
    private ImageSetBuilder() {
    }

    public static BuildResult build(BuildRequest request) throws IOException {
        Path out = request.out().toAbsolutePath().normalize();
        int threads = request.threads() == 0 ? Runtime.getRuntime().availableProcessors() : request.threads();
        // what is injected is read and parsed before anything else: a malformed answer changes nothing
        Injection injection = request.inject().isEmpty() ? null : Injection.read(out, request.inject());
        boolean unsigned = request.unsigned() || injection != null && injection.request.unsigned();
        // every key source that can fail is tried before OUT (and its lock) is made
        BuildKeys.Prepared prepared = BuildKeys.prepare(request.spec(), unsigned);
        try (RegistryStepCache remote = RegistryStepCache.of(request.cacheFrom(), request.cacheTo(), request.registries(),
                request.listener());
             OutputLock lock = OutputLock.acquire(out, request.waitForLock(), request.listener())) {
            BuildKeys keys = prepared.load(request.devKeys() != null ? request.devKeys() : out.resolve("dev-keys"), request.listener());
            byte[] answers = null;
            int answeredRound = 0;
            if (injection != null) {
                answers = injection.apply(keys);
                answeredRound = injection.request.round();
            }
            BuildPipeline.Outcome o = BuildPipeline.run(request.spec(), keys, new BuildPipeline.Options(out, request.force(), threads,
                    request.effectiveSourceDateEpoch(), request.listener(), remote, unsigned, answeredRound, answers));
            DevKeys dev = keys.dev();
            return new BuildResult(out, BuildManifest.of(o.manifest()), o.steps(), o.uki(), dev == null ? null
                    : new BuildResult.DevKeyFiles(dev.dir(), dev.caCertificate(), dev.dbCertificate()), o.request());
        }
    }

    /** Signature sets answering OUT's signing request, checked against it before the build runs again with them. */
    private static final class Injection {
        final Path out;
        final byte[] requestBytes;
        final SigningRequest request;
        final List<Path> files;
        final List<SignatureSet> sets;

        private Injection(Path out, byte[] requestBytes, SigningRequest request, List<Path> files, List<SignatureSet> sets) {
            this.out = out;
            this.requestBytes = requestBytes;
            this.request = request;
            this.files = files;
            this.sets = sets;
        }

        static Injection read(Path out, List<Path> files) throws IOException {
            Path rf = out.resolve(SigningRequest.FILE);
            if (!Files.isRegularFile(rf)) {
                throw new PipelineException(PipelineException.Kind.BAD_INPUT, rf + ": no signing request in " + out
                        + " (build with --unsigned, or with deferred keys, first)");
            }
            byte[] rb = readSmall(rf, SigningRequest.MAX_BYTES);
            SigningRequest req = SigningRequest.decode(rb, rf);
            List<SignatureSet> sets = new ArrayList<>();
            for (Path f : files) {
                sets.add(SignatureSet.decode(readSmall(f, SignatureSet.MAX_BYTES), f));
            }
            return new Injection(out, rb, req, List.copyOf(files), sets);
        }

        /**
         * Checks every answer against the request and hands it to the build's deferred keys, with the
         * answers of earlier rounds kept in OUT; returns them all, to keep for the next round.
         */
        byte[] apply(BuildKeys keys) throws IOException {
            DeferredSignatures ledger = keys.deferred();
            Path rf = out.resolve(SigningRequest.FILE);
            // under the lock now: the request and the state it names must still be OUT's
            if (!Arrays.equals(readSmall(rf, SigningRequest.MAX_BYTES), requestBytes)) {
                throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, rf + " changed while the signatures were read");
            }
            Path mf = out.resolve(BuildPipeline.MANIFEST);
            String state = Files.isRegularFile(mf) ? SigningRequest.sha256(readSmall(mf, ManifestJson.MAX_BYTES)) : "none";
            if (!state.equals(request.manifestSha256())) {
                throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, rf + " is not the request of the set in " + out
                        + ": it names manifest.json sha256:" + request.manifestSha256() + ", OUT holds sha256:" + state
                        + " (edited, or OUT changed since the request was written)");
            }
            if (ledger == null) {
                throw new PipelineException(PipelineException.Kind.BAD_INPUT, "the spec defers no key role and the request is not of an "
                        + "--unsigned build: nothing to inject into");
            }
            String requestSha256 = SigningRequest.sha256(requestBytes);
            Map<String, Path> answered = new TreeMap<>();
            List<Answer> answers = new ArrayList<>(previous());
            for (int i = 0; i < sets.size(); i++) {
                SignatureSet set = sets.get(i);
                Path f = files.get(i);
                if (!set.requestSha256().equals(requestSha256)) {
                    throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, f + " answers another signing request (sha256:"
                            + set.requestSha256() + "; " + rf + " is sha256:" + requestSha256 + "): the request was edited after the "
                            + "build, or is another build's");
                }
                for (SignatureSet.Signed s : set.signatures()) {
                    SigningRequest.Entry e = request.entry(s.id());
                    if (e == null) {
                        throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, f + ": " + s.id()
                                + ": the request asks for no such signature");
                    }
                    String what = f + ": " + e.id() + " (" + e.description() + ", " + e.artifact() + ")";
                    Path before = answered.put(e.id(), f);
                    if (before != null) {
                        throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, what + ": answered twice (also in " + before + ")");
                    }
                    if (!s.certificateSha256().equals(e.certificateSha256())) {
                        throw new PipelineException(PipelineException.Kind.SIGNING, what + ": signed by the key of certificate sha256:"
                                + s.certificateSha256() + ", the request expects sha256:" + e.certificateSha256() + " ("
                                + e.certificate().getSubjectX500Principal().getName() + ")");
                    }
                    if (!s.algorithm().equals(e.algorithm()) || !s.dataSha256().equals(e.dataSha256())) {
                        throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, what + ": a " + s.algorithm()
                                + " signature over sha256:" + s.dataSha256() + ", the request asks " + e.algorithm() + " over sha256:"
                                + e.dataSha256());
                    }
                    Answer a = new Answer(e.certificate(), e.algorithm(), e.data(), s.signature());
                    try {
                        a.provide(ledger);
                    } catch (dev.cairn.signing.SigningException x) {
                        throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, what + ": the signature does not verify "
                                + "(made over other bytes, by another key, or damaged)");
                    }
                    answers.add(a);
                }
            }
            List<String> missing = new ArrayList<>();
            for (SigningRequest.Entry e : request.signatures()) {
                if (!answered.containsKey(e.id())) {
                    missing.add(e.id() + " (" + e.description() + ", " + e.artifact() + "; role " + e.role() + ")");
                }
            }
            if (!missing.isEmpty()) {
                throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, "no signature injected for: "
                        + String.join("; ", missing));
            }
            for (Answer a : previous()) {
                try {
                    a.provide(ledger);
                } catch (dev.cairn.signing.SigningException x) {
                    throw new PipelineException(PipelineException.Kind.VERIFICATION_FAILED, out.resolve(BuildPipeline.ANSWERS)
                            + ": a signature of an earlier round does not verify (damaged: build with --unsigned again)");
                }
            }
            return Answer.encode(answers);
        }

        private List<Answer> previous() throws IOException {
            Path p = out.resolve(BuildPipeline.ANSWERS);
            return Files.isRegularFile(p) ? Answer.decode(readSmall(p, 16 * SigningRequest.MAX_BYTES), p) : List.of();
        }
    }

    /** A signature injected in an earlier round, kept in {@code OUT/.cairn-signatures.json} until the set is complete. */
    private record Answer(java.security.cert.X509Certificate certificate, String algorithm, byte[] data, byte[] signature) {
        static final String MEDIA_TYPE = "application/vnd.cairn.signature-store.v1+json";

        void provide(DeferredSignatures ledger) throws dev.cairn.signing.SigningException {
            ledger.provide(certificate, algorithm, data, signature);
        }

        static byte[] encode(List<Answer> answers) {
            com.fasterxml.jackson.databind.node.ObjectNode r = ManifestJson.object();
            r.put("mediaType", MEDIA_TYPE);
            com.fasterxml.jackson.databind.node.ArrayNode a = r.putArray("answers");
            java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
            for (Answer x : answers) {
                com.fasterxml.jackson.databind.node.ObjectNode n = a.addObject();
                try {
                    n.put("certificate", b64.encodeToString(x.certificate.getEncoded()));
                } catch (java.security.cert.CertificateEncodingException e) {
                    throw new IllegalStateException("cannot encode a certificate", e);
                }
                n.put("algorithm", x.algorithm);
                n.put("data", b64.encodeToString(x.data));
                n.put("signature", b64.encodeToString(x.signature));
            }
            return ManifestJson.encode(r);
        }

        static List<Answer> decode(byte[] bytes, Path where) throws IOException {
            com.fasterxml.jackson.databind.JsonNode root;
            try {
                root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(bytes);
            } catch (IOException e) {
                throw SigningRequest.bad(where, "not JSON (damaged: build with --unsigned again)");
            }
            if (root == null || !MEDIA_TYPE.equals(root.path("mediaType").asText())) {
                throw SigningRequest.bad(where, "not a cairn signature store");
            }
            List<Answer> out = new ArrayList<>();
            for (com.fasterxml.jackson.databind.JsonNode n : root.path("answers")) {
                java.security.cert.X509Certificate c;
                try {
                    c = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(
                            new java.io.ByteArrayInputStream(SigningRequest.base64(n, "certificate", where, "answers")));
                } catch (java.security.cert.CertificateException e) {
                    throw SigningRequest.bad(where, "answers: not a certificate");
                }
                out.add(new Answer(c, SigningRequest.text(n, "algorithm", where, "answers"), SigningRequest.base64(n, "data", where, "answers"),
                        SigningRequest.base64(n, "signature", where, "answers")));
            }
            return out;
        }
    }

    private static byte[] readSmall(Path p, int max) throws IOException {
        long size = Files.size(p);
        if (size > max) {
            throw SigningRequest.bad(p, size + " bytes; at most " + max + " expected");
        }
        return Files.readAllBytes(p);
    }

    /**
     * Pushes the set's OCI image in {@code out} with everything that refers to it (UKI and policy
     * artifacts, cosign signature) to {@code destination}; returns {@code destination@digest}.
     */
    public static String push(Path out, RegistryReference destination, RegistryClient client) throws IOException {
        return push(out, destination, client, dev.cairn.oci.TransferProgress.NONE);
    }

    /** Like {@link #push(Path, RegistryReference, RegistryClient)}, telling {@code progress} of each blob sent. */
    public static String push(Path out, RegistryReference destination, RegistryClient client, dev.cairn.oci.TransferProgress progress)
            throws IOException {
        BuildManifest m = BuildManifest.read(out);
        String layoutDir = m.json().path("oci").path("layout").asText("");
        String tag = m.json().path("oci").path("tag").asText("");
        if (layoutDir.isEmpty() || layoutDir.contains("..") || tag.isEmpty()) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, out + ": the manifest names no OCI layout to push");
        }
        OciLayout layout = OciLayout.open(out.resolve(layoutDir));
        try {
            ImageTransfer.TransferResult t = ImageTransfer.push(layout, tag, client, destination, progress);
            ImageTransfer.pushReferrers(layout, t.root().digest(), client, destination, progress);
            return destination + "@" + t.root().digest();
        } catch (RegistryException e) {
            throw new PipelineException(PipelineException.Kind.REGISTRY, "the image set in " + out + " is complete, but pushing it to "
                    + destination + " failed: " + e.getMessage(), e);
        }
    }
}
