package dev.cairn.cli.uki;

import dev.cairn.pipeline.uki.PendingKey;
import dev.cairn.pipeline.uki.UkiAssembly;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.Progress;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.pcr.PcrBank;
import dev.cairn.signing.pcr.PcrSigningKey;
import dev.cairn.uki.MeasurementRule;
import dev.cairn.uki.PcrPredictor;
import dev.cairn.uki.SectionData;
import dev.cairn.uki.UkiBuilder;
import dev.cairn.uki.UkiLayout;
import dev.cairn.uki.UkiWriter;
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
    @Option(names = "--linux", paramLabel = "FILE", description = "Kernel image (EFI stub kernel, e.g. /boot/vmlinuz-*); without it, --profile "
            + "builds a profile PE for --join-profile.")
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
    @Option(names = "--microcode", paramLabel = "FILE", description = "Microcode cpio for .ucode (the first initrd; systemd 256+ stubs).")
    Path microcode;
    @Option(names = "--splash", paramLabel = "FILE", description = "Boot splash (BMP) for .splash.")
    Path splash;
    @Option(names = "--devicetree", paramLabel = "FILE", description = "Devicetree blob for .dtb.")
    Path devicetree;
    @Option(names = "--sbat", paramLabel = "TEXT|@FILE", description = "SBAT lines to merge with the stub's and kernel's (repeatable; default: ukify's uki line).")
    List<String> sbat;
    @Option(names = "--section", paramLabel = "NAME:TEXT|@FILE", description = "Extra section, e.g. .extra:@file (repeatable).")
    List<String> sections = new ArrayList<>();
    @Option(names = "--profile", paramLabel = "TEXT|@FILE", description = "Profile text (ID=…, TITLE=…): with --join-profile the base "
            + "profile @0 (default ID=main); without --linux a profile PE (.profile first, no .sbat, on the add-on stub).")
    String profile;
    @Option(names = "--join-profile", paramLabel = "PE", description = "A profile PE to add as the next profile @1, @2, … (repeatable; "
            + "systemd 257 stub).")
    List<Path> joinProfiles = new ArrayList<>();
    @Option(names = "--pcrpkey", paramLabel = "FILE", description = "PEM public key for .pcrpkey (default: from --pcr-public-key/--pcr-private-key).")
    Path pcrpkey;
    @Option(names = "--stub", paramLabel = "FILE", description = "systemd EFI stub (default: /usr/lib/systemd/boot/efi/linux<arch>.efi.stub; "
            + "addon<arch>.efi.stub for a profile PE).")
    Path stub;
    @Option(names = {"--output", "-o"}, required = true, paramLabel = "FILE", description = "Where to write the UKI.")
    Path output;
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
    UkiKeyOptions keys;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        if (linux != null) {
            dev.cairn.io.Sha256.warmJdkDigest(); // the kernel and initrds are hashed in a moment
        }
        PrintWriter err = spec.commandLine().getErr();
        if (pcrPrivateKey != null && pcrPkcs11Key != null) {
            throw new IllegalArgumentException("give the PCR key once: --pcr-private-key or --pcr-pkcs11-key");
        }
        // A UKI's key from files loads on a second core while the inputs are planned, read and
        // hashed (bench/uki.sh: 40-90 ms of a 0.4 s build); the signature waits for it. Not when
        // the kernel is signed first, not for a token, and not when a PCR key shares its passphrase.
        boolean background = linux != null && !signKernel && pcrPrivateKey == null && pcrPkcs11Key == null && keys.loadsInBackground();
        PendingKey pending = background ? keys.loadInBackground() : null;
        KeyMaterial km = background ? null : keys.load(err);
        if (signKernel && km == null) {
            throw new IllegalArgumentException("--sign-kernel needs a Secure Boot key (--secureboot-private-key/--key, --pkcs12 or --pkcs11-module)");
        }
        try {
            return build(km, pending, err);
        } catch (IOException | RuntimeException e) {
            if (pending != null) {
                pending.get(); // throws a bad key's failure: reported first, as when the key loaded before anything else
            }
            throw e;
        }
    }

    private int build(KeyMaterial km, PendingKey pending, PrintWriter err) throws IOException {
        banks.forEach(PcrBank::of);
        PcrSigningKey pcrKey = pcrPrivateKey != null ? PcrSigningKey.fromPem(pcrPrivateKey, pcrPublicKey, keys.keys().passphrase())
                : pcrPkcs11Key != null ? PcrSigningKey.of(keys.keys().loadOtherPkcs11Key(pcrPkcs11Key, "--pcr-pkcs11-key")) : null;
        byte[] pcrpkeyBytes = pcrpkey != null ? Files.readAllBytes(pcrpkey)
                : pcrKey != null ? pcrKey.pcrpkeyPem().getBytes(StandardCharsets.US_ASCII)
                : pcrPublicKey != null ? Files.readAllBytes(pcrPublicKey) : null;

        if (linux == null) {
            return profilePe(km, pcrpkeyBytes, err);
        }
        Path stubPath = stub != null ? stub : Stubs.defaultStub();
        byte[] osrel = noOsRelease ? null : osRelease != null ? TextOrFile.read(osRelease, "--os-release") : defaultOsRelease();
        List<UkiLayout.NewSection> extra = new ArrayList<>();
        if (microcode != null) {
            // first of the sections after .initrd: ukify 257's place for .ucode
            extra.add(new UkiLayout.NewSection(".ucode", SectionData.file(microcode)));
        }
        extra.addAll(UkiAddonCommand.extraSections(sections));
        if (profile != null && joinProfiles.isEmpty()) {
            throw new CairnException(ExitCode.USAGE, "--profile with --linux is the base profile of a multi-profile UKI: add --join-profile "
                    + "(to build a profile PE, leave out --linux)");
        }
        UkiBuilder.Inputs inputs = new UkiBuilder.Inputs(stubPath, linux, initrds, cmdline == null ? null : TextOrFile.cmdline(cmdline),
                osrel, uname, splash, devicetree, sbat == null ? null : readAll(sbat), pcrpkeyBytes, extra);
        UkiAssembly.Result r;
        // large inputs (a 100 MB initrd) take seconds: a progress line per pass over them (measuring, writing)
        try (Progress progress = Progress.start(err, "", -1, json.enabled())) {
            r = UkiAssembly.build(new UkiAssembly.Request(inputs, km, signKernel, pcrKey, banks, phases, measure || json.enabled(), output,
                            profile == null ? null : TextOrFile.read(profile, "--profile"), joinProfiles),
                    new UkiAssembly.ProgressListener() {
                        @Override
                        public void phase(String name, long totalBytes) {
                            progress.restart(name + " " + output.getFileName(), totalBytes);
                        }

                        @Override
                        public void advanced(long bytes) {
                            progress.advance(bytes);
                        }
                    }, pending);
        }
        if (pending != null) {
            km = pending.get();
            KeyOptions.warnValidity(km, err);
        }
        report(r.prepared(), r.plan(), r.written(), r.profiles(), km, pcrKey != null);
        return 0;
    }

    /** No --linux: a profile PE (ukify build --profile without --linux) on the add-on stub. */
    private int profilePe(KeyMaterial km, byte[] pcrpkeyBytes, PrintWriter err) throws IOException {
        if (profile == null) {
            throw new CairnException(ExitCode.USAGE, "--linux is missing: a UKI needs the kernel (for a profile PE give --profile; "
                    + "for an add-on use 'cairn uki addon')");
        }
        if (!joinProfiles.isEmpty() || signKernel || measure || pcrKeyGiven()) {
            throw new CairnException(ExitCode.USAGE, "a profile PE (no --linux) takes no --join-profile, --sign-kernel, --measure or PCR key: "
                    + "those belong to the UKI the profile is joined into");
        }
        Path stubPath = stub != null ? stub : Stubs.defaultAddonStub();
        byte[] osrel = osRelease != null && !noOsRelease ? TextOrFile.read(osRelease, "--os-release") : null;
        UkiBuilder.StubOnlyInputs in = new UkiBuilder.StubOnlyInputs(stubPath, TextOrFile.read(profile, "--profile"), osrel,
                cmdline == null ? null : TextOrFile.cmdline(cmdline), devicetree, uname, splash, pcrpkey != null ? pcrpkeyBytes : null,
                initrds, microcode, sbat == null ? null : readAll(sbat), UkiAddonCommand.extraSections(sections));
        UkiAssembly.StubOnlyResult r = UkiAssembly.buildStubOnly(new UkiAssembly.StubOnlyRequest(in, km, output));
        UkiAddonCommand.report(spec, json.enabled(), output, r, km);
        return 0;
    }

    private boolean pcrKeyGiven() {
        return pcrPrivateKey != null || pcrPkcs11Key != null || pcrPublicKey != null;
    }

    static List<String> readAll(List<String> values) throws IOException {
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
                        List<List<PcrPredictor.Prediction>> profiles, KeyMaterial km, boolean pcrsig) {
        PrintWriter out = spec.commandLine().getOut();
        MeasurementRule rule = prepared.rule();
        boolean multi = profiles.size() > 1;
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("output", output.toString());
            m.put("size", result.size());
            m.put("stub", prepared.stub().map(s -> s.version()).orElse(null));
            m.put("measurementRule", rule.label());
            m.put("uname", prepared.uname());
            m.put("sections", sectionsJson(plan));
            m.put("signed", km != null);
            m.put("signer", km == null ? null : km.certificate().getSubjectX500Principal().getName());
            m.put("authenticodeSha256", HexFormat.of().formatHex(result.authenticodeDigest()));
            m.put("pcrsig", pcrsig);
            List<Map<String, Object>> pcrs = new ArrayList<>();
            for (int k = 0; k < profiles.size(); k++) {
                for (PcrPredictor.Prediction p : profiles.get(k)) {
                    Map<String, Object> x = new LinkedHashMap<>(); // fixed key order: Map.of's changes from run to run
                    if (multi) {
                        x.put("profile", k);
                    }
                    x.put("phase", p.phase());
                    x.put("bank", p.bank().id());
                    x.put("pcr", 11);
                    x.put("hash", p.hex());
                    pcrs.add(x);
                }
            }
            m.put("pcr11", pcrs);
            m.put("notes", plan.notes());
            JsonOption.print(out, m);
            return;
        }
        printNotes(spec, prepared.notes(), plan.notes());
        out.println("Wrote " + (km != null ? "signed " : "unsigned ") + output + " (" + result.size() + " bytes, "
                + plan.sections().size() + " sections" + (multi ? ", " + profiles.size() + " profiles" : "")
                + (pcrsig ? ", .pcrsig for " + String.join(",", banks) + (multi ? " per profile" : "") : "") + ")");
        if (measure) {
            out.println("# PCR 11 predicted with the " + rule.label());
            for (int k = 0; k < profiles.size(); k++) {
                if (multi) {
                    out.println("# profile @" + k);
                }
                String phase = null;
                for (PcrPredictor.Prediction p : profiles.get(k)) {
                    if (!p.phase().equals(phase)) {
                        phase = p.phase();
                        out.println("# phase " + phase);
                    }
                    out.println("11:" + p.bank().id() + "=" + p.hex());
                }
            }
        }
    }

    /** The {@code sections} of {@code --json}: each planned section's name, address, size and origin, in image order. */
    static List<Map<String, Object>> sectionsJson(UkiLayout.Plan plan) {
        List<Map<String, Object>> secs = new ArrayList<>();
        for (UkiLayout.PlannedSection s : plan.sections()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("name", s.header().name());
            x.put("virtualAddress", s.header().virtualAddress());
            x.put("virtualSize", s.header().virtualSize());
            x.put("fromStub", s.fromStub());
            secs.add(x);
        }
        return secs;
    }

    /** The preparation's and the layout's notes on standard error, one {@code cairn: } line each. */
    static void printNotes(CommandLine.Model.CommandSpec spec, List<String> prepared, List<String> plan) {
        for (String n : prepared) {
            spec.commandLine().getErr().println("cairn: " + n);
        }
        for (String n : plan) {
            spec.commandLine().getErr().println("cairn: " + n);
        }
    }
}
