package dev.cairn.cli.disk;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.pipeline.disk.DiskInspector;
import dev.cairn.signing.KeyLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn disk inspect IMAGE}: like systemd-dissect, and checked (the face of {@link DiskInspector}). */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Show a disk image's partitions and ESP files, and check its verity chain.",
                "The partitions with DPS designators, sizes, UUIDs, labels and flags, the ESP's files; and the "
                        + "checks: the root hash is recomputed from the root and root-verity partitions and must be the one "
                        + "their UUIDs imply and the signature partition names; with --cert or --ca the root-hash signature "
                        + "must verify. A raw disk or a fixed VHD.",
                "Exit 0: everything agrees; 1: something disagrees (named); 3: not a readable GPT disk."})
public final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "IMAGE", description = "The disk image (raw or fixed VHD).")
    Path image;
    @ArgGroup(exclusive = true)
    Trust trust;
    @Mixin
    JsonOption json;

    static final class Trust {
        @Option(names = "--cert", paramLabel = "FILE", description = "The root-hash signer's certificate (PEM or DER).")
        Path cert;
        @Option(names = "--ca", paramLabel = "FILE", description = "A CA the root-hash signer's certificate chains to.")
        Path ca;
    }

    @Override
    public Integer call() throws IOException {
        List<X509Certificate> trusted = new ArrayList<>();
        if (trust != null) {
            Path f = trust.cert != null ? trust.cert : trust.ca;
            trusted.addAll(KeyLoader.loadCertificates(f));
            if (trusted.isEmpty()) {
                throw new IllegalArgumentException(f + ": no certificate in it");
            }
        }
        DiskInspector.Report r = DiskInspector.inspect(image, trusted, Instant.now(), Runtime.getRuntime().availableProcessors());
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("image", image.toString());
            m.put("format", r.format());
            m.put("size", r.rawSize());
            m.put("diskGuid", r.diskGuid().toString());
            List<Map<String, Object>> parts = new ArrayList<>();
            for (DiskInspector.Partition p : r.partitions()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("number", p.number());
                x.put("designator", p.designator());
                x.put("type", p.type().toString());
                x.put("uuid", p.uuid().toString());
                x.put("label", p.label());
                x.put("flags", p.flags());
                x.put("offset", p.offset());
                x.put("size", p.size());
                parts.add(x);
            }
            m.put("partitions", parts);
            m.put("rootHash", r.rootHash());
            m.put("signedRootHash", r.signedRootHash());
            m.put("esp", r.espFiles().stream().map(f -> {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("path", f.path());
                x.put("size", f.size());
                x.put("sha256", f.sha256());
                return x;
            }).toList());
            m.put("checks", r.checks().stream().map(c -> {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("check", c.what());
                x.put("ok", c.ok());
                x.put("detail", c.detail());
                return x;
            }).toList());
            m.put("ok", r.ok());
            JsonOption.print(out, m);
        } else {
            out.printf(Locale.ROOT, "%s: %s disk, %d bytes, disk GUID %s%n", image, r.format(), r.rawSize(), r.diskGuid());
            out.printf(Locale.ROOT, "  %-2s %-24s %-36s %-24s %12s %12s  %s%n", "#", "designator", "partition UUID", "label", "offset", "size",
                    "flags");
            for (DiskInspector.Partition p : r.partitions()) {
                out.printf(Locale.ROOT, "  %-2d %-24s %-36s %-24s %12d %12d  %s%n", p.number(), p.designator(), p.uuid(), printable(p.label()), p.offset(),
                        p.size(), String.join(",", p.flags()));
            }
            if (!r.espFiles().isEmpty()) {
                out.println("  ESP:");
                for (DiskInspector.EspFile f : r.espFiles()) {
                    out.printf(Locale.ROOT, "    %-40s %10d  sha256:%s%n", printable(f.path()), f.size(), f.sha256());
                }
            }
            for (DiskInspector.Check c : r.checks()) {
                out.printf(Locale.ROOT, "%-6s %-20s %s%n", c.ok() ? "ok" : "FAILED", c.what(), printable(c.detail()));
            }
        }
        out.flush();
        if (!r.ok()) {
            throw new CairnException(ExitCode.VERIFICATION_FAILED, image + ": " + r.checks().stream().filter(c -> !c.ok())
                    .map(c -> c.what() + ": " + c.detail()).findFirst().orElse("disagrees"));
        }
        return 0;
    }

    /** Names from the image are the image's: control characters are shown escaped, never sent to the terminal. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (Character.isISOControl(c) || c == 0x7f) {
                b.append(String.format(Locale.ROOT, "\\x%02x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }
}
