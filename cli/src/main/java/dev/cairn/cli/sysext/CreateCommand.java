package dev.cairn.cli.sysext;

import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.cli.OutputFile;
import dev.cairn.cli.SourceDateEpochOption;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.pipeline.disk.WrittenPartition;
import dev.cairn.pipeline.sysext.ExtensionRelease;
import dev.cairn.pipeline.sysext.SysextBuilder;
import dev.cairn.pipeline.sysext.SysextRequest;
import dev.cairn.pipeline.sysext.SysextResult;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.squashfs.Compression;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn sysext create SOURCE NAME.raw}: the face of {@link SysextBuilder}. */
@Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Build a signed, verity-protected systemd extension image from SOURCE.",
                "SOURCE is a directory or tarball holding usr/ and opt/, or etc/ with --confext. cairn writes the "
                        + "extension-release file itself (/usr/lib/extension-release.d/extension-release.NAME, or "
                        + "/etc/extension-release.d/ with --confext) and refuses a SOURCE that has an os-release or another "
                        + "extension-release file. OUT must be NAME.raw: systemd names the image after its file. --format ddi "
                        + "(default): a GPT disk with root, root-verity and root-verity-sig partitions; --format squashfs: the "
                        + "naked SquashFS, with NAME.verity, NAME.roothash and NAME.roothash.p7s beside it. The root hash is "
                        + "signed: give a key (--key/--cert, --pkcs12, --pkcs11-module) or --no-sign. Same inputs, same bytes "
                        + "(time stamps: --source-date-epoch)."})
