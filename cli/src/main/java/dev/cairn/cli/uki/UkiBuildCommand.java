package dev.cairn.cli.uki;

import dev.cairn.pipeline.uki.UkiAssembly;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.Progress;
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
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cairn uki build}: ukify build in one pure-Java step, signing and PCR policy included. */
@Command(name = "build", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build a Unified Kernel Image, like ukify build.",
                "From the systemd stub, a kernel, initrds and text sections (ukify's options), optionally signed for",
                "Secure Boot and with a signed PCR 11 policy (.pcrsig)."})
public final class UkiBuildCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--linux", required = true, paramLabel = "FILE", description = "Kernel image (EFI stub kernel, e.g. /boot/vmlinuz-*).")
    Path linux;
    @Option(names = "--initrd", paramLabel = "FILE", description = "Initrd (repeatable; concatenated, each padded to 4 bytes).")
    List<Path> initrds = new ArrayList<>();
    @Option(names = "--cmdline", paramLabel = "TEXT|@FILE", description = "Kernel command line (inline text is whitespace-normalised).")
    String cmdline;
    @Option(names = "--os-release", paramLabel = "TEXT|@FILE", description = "os-release content (default: @/etc/os-release, as ukify).")
    String osRelease;
    @Option(names = "--no-os-release", description = "Leave .osrel out (sd-boot will then not list the UKI).")
    boolean noOsRelease;
    @Option(names = "--uname", paramLabel = "VERSION", description = "Kernel release for .uname (default: read from the kernel).")
    String uname;
    @Option(names = "--splash", paramLabel = "FILE", description = "Boot splash (BMP) for .splash.")
    Path splash;
    @Option(names = "--devicetree", paramLabel = "FILE", description = "Devicetree blob for .dtb.")
    Path devicetree;
    @Option(names = "--sbat", paramLabel = "TEXT|@FILE", description = "SBAT lines to merge with the stub's and kernel's (repeatable; default: ukify's uki line).")
    List<String> sbat;
    @Option(names = "--section", paramLabel = "NAME:TEXT|@FILE", description = "Extra section, e.g. .extra:@file (repeatable).")
    List<String> sections = new ArrayList<>();
    @Option(names = "--pcrpkey", paramLabel = "FILE", description = "PEM public key for .pcrpkey (default: from --pcr-public-key/--pcr-private-key).")
    Path pcrpkey;
    @Option(names = "--stub", paramLabel = "FILE", description = "systemd EFI stub (default: /usr/lib/systemd/boot/efi/linux<arch>.efi.stub).")
    Path stub;
    @Option(names = {"--output", "-o"}, required = true, paramLabel = "FILE", description = "Where to write the UKI.")
    Path output;
    @Option(names = "--secureboot-private-key", paramLabel = "FILE", description = "Secure Boot signing key (PEM); same as --key.")
    Path sbKey;
    @Option(names = "--secureboot-certificate", paramLabel = "FILE", description = "Secure Boot certificate (PEM); same as --cert.")
    Path sbCert;
    @Option(names = "--sign-kernel", description = "Sign the embedded kernel with the same key first (its own signatures are kept), "
            + "for stubs and firmware that verify the inner kernel against db.")
    boolean signKernel;
    @Option(names = "--pcr-private-key", paramLabel = "FILE", description = "RSA key (PEM) that signs the PCR 11 policy into .pcrsig.")
    Path pcrPrivateKey;
    @Option(names = "--pcr-public-key", paramLabel = "FILE", description = "Its public key (PEM; default: derived from the private key).")
    Path pcrPublicKey;
    @Option(names = "--pcr-pkcs11-key", paramLabel = "LABEL", description = "PCR policy key on the PKCS#11 token of --pkcs11-module (by label).")
    String pcrPkcs11Key;
    @Option(names = "--pcr-banks", paramLabel = "BANK[,BANK…]", split = ",", description = "Banks for .pcrsig and --measure (default: sha256).")
    List<String> banks = new ArrayList<>(List.of("sha256"));
    @Option(names = "--phases", paramLabel = "PATH", split = "[ ,]+", description = "Boot phase paths to sign for (default: systemd-measure's four).")
    List<String> phases;
    @Option(names = "--measure", description = "Print the predicted PCR 11 values (like ukify --measure).")
    boolean measure;
    @Mixin
    KeyOptions keys;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        keys.useFiles(sbKey, sbCert, "--secureboot-private-key", "--secureboot-certificate");
        PrintWriter err = spec.commandLine().getErr();
        KeyMaterial km = keys.present() ? keys.load(err) : null;
        if (signKernel && km == null) {
            throw new IllegalArgumentException("--sign-kernel needs a Secure Boot key (--secureboot-private-key/--key, --pkcs12 or --pkcs11-module)");
        }
        if (pcrPrivateKey != null && pcrPkcs11Key != null) {
            throw new IllegalArgumentException("give the PCR key once: --pcr-private-key or --pcr-pkcs11-key");
        }
        banks.forEach(PcrBank::of);
        PcrSigningKey pcrKey = pcrPrivateKey != null ? PcrSigningKey.fromPem(pcrPrivateKey, pcrPublicKey, keys.passphrase())
                : pcrPkcs11Key != null ? PcrSigningKey.of(keys.loadOtherPkcs11Key(pcrPkcs11Key, "--pcr-pkcs11-key")) : null;
        byte[] pcrpkeyBytes = pcrpkey != null ? Files.readAllBytes(pcrpkey)
                : pcrKey != null ? pcrKey.pcrpkeyPem().getBytes(StandardCharsets.US_ASCII)
                : pcrPublicKey != null ? Files.readAllBytes(pcrPublicKey) : null;

        Path stubPath = stub != null ? stub : Stubs.defaultStub();
        byte[] osrel = noOsRelease ? null : osRelease != null ? TextOrFile.read(osRelease, "--os-release") : defaultOsRelease();
        List<UkiLayout.NewSection> extra = new ArrayList<>();
        for (String s : sections) {
            int colon = s.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("--section wants NAME:TEXT or NAME:@FILE, not " + s);
            }
            extra.add(new UkiLayout.NewSection(s.substring(0, colon), SectionData.of(TextOrFile.read(s.substring(colon + 1), "--section"))));
        }
        UkiBuilder.Inputs inputs = new UkiBuilder.Inputs(stubPath, linux, initrds, cmdline == null ? null : TextOrFile.cmdline(cmdline),
                osrel, uname, splash, devicetree, sbat == null ? null : readAll(sbat), pcrpkeyBytes, extra);
        UkiAssembly.Result r;
        // large inputs (a 100 MB initrd) take seconds: a progress line per pass over them (measuring, writing)
        try (Progress progress = Progress.start(err, "", -1, json.enabled())) {
            r = UkiAssembly.build(new UkiAssembly.Request(inputs, km, signKernel, pcrKey, banks, phases, measure || json.enabled(), output),
                    new UkiAssembly.ProgressListener() {
                        @Override
                        public void phase(String name, long totalBytes) {
                            progress.restart(name + " " + output.getFileName(), totalBytes);
                        }

                        @Override
                        public void advanced(long bytes) {
                            progress.advance(bytes);
                        }
                    });
        }
        report(r.prepared(), r.plan(), r.written(), r.predictions(), km, pcrKey != null);
        return 0;
    }

    private static List<String> readAll(List<String> values) throws IOException {
        List<String> out = new ArrayList<>();
        for (String v : values) {
            out.add(new String(TextOrFile.read(v, "--sbat"), StandardCharsets.UTF_8));
        }
        return out;
    }

    private static byte[] defaultOsRelease() throws IOException {
        for (String p : new String[] {"/etc/os-release", "/usr/lib/os-release"}) {
            if (Files.isRegularFile(Path.of(p))) {
                return Files.readAllBytes(Path.of(p));
            }
        }
        return null;
    }

    private void report(UkiBuilder.Prepared prepared, UkiLayout.Plan plan, UkiWriter.Result result,
                        List<PcrPredictor.Prediction> predictions, KeyMaterial km, boolean pcrsig) {
        PrintWriter out = spec.commandLine().getOut();
        MeasurementRule rule = prepared.rule();
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("output", output.toString());
            m.put("size", result.size());
            m.put("stub", prepared.stub().map(s -> s.version()).orElse(null));
            m.put("measurementRule", rule.label());
            m.put("uname", prepared.uname());
            List<Map<String, Object>> secs = new ArrayList<>();
            for (UkiLayout.PlannedSection s : plan.sections()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("name", s.header().name());
                x.put("virtualAddress", s.header().virtualAddress());
                x.put("virtualSize", s.header().virtualSize());
                x.put("fromStub", s.fromStub());
                secs.add(x);
            }
            m.put("sections", secs);
            m.put("signed", km != null);
            m.put("signer", km == null ? null : km.certificate().getSubjectX500Principal().getName());
            m.put("authenticodeSha256", HexFormat.of().formatHex(result.authenticodeDigest()));
            m.put("pcrsig", pcrsig);
            List<Map<String, Object>> pcrs = new ArrayList<>();
            for (PcrPredictor.Prediction p : predictions) {
                Map<String, Object> x = new LinkedHashMap<>(); // fixed key order: Map.of's changes from run to run
                x.put("phase", p.phase());
                x.put("bank", p.bank().id());
                x.put("pcr", 11);
                x.put("hash", p.hex());
                pcrs.add(x);
            }
            m.put("pcr11", pcrs);
            m.put("notes", plan.notes());
            JsonOption.print(out, m);
            return;
        }
        for (String n : prepared.notes()) {
            spec.commandLine().getErr().println("cairn: " + n);
        }
        for (String n : plan.notes()) {
            spec.commandLine().getErr().println("cairn: " + n);
        }
        out.println("Wrote " + (km != null ? "signed " : "unsigned ") + output + " (" + result.size() + " bytes, "
                + plan.sections().size() + " sections" + (pcrsig ? ", .pcrsig for " + String.join(",", banks) : "") + ")");
        if (measure) {
            out.println("# PCR 11 predicted with the " + rule.label());
            String phase = null;
            for (PcrPredictor.Prediction p : predictions) {
                if (!p.phase().equals(phase)) {
                    phase = p.phase();
                    out.println("# phase " + phase);
                }
                out.println("11:" + p.bank().id() + "=" + p.hex());
            }
        }
    }
}
