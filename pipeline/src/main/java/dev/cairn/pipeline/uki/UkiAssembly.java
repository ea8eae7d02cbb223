package dev.cairn.pipeline.uki;

import dev.cairn.io.AtomicOutput;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.pcr.PcrPolicySigner;
import dev.cairn.signing.pcr.PcrSigningKey;
import dev.cairn.signing.pcr.PcrValue;
import dev.cairn.uki.MeasurementRule;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.SectionData;
import dev.cairn.uki.UkiBuilder;
import dev.cairn.uki.UkiLayout;
import dev.cairn.uki.UkiWriter;
import dev.cairn.uki.pe.ImageSigner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds, signs and writes one UKI: the work behind {@code cairn uki build}, shared with
 * {@code cairn build}. Sections are planned by {@link UkiBuilder}/{@link UkiLayout}; PCR 11 is
 * predicted from the planned sections and, with a PCR key, signed into {@code .pcrsig}; the
 * image is written once to a temp file, its Authenticode signature checked, then renamed.
 */
public final class UkiAssembly {
    private UkiAssembly() {
    }

    /**
     * @param signer     Secure Boot key (null: unsigned)
     * @param signKernel sign the embedded kernel with {@code signer} first
     * @param pcrKey     PCR policy key (null: no .pcrsig)
     * @param predict    compute the PCR 11 prediction even without a PCR key
     */
    public record Request(UkiBuilder.Inputs inputs, KeyMaterial signer, boolean signKernel, PcrSigningKey pcrKey, List<String> banks,
                          List<String> phases, boolean predict, Path output, byte[] profile, List<Path> joinProfiles) {
        public Request {
            banks = List.copyOf(banks);
            phases = phases == null || phases.isEmpty() ? PcrPredictor.DEFAULT_PHASES : List.copyOf(phases);
            joinProfiles = List.copyOf(joinProfiles);
            if (profile != null && joinProfiles.isEmpty()) {
                throw new IllegalArgumentException("a UKI's --profile is the base profile of a multi-profile UKI: give --join-profile "
                        + "too (a profile PE to join is built without --linux)");
            }
        }

        /** A single-profile UKI. */
        public Request(UkiBuilder.Inputs inputs, KeyMaterial signer, boolean signKernel, PcrSigningKey pcrKey, List<String> banks,
                       List<String> phases, boolean predict, Path output) {
            this(inputs, signer, signKernel, pcrKey, banks, phases, predict, output, null, List.of());
        }
    }

    /**
     * What was built. {@code predictions} are profile @0's (the UKI booted without a profile); {@code profiles}
     * holds every profile's, @0 first (one entry for a single-profile UKI).
     */
    public record Result(UkiBuilder.Prepared prepared, UkiLayout.Plan plan, UkiWriter.Result written,
                         List<PcrPredictor.Prediction> predictions, List<List<PcrPredictor.Prediction>> profiles) {
        public Result {
            profiles = List.copyOf(profiles);
        }
    }

    /** ukify's base profile when profiles are joined and no --profile is given. */
    public static final byte[] DEFAULT_BASE_PROFILE = "ID=main".getBytes(StandardCharsets.US_ASCII);

    /** An add-on or a profile PE: sections on the add-on stub, optionally signed for Secure Boot. */
    public record StubOnlyRequest(UkiBuilder.StubOnlyInputs inputs, KeyMaterial signer, Path output) {
    }

    public record StubOnlyResult(UkiBuilder.Prepared prepared, UkiLayout.Plan plan, UkiWriter.Result written) {
    }

    /** Builds an add-on or profile PE ({@link UkiBuilder#prepareStubOnly}), written once, signed when a key is given. */
    public static StubOnlyResult buildStubOnly(StubOnlyRequest r) throws IOException {
        UkiBuilder.Prepared prepared = UkiBuilder.prepareStubOnly(r.inputs());
        UkiLayout.Plan plan = UkiLayout.plan(prepared.stubBytes(), prepared.sections(), prepared.kernelNxCompat());
        return new StubOnlyResult(prepared, plan, write(plan, r.signer(), null, r.output(), ProgressListener.NONE));
    }

