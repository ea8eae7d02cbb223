package dev.cairn.cli.uki;

import dev.cairn.cli.JsonOption;
import dev.cairn.pipeline.uki.UkiAssembly;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.uki.SectionData;
import dev.cairn.uki.UkiBuilder;
import dev.cairn.uki.UkiLayout;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
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

/** {@code cairn uki addon}: a PE add-on (ukify build without --linux), signed like a UKI. */
@Command(name = "addon", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build a PE add-on for systemd-stub 257, like ukify build without --linux.",
                "Sections on the add-on stub in ukify 257's order (.cmdline .dtb .uname .initrd .ucode, then .sbat with",
                "ukify's add-on line), optionally signed for Secure Boot. systemd-stub loads *.addon.efi from",
                "\\loader\\addons\\ and <uki>.efi.extra.d\\ and appends the command line; a .linux is refused."})
public final class UkiAddonCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Option(names = "--cmdline", paramLabel = "TEXT|@FILE", description = "Command line to append (inline text is whitespace-normalised).")
    String cmdline;
    @Option(names = "--devicetree", paramLabel = "FILE", description = "Devicetree blob for .dtb.")
    Path devicetree;
    @Option(names = "--initrd", paramLabel = "FILE", description = "Initrd for .initrd (repeatable; concatenated, each padded to 4 bytes).")
    List<Path> initrds = new ArrayList<>();
    @Option(names = "--microcode", paramLabel = "FILE", description = "Microcode cpio for .ucode.")
    Path microcode;
    @Option(names = "--uname", paramLabel = "VERSION", description = "Kernel release for .uname (the stub ignores the add-on for other UKIs).")
    String uname;
    @Option(names = "--sbat", paramLabel = "TEXT|@FILE", description = "SBAT lines (repeatable; default: ukify's uki-addon line).")
    List<String> sbat;
    @Option(names = "--section", paramLabel = "NAME:TEXT|@FILE", description = "Extra section, e.g. .extra:@file (repeatable).")
    List<String> sections = new ArrayList<>();
    @Option(names = "--stub", paramLabel = "FILE", description = "systemd add-on stub (default: /usr/lib/systemd/boot/efi/addon<arch>.efi.stub).")
    Path stub;
    @Option(names = {"--output", "-o"}, required = true, paramLabel = "FILE", description = "Where to write the add-on (NAME.addon.efi).")
    Path output;
    @Mixin
    UkiKeyOptions keys;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        KeyMaterial km = keys.load(err);
        Path stubPath = stub != null ? stub : Stubs.defaultAddonStub();
        UkiBuilder.StubOnlyInputs in = new UkiBuilder.StubOnlyInputs(stubPath, null, null,
                cmdline == null ? null : TextOrFile.cmdline(cmdline), devicetree, uname, null, null, initrds, microcode,
                sbat == null ? null : UkiBuildCommand.readAll(sbat), extraSections(sections));
        UkiAssembly.StubOnlyResult r = UkiAssembly.buildStubOnly(new UkiAssembly.StubOnlyRequest(in, km, output));
        if (!output.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".addon.efi")) {
            err.println("cairn: warning: systemd-stub only loads add-ons named *.addon.efi; " + output.getFileName() + " is not");
        }
        report(spec, json.enabled(), output, r, km);
        return 0;
    }

    static List<UkiLayout.NewSection> extraSections(List<String> sections) throws IOException {
        List<UkiLayout.NewSection> extra = new ArrayList<>();
        for (String s : sections) {
            int colon = s.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("--section wants NAME:TEXT or NAME:@FILE, not " + s);
            }
            extra.add(new UkiLayout.NewSection(s.substring(0, colon), SectionData.of(TextOrFile.read(s.substring(colon + 1), "--section"))));
        }
        return extra;
    }

    static void report(CommandLine.Model.CommandSpec spec, boolean asJson, Path output, UkiAssembly.StubOnlyResult r, KeyMaterial km) {
        PrintWriter out = spec.commandLine().getOut();
        if (asJson) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("output", output.toString());
            m.put("size", r.written().size());
            m.put("stub", r.prepared().stub().map(s -> s.version()).orElse(null));
            m.put("sections", UkiBuildCommand.sectionsJson(r.plan()));
            m.put("signed", km != null);
            m.put("signer", km == null ? null : km.certificate().getSubjectX500Principal().getName());
            m.put("authenticodeSha256", HexFormat.of().formatHex(r.written().authenticodeDigest()));
            List<String> notes = new ArrayList<>(r.prepared().notes());
            notes.addAll(r.plan().notes());
            m.put("notes", notes);
            JsonOption.print(out, m);
            return;
        }
        UkiBuildCommand.printNotes(spec, r.prepared().notes(), r.plan().notes());
        out.println("Wrote " + (km != null ? "signed " : "unsigned ") + output + " (" + r.written().size() + " bytes, sections "
                + String.join(" ", r.plan().sections().stream().map(s -> s.header().name()).toList()) + ")");
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