public final class CreateCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "SOURCE", description = "Directory or tar archive (plain, gz, zst, xz) with the extension's tree.")
    Path source;
    private final OutputFile outputFile = new OutputFile("OUT");
    Path out;

    @Parameters(index = "1", arity = "0..1", paramLabel = "OUT", description = "The image to write: NAME.raw (replaced atomically); or --output.")
    void outputArgument(Path p) {
        outputFile.set(spec, p);
    }

    @Option(names = {"--output", "-o"}, paramLabel = "FILE", description = "The image to write, instead of OUT.")
    void outputOption(Path p) {
        outputFile.set(spec, p);
    }

    @Option(names = "--name", required = true, paramLabel = "NAME",
            description = "The extension's name: extension-release.NAME, and OUT's file name NAME.raw.")
    String name;
    @Option(names = "--os-id", paramLabel = "ID", description = "ID= of the host os-release it extends, or _any (required: systemd "
            + "matches ID= before it compares VERSION_ID= or the level).")
    String osId;
    @Option(names = "--version-id", paramLabel = "V", description = "VERSION_ID= of the host os-release it extends.")
    String versionId;
    @Option(names = {"--sysext-level", "--confext-level"}, paramLabel = "L",
            description = "SYSEXT_LEVEL= (CONFEXT_LEVEL= with --confext) the host must have.")
    String level;
    @Option(names = "--arch", paramLabel = "ARCH",
            description = "ARCHITECTURE=: x86-64, arm64 or _any; also the DDI's partition types (default x86-64).")
    String arch;
    @Option(names = "--confext", description = "A configuration extension (/etc, systemd 254+) instead of a system extension.")
    boolean confext;
    @Option(names = "--format", paramLabel = "FORMAT", description = "ddi (default) or squashfs.")
    String format = "ddi";
    @Option(names = {"--comp", "-comp"}, paramLabel = "ALG", description = "SquashFS compression: gzip (default), xz, lz4 or zstd.")
    String comp = "gzip";
    @Option(names = {"--keep-owners"}, description = "Keep the source's owners (default: every entry 0:0, as an extension of /usr "
            + "needs and mkosi does; a build user's uid would otherwise own files in the host's /usr).")
    boolean keepOwners;
    @Option(names = "--no-sign", description = "Write an unsigned image (verity, no signature).")
    boolean noSign;
    @Mixin
    KeyOptions keys;
    @Mixin
    SourceDateEpochOption sourceDateEpoch;
    @Mixin
    ThreadsOption threads;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        out = outputFile.require(spec);
        SysextRequest.Builder b;
        try {
            b = SysextRequest.builder(source, out, release()).format(format()).compression(compression()).allRoot(!keepOwners)
                    .sourceDateEpoch(sourceDateEpoch.instant(spec.commandLine()).map(Instant::getEpochSecond).orElse(0L))
                    .threads(threads.threads());
            b.build(); // the request's own checks (OUT's name) before a key is loaded
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        if (noSign && keys.present()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--no-sign and key options contradict each other");
        }
        if (!noSign && !keys.present()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "the root hash is signed with a key: give --key and --cert"
                    + " (or --pkcs12, or --pkcs11-module), or --no-sign for an unsigned image");
        }
        if (!noSign) {
            KeyMaterial km = keys.load(spec.commandLine().getErr());
            b.key(km);
        }
        SysextResult r = SysextBuilder.build(b.build());
        for (String w : r.warnings()) {
            spec.commandLine().getErr().println("cairn: warning: " + w);
        }
        print(r);
        return 0;
    }

    private ExtensionRelease release() {
        boolean confextLevel = spec.commandLine().getParseResult().expandedArgs().stream().anyMatch(a -> a.equals("--confext-level")
                || a.startsWith("--confext-level="));
        if (confextLevel && !confext) {
            throw new IllegalArgumentException("--confext-level is for --confext images (a sysext has --sysext-level)");
        }
        if (osId == null) {
            throw new IllegalArgumentException(missingOsId(level != null, confext));
        }
        ExtensionRelease.Architecture a = arch == null ? null : ExtensionRelease.Architecture.of(arch);
        return new ExtensionRelease(confext ? ExtensionRelease.Kind.CONFEXT : ExtensionRelease.Kind.SYSEXT, name, osId, versionId,
                level, a);
    }

    /**
     * Why {@code --os-id} cannot be left out, even with only a level: systemd (252 and later,
     * {@code extension_release_validate}) refuses an extension-release without {@code ID=}, and
     * compares the level only after {@code ID=} equals the host's; {@code ID=_any} matches every
     * host without looking at the level at all. No default would keep what the level means.
     */
    static String missingOsId(boolean withLevel, boolean confext) {
        String levelOption = confext ? "--confext-level" : "--sysext-level";
        if (withLevel) {
            return levelOption + " needs --os-id too: systemd refuses an extension-release without ID= and compares "
                    + (confext ? "CONFEXT_LEVEL=" : "SYSEXT_LEVEL=") + " only once ID= equals the host's os-release ID (ID=_any "
                    + "matches every host and ignores the level); give --os-id with the host's ID (e.g. debian)";
        }
        return "--os-id is required: the host's os-release ID (e.g. debian) with --version-id or " + levelOption
                + ", or _any for an extension that fits every host";
    }

    private SysextRequest.Format format() {
        return switch (format.toLowerCase(Locale.ROOT)) {
            case "ddi" -> SysextRequest.Format.DDI;
            case "squashfs" -> SysextRequest.Format.SQUASHFS;
            default -> throw new IllegalArgumentException("--format must be ddi or squashfs, not '" + format + "'");
        };
    }

    private Compression compression() throws IllegalArgumentException {
        try {
            Compression c = Compression.parse(comp.toLowerCase(Locale.ROOT));
            if (c != Compression.GZIP && c != Compression.XZ && c != Compression.LZ4 && c != Compression.ZSTD) {
                throw new IllegalArgumentException();
            }
            return c;
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--comp must be gzip, xz, lz4 or zstd, not '" + comp + "'");
        }
    }

    private void print(SysextResult r) {
        PrintWriter o = spec.commandLine().getOut();
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("image", r.output().toString());
            m.put("kind", r.release().kind().label());
            m.put("format", r.format().name().toLowerCase(Locale.ROOT));
            m.put("name", r.release().name());
            Map<String, Object> rel = new LinkedHashMap<>();
            rel.put("path", "/" + r.release().path());
            rel.put("content", r.release().content());
            m.put("extensionRelease", rel);
            m.put("rootHash", r.rootHash());
            m.put("signed", r.signed());
            m.put("size", r.size());
            m.put("sha256", r.sha256());
            m.put("squashfsSize", r.squashfsSize());
            if (r.diskGuid() != null) {
                m.put("diskGuid", r.diskGuid().toString());
            }
            List<Map<String, Object>> parts = new ArrayList<>();
            for (WrittenPartition p : r.partitions()) {
                Map<String, Object> x = new LinkedHashMap<>();
                x.put("number", p.number());
                x.put("designator", p.designator());
                x.put("type", p.type().toString());
                x.put("uuid", p.uuid().toString());
                x.put("label", p.label());
                x.put("attributes", p.attributesHex());
                x.put("offset", p.offset());
                x.put("size", p.size());
                x.put("sha256", p.sha256());
                parts.add(x);
            }
            if (!parts.isEmpty()) {
                m.put("partitions", parts);
            }
            if (!r.sidecars().isEmpty()) {
                m.put("sidecars", r.sidecars().stream().map(Path::toString).toList());
            }
            m.put("warnings", r.warnings());
            JsonOption.print(o, m);
        } else {
            o.printf(Locale.ROOT, "%s: %s %s, %d bytes, sha256:%s%n", r.output(), r.release().kind().label(),
                    r.format() == SysextRequest.Format.DDI ? "DDI" : "SquashFS", r.size(), r.sha256());
            o.printf(Locale.ROOT, "  /%s: %s%n", r.release().path(), r.release().content().strip().replace("\n", " "));
            o.printf(Locale.ROOT, "  root hash %s (%s)%n", r.rootHash(), r.signed() ? "signed" : "not signed");
            for (WrittenPartition p : r.partitions()) {
                o.printf(Locale.ROOT, "  %d %-24s %-36s %12d %12d%n", p.number(), p.designator(), p.uuid(), p.offset(), p.size());
            }
            for (Path s : r.sidecars()) {
                o.printf(Locale.ROOT, "  sidecar %s%n", s);
            }
        }
        o.flush();
    }
}