    private static UkiWriter.Result write(UkiLayout.Plan plan, KeyMaterial signer, PendingKey pending, Path output, ProgressListener progress)
            throws IOException {
        try (AtomicOutput o = AtomicOutput.open(output)) {
            KeyMaterial[] key = {signer};
            List<ImageSigner> signers = signer == null && pending == null ? List.of() : List.of(new ImageSigner() {
                @Override
                public byte[] sign(String alg, byte[] digest) throws IOException {
                    // the image is written but for its signature: its bulk goes to disk while the key signs
                    o.flushNow();
                    if (key[0] == null) {
                        key[0] = pending.get();
                    }
                    return dev.cairn.signing.authenticode.AuthenticodeSigner.sign(digest, alg, key[0]);
                }
            });
            progress.phase("writing", plan.size());
            UkiWriter.Result result = UkiWriter.write(plan, o.channel(), "SHA-256", signers, new java.util.function.LongConsumer() {
                @Override
                public void accept(long n) {
                    progress.advanced(n);
                }
            });
            KeyMaterial km = key[0];
            // a deferred key's signature may be a placeholder still: the whole-set check verifies it once injected
            if (km != null && !dev.cairn.signing.DeferredSignatures.isDeferred(km)) {
                PeSigning.verifyOutput(o.tempPath(), result.authenticodeDigest(), "SHA-256", km.certificate());
            } else {
                dev.cairn.uki.UkiFile.open(o.tempPath());
            }
            o.commit();
            return result;
        }
    }

    /** The {@code .pcrsig} section: the predicted values of each bank, in bank order, signed with the PCR key (deterministic). */
    public static byte[] pcrsig(List<PcrPredictor.Prediction> predictions, List<String> banks, PcrSigningKey key) throws IOException {
        List<PcrValue> values = new ArrayList<>();
        for (PcrBank b : banks.stream().map(PcrBank::of).toList()) {
            for (PcrPredictor.Prediction p : predictions) {
                if (p.bank().id().equals(b.jsonName())) {
                    values.add(new PcrValue(b, p.phase(), p.value()));
                }
            }
        }
        return PcrPolicySigner.sign(values, key).toJson().getBytes(StandardCharsets.US_ASCII);
    }

    /** What {@link #build(Request, ProgressListener)} tells a progress display: two passes over the inputs, in bytes. */
    public interface ProgressListener {
        ProgressListener NONE = new ProgressListener() {
        };

        /** A pass starts: "measuring" (the PCR 11 prediction reads the measured sections) or "writing" ({@code totalBytes} of sections). */
        default void phase(String name, long totalBytes) {
        }

        /** {@code bytes} more of the current pass are done. */
        default void advanced(long bytes) {
        }
    }

    public static Result build(Request r) throws IOException {
        return build(r, ProgressListener.NONE);
    }

    /** Like {@link #build(Request)}, telling {@code progress} how the passes over the inputs advance. */
    public static Result build(Request r, ProgressListener progress) throws IOException {
        return build(r, progress, null);
    }

