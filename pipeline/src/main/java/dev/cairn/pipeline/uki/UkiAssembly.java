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
                          List<String> phases, boolean predict, Path output) {
        public Request {
            banks = List.copyOf(banks);
            phases = phases == null || phases.isEmpty() ? PcrPredictor.DEFAULT_PHASES : List.copyOf(phases);
        }
    }

    public record Result(UkiBuilder.Prepared prepared, UkiLayout.Plan plan, UkiWriter.Result written,
                         List<PcrPredictor.Prediction> predictions) {
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
        List<PcrPredictor.Bank> predictorBanks = r.banks().stream().map(PcrPredictor.Bank::parse).toList();
        r.phases().forEach(PcrPredictor::phaseWords);
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
            List<PcrPredictor.Prediction> predictions = List.of();
            if (r.predict() || r.pcrKey() != null) {
                // one extra read of the inputs, only when the prediction is asked for
                List<PcrPredictor.SectionDigests> digests = new ArrayList<>();
                long measured = 0;
                for (UkiLayout.NewSection s : prepared.sections()) {
                    if (rule.sections().contains(s.name())) {
                        measured += s.data().size();
                    }
                }
                progress.phase("measuring", measured);
                for (UkiLayout.NewSection s : prepared.sections()) {
                    if (rule.sections().contains(s.name())) {
                        digests.add(PcrPredictor.digest(s.name(), s.data(), predictorBanks, progress::advanced));
                    }
                }
                List<String> sortedPhases = r.phases().stream().distinct().sorted().toList();
                predictions = PcrPredictor.predict(rule, digests, predictorBanks, sortedPhases);
            }
            List<UkiLayout.NewSection> more = new ArrayList<>();
            if (r.pcrKey() != null) {
                more.add(new UkiLayout.NewSection(".pcrsig", SectionData.of(pcrsig(predictions, r.banks(), r.pcrKey()))));
            }
            UkiLayout.Plan plan = UkiLayout.plan(prepared.stubBytes(), prepared.with(more), prepared.kernelNxCompat());
            UkiWriter.Result result;
            KeyMaterial km = r.signer();
            List<ImageSigner> signers = km == null ? List.of() : List.of(PeSigning.signer(km));
            try (AtomicOutput o = AtomicOutput.open(r.output())) {
                progress.phase("writing", plan.size());
                result = UkiWriter.write(plan, o.channel(), "SHA-256", signers, progress::advanced);
                // a deferred key's signature may be a placeholder still: the whole-set check verifies it once injected
                if (km != null && !dev.cairn.signing.DeferredSignatures.isDeferred(km)) {
                    PeSigning.verifyOutput(o.tempPath(), result.authenticodeDigest(), "SHA-256", km.certificate());
                } else {
                    dev.cairn.uki.UkiFile.open(o.tempPath());
                }
                o.commit();
            }
            return new Result(prepared, plan, result, predictions);
        } finally {
            if (signedKernel != null) {
                signedKernel.close(); // never committed: deletes the temporary signed kernel
            }
        }
    }
}
