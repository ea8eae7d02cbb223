package dev.cairn.pipeline;

import dev.cairn.io.FormatException;
import dev.cairn.pipeline.uki.PeSigning;
import dev.cairn.pipeline.uki.UkiAssembly;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.pcr.PcrSigningKey;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.UkiBuilder;
import dev.cairn.uki.UkiFile;
import dev.cairn.uki.UkiLayout;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The check a signed UKI from the step cache must pass before the build uses it: every section
 * PCR 11 measures (kernel, initrd, command line, os-release, PCR key, ...) holds exactly what this
 * build would put there, its {@code .pcrsig} is exactly the one this build's PCR key makes for
 * those sections and banks (PKCS#1 v1.5 signatures are deterministic), and its Authenticode
 * signature verifies with this build's Secure Boot certificate. A cache can thus hand back only a
 * UKI this build's keys signed over this build's measured content; it cannot inject a signature or
 * swap a section. (PE headers outside the sections are covered by the Authenticode signature only.)
 */
final class UkiEntryCheck {
    private UkiEntryCheck() {
    }

    /** @param prepared this build's UKI inputs, prepared ({@link UkiBuilder#prepare}) */
    static void check(java.nio.file.Path uki, UkiBuilder.Prepared prepared, KeyMaterial secureBoot, PcrSigningKey pcrKey, List<String> banks,
                      List<PcrPredictor.Prediction> predictions) throws IOException {
        UkiFile f = UkiFile.open(uki);
        PeSigning.verify(f, List.of(secureBoot.certificate()));
        List<PcrPredictor.Bank> sha256 = List.of(PcrPredictor.Bank.parse("sha256"));
        List<String> expected = new ArrayList<>();
        for (UkiLayout.NewSection s : prepared.sections()) {
            if (prepared.rule().sections().contains(s.name())) {
                expected.add(line(PcrPredictor.digest(s.name(), s.data(), sha256)));
            }
        }
        List<String> actual = new ArrayList<>();
        for (PcrPredictor.SectionDigests d : f.measuredSections(prepared.rule(), sha256)) {
            actual.add(line(d));
        }
        // the stub measures in its rule's order, the build plans in its own: compare as sets of lines
        expected.sort(null);
        actual.sort(null);
        if (!expected.equals(actual)) {
            Set<String> differ = new TreeSet<>();
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
            throw new FormatException("sections", String.join(", ", differ), "the cached UKI's sections " + String.join(", ", differ)
                    + " differ from this build's inputs");
        }
        byte[] pcrsig = f.sectionBytes(".pcrsig").orElseThrow(() -> new FormatException(".pcrsig", "absent", "the cached UKI has no .pcrsig"));
        if (!Arrays.equals(pcrsig, UkiAssembly.pcrsig(predictions, banks, pcrKey))) {
            throw new FormatException(".pcrsig", "differs", "the cached UKI's .pcrsig is not the one this build's PCR key makes");
        }
    }

    private static String line(PcrPredictor.SectionDigests d) {
        StringBuilder sb = new StringBuilder(d.name()).append(' ').append(d.size());
        d.digests().values().forEach(v -> sb.append(' ').append(HexFormat.of().formatHex(v)));
        return sb.toString();
    }
}