    /**
     * Like {@link #build(Request, ProgressListener)}, signed with a key that may still be loading:
     * {@code pending} is waited for only when the image's digest is known. The request then names
     * no signer of its own and does not sign the kernel (that needs the key first).
     */
    public static Result build(Request r, ProgressListener progress, PendingKey pending) throws IOException {
        if (pending != null && (r.signer() != null || r.signKernel())) {
            throw new IllegalArgumentException("a pending key replaces the request's signer, and cannot sign the kernel first");
        }
        // loops, not streams: each lambda costs a fresh JVM ~0.6 ms to link, and this runs once per JVM (bench/uki.sh)
        List<PcrPredictor.Bank> predictorBanks = new ArrayList<>();
        for (String b : r.banks()) {
            predictorBanks.add(PcrPredictor.Bank.parse(b));
        }
        for (String phase : r.phases()) {
            PcrPredictor.phaseWords(phase);
        }
        UkiBuilder.Inputs in = r.inputs();
        AtomicOutput signedKernel = null;
        try {
            if (r.signKernel()) {
                signedKernel = PeSigning.signedCopy(in.linux(), r.output(), r.signer(), "SHA-256");
                in = new UkiBuilder.Inputs(in.stub(), signedKernel.tempPath(), in.initrds(), in.cmdline(), in.osrel(), in.uname(), in.splash(),
                        in.devicetree(), in.sbat(), in.pcrpkey(), in.extra());
            }
            UkiBuilder.Prepared prepared = UkiBuilder.prepare(in);
            MeasurementRule rule = prepared.rule();
            // segments: the base (+ its .profile when profiles are joined), then each joined profile's sections
            List<List<UkiLayout.NewSection>> segments = new ArrayList<>();
            List<UkiLayout.NewSection> base = new ArrayList<>(prepared.sections());
            if (!r.joinProfiles().isEmpty()) {
                if (rule.sinceVersion() < 257) {
                    throw new dev.cairn.io.FormatException("--join-profile", prepared.stub().map(i -> i.version()).orElse(null),
                            "multi-profile UKIs need a systemd 257 (or later) stub; this one would boot the base and ignore the profiles");
                }
                base.add(new UkiLayout.NewSection(".profile", SectionData.of(r.profile() != null ? r.profile() : DEFAULT_BASE_PROFILE)));
            }
            segments.add(base);
            for (Path p : r.joinProfiles()) {
                segments.add(dev.cairn.uki.UkiProfiles.fromProfilePe(p, in.osrel() != null));
            }
            List<UkiLayout.NewSection> all = new ArrayList<>();
            List<String> names = new ArrayList<>();
            for (List<UkiLayout.NewSection> segment : segments) {
                all.addAll(segment);
            }
            for (UkiLayout.NewSection s : all) {
                names.add(s.name());
            }
            int profileCount = Math.max(1, dev.cairn.uki.UkiProfiles.count(names));
            List<List<PcrPredictor.Prediction>> perProfile = new ArrayList<>();
            if (r.predict() || r.pcrKey() != null) {
                // one extra read of the measured inputs, only when the prediction is asked for
                java.util.Map<Integer, PcrPredictor.SectionDigests> digests = new java.util.HashMap<>();
                java.util.Set<Integer> used = new java.util.TreeSet<>();
                for (int k = 0; k < profileCount; k++) {
                    for (int i : dev.cairn.uki.UkiProfiles.select(names, k)) {
                        if (rule.sections().contains(names.get(i))) {
                            used.add(i);
                        }
                    }
                }
                progress.phase("measuring", used.stream().mapToLong(i -> all.get(i).data().size()).sum());
                for (int i : used) {
                    digests.put(i, PcrPredictor.digest(names.get(i), all.get(i).data(), predictorBanks, progress::advanced));
                }
                List<String> sortedPhases = r.phases().stream().distinct().sorted().toList();
                for (int k = 0; k < profileCount; k++) {
                    List<PcrPredictor.SectionDigests> d = new ArrayList<>();
                    for (int i : dev.cairn.uki.UkiProfiles.select(names, k)) {
                        if (digests.containsKey(i)) {
                            d.add(digests.get(i));
                        }
                    }
                    perProfile.add(PcrPredictor.predict(rule, d, predictorBanks, sortedPhases));
                }
            }
            List<UkiLayout.NewSection> sections = new ArrayList<>();
            for (int k = 0; k < segments.size(); k++) {
                sections.addAll(segments.get(k));
                if (r.pcrKey() != null) {
                    // ukify: one .pcrsig after each profile's sections (base + @0 first), covering that profile
                    sections.add(new UkiLayout.NewSection(".pcrsig", SectionData.of(pcrsig(perProfile.get(k), r.banks(), r.pcrKey()))));
                }
            }
            UkiLayout.Plan plan = UkiLayout.plan(prepared.stubBytes(), sections, prepared.kernelNxCompat());
            UkiWriter.Result result = write(plan, r.signer(), pending, r.output(), progress);
            return new Result(prepared, plan, result, perProfile.isEmpty() ? List.of() : perProfile.get(0), perProfile);
        } finally {
            if (signedKernel != null) {
                signedKernel.close(); // never committed: deletes the temporary signed kernel
            }
        }
    }
}
