package dev.cairn.pipeline;

import dev.cairn.pipeline.uki.PeSigning;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.UkiBuilder;
import dev.cairn.uki.UkiFile;
import dev.cairn.uki.UkiLayout;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The check a signed UKI from a registry step cache must pass before the build uses it: every
 * section PCR 11 measures (kernel, initrd, command line, os-release, PCR key, ...) holds exactly
 * what this build would put there, and its Authenticode signature verifies with this build's
 * Secure Boot certificate. So a cache can hand back only a UKI this build's key signed over this
 * build's content (PKCS#1 v1.5 signatures are deterministic: the same bytes the build would write);
 * it cannot inject a signature or swap a section.
 */
final class UkiEntryCheck {
    private UkiEntryCheck() {
    }

    static boolean matches(java.nio.file.Path uki, UkiBuilder.Inputs inputs, KeyMaterial secureBoot, BuildListener listener) {
        try {
            UkiFile f = UkiFile.open(uki);
            PeSigning.verify(f, List.of(secureBoot.certificate()));
            UkiBuilder.Prepared prepared = UkiBuilder.prepare(inputs);
            List<PcrPredictor.Bank> banks = List.of(PcrPredictor.Bank.parse("sha256"));
            List<String> expected = new ArrayList<>();
            for (UkiLayout.NewSection s : prepared.sections()) {
                if (prepared.rule().sections().contains(s.name())) {
                    expected.add(line(PcrPredictor.digest(s.name(), s.data(), banks)));
                }
            }
            List<String> actual = new ArrayList<>();
            for (PcrPredictor.SectionDigests d : f.measuredSections(prepared.rule(), banks)) {
                actual.add(line(d));
            }
            // the stub measures in its rule's order, the build plans in its own: compare as sets of lines
            // (.pcrsig is measured by no rule: the build adds it, the signature check above covers it)
            expected.sort(null);
            actual.sort(null);
            if (!expected.equals(actual)) {
                java.util.Set<String> differ = new java.util.TreeSet<>();
                for (String l : expected) {
                    if (!actual.contains(l)) {
                        differ.add(l.substring(0, l.indexOf(' ')));
                    }
                }
                for (String l : actual) {
                    if (!expected.contains(l)) {
                        differ.add(l.substring(0, l.indexOf(' ')));
                    }
                }
                listener.warning("step cache: the cached UKI's sections " + String.join(", ", differ)
                        + " differ from this build's inputs: not used (uki is built instead)");
                return false;
            }
            return true;
        } catch (IOException | RuntimeException e) {
            listener.warning("step cache: the cached UKI is not used (uki is built instead): "
                    + (e instanceof IOException io ? PipelineException.describe(io) : e.getMessage()));
            return false;
        }
    }

    private static String line(PcrPredictor.SectionDigests d) {
        StringBuilder sb = new StringBuilder(d.name()).append(' ').append(d.size());
        d.digests().values().forEach(v -> sb.append(' ').append(HexFormat.of().formatHex(v)));
        return sb.toString();
    }
}
