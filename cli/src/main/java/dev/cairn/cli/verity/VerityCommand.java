package dev.cairn.cli.verity;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.signing.KeyMaterial;
import dev.cairn.signing.RootHashSignature;
import dev.cairn.cli.Main;
import dev.cairn.cli.Outputs;
import dev.cairn.cli.Progress;
import dev.cairn.cli.ThreadsOption;
import dev.cairn.io.AtomicOutputGroup;
import dev.cairn.verity.RepairResult;
import dev.cairn.verity.VerifyResult;
import dev.cairn.verity.VerityFormatter;
import dev.cairn.verity.VerityParams;
import dev.cairn.verity.VerityResult;
import dev.cairn.verity.VeritySuperblock;
import dev.cairn.verity.VerityTable;
import dev.cairn.verity.VerityVerifier;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn verity}: dm-verity hash trees, as veritysetup. */
@Command(name = "verity", mixinStandardHelpOptions = true,
        description = "dm-verity hash trees, byte-identical to veritysetup.")
public final class VerityCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("format", Main.make(Format.class));
        m.put("verify", Main.make(Verify.class));
        m.put("repair", Main.make(Repair.class));
        m.put("dump", Main.make(Dump.class));
        m.put("table", Main.make(Table.class));
        m.put("sign", Main.make(Sign.class));
        return m;
    }

    static long dataSize(Path data) throws IOException {
        return Files.size(data);
    }

    @Command(name = "format", mixinStandardHelpOptions = true,
            description = "Build the hash tree of DATA into HASH (like veritysetup format).")
    static final class Format implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "DATA", description = "Data file or device.")
        Path data;
        @Parameters(index = "1", paramLabel = "HASH", description = "Hash file (may be DATA with --hash-offset).")
        Path hash;
        @Option(names = "--root-hash-file", paramLabel = "FILE", description = "Also write the root hash (hex, no newline) to FILE.")
        Path rootHashFile;
        @Mixin
        VerityOptions options;
        @Mixin
        ThreadsOption threads;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            VerityParams p = options.forFormat();
            PrintWriter out = spec.commandLine().getOut();
            VerityResult r;
            try (AtomicOutputGroup outputs = new AtomicOutputGroup()) {
                try (Progress progress = Progress.start(spec.commandLine().getErr(), "hashing", dataSize(data), json.enabled())) {
                    r = VerityFormatter.format(data, hash, p, threads.threads(), progress::advance, outputs);
                }
                if (rootHashFile != null) {
                    Outputs.write(outputs, rootHashFile, r.rootHashHex().getBytes(StandardCharsets.US_ASCII));
                }
                Outputs.commit(outputs);
            }
            if (json.enabled()) {
                VerityReport.printJson(out, VerityReport.json(r));
            } else {
                VerityReport.formatText(out, hash.toString(), r);
            }
            return 0;
        }
    }

    /** Geometry for verify-like commands: the superblock's (checked against explicit options) or the options'. */
    static VerityParams verifyParams(VerityOptions options, Path hash) throws IOException {
        VerityParams p = options.forVerify();
        if (p.superblock()) {
            VerityParams sb = VerityVerifier.effectiveParams(hash, p);
            options.checkAgainst(sb);
            return sb;
        }
        return p;
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Check DATA and HASH against the root hash (like veritysetup verify).",
                    "Exit 0 when intact, 1 naming the first corrupted block."})
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        TreeInputs in;
        @Mixin
        VerityOptions options;
        @Mixin
        ThreadsOption threads;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            byte[] rootHash = in.rootHash();
            VerityParams p = verifyParams(options, in.hash);
            VerifyResult r;
            try (Progress progress = Progress.start(spec.commandLine().getErr(), "verifying", dataSize(in.data), json.enabled())) {
                r = VerityVerifier.verify(in.data, in.hash, p, rootHash, threads.threads(), progress::advance);
            }
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("intact", r instanceof VerifyResult.Intact);
                if (r instanceof VerifyResult.Corrupted c) {
                    m.put("kind", c.kind());
                    m.put("block", c.block());
                    m.put("offset", c.fileOffset());
                }
                if (p.fec() != null) {
                    m.put("fecRepairableErrors", fecErrors(r));
                }
                VerityReport.printJson(out, m);
            }
            if (p.fec() != null && fecErrors(r) > 0 && !json.enabled()) {
                out.println("Found " + fecErrors(r) + " repairable errors with FEC device.");
            }
            if (r instanceof VerifyResult.Corrupted c) {
                String fec = c.fecRepairableErrors() < 0 ? ""
                        : c.fecCanRepair() ? " (FEC can repair it: cairn verity repair)" : " (more damage than FEC can repair)";
                spec.commandLine().getErr().println("cairn: verification failed: " + c.describe() + fec);
                return ExitCode.VERIFICATION_FAILED.code();
            }
            return 0;
        }

        private static long fecErrors(VerifyResult r) {
            return r instanceof VerifyResult.Corrupted c ? c.fecRepairableErrors()
                    : ((VerifyResult.Intact) r).fecRepairableErrors();
        }
    }

    @Command(name = "repair", mixinStandardHelpOptions = true,
            description = "Write corrected copies of DATA (and HASH) using the FEC parity; the inputs are not modified.")
    static final class Repair implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        TreeInputs in;
        @Mixin
        VerityOptions options;
        @Option(names = "--output-data", required = true, paramLabel = "FILE", description = "Where to write the repaired data.")
        Path outputData;
        @Option(names = "--output-hash", paramLabel = "FILE", description = "Where to write the repaired hash file.")
        Path outputHash;
        @Mixin
        ThreadsOption threads;

        @Override
        public Integer call() throws IOException {
            if (options.fecDevice == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "repair needs --fec-device");
            }
            byte[] rootHash = in.rootHash();
            VerityParams p = verifyParams(options, in.hash);
            RepairResult r = VerityVerifier.repair(in.data, in.hash, p, rootHash, outputData, outputHash, threads.threads());
            PrintWriter out = spec.commandLine().getOut();
            out.println("Repaired " + r.bytesCorrected() + " bytes in " + r.blocksRepaired() + " blocks.");
            if (r.after() instanceof VerifyResult.Corrupted c) {
                throw new CairnException(ExitCode.VERIFICATION_FAILED,
                        "repair was not enough: " + c.describe() + "; nothing was written");
            }
            return 0;
        }
    }

    @Command(name = "sign", mixinStandardHelpOptions = true,
            description = {"Sign a root hash for the kernel (veritysetup open --root-hash-signature).",
                    "A detached DER PKCS#7 over the lower-case hex root hash, no signed attributes; optionally also",
                    "systemd's verity-sig JSON."})
    static final class Sign implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", arity = "0..1", paramLabel = "ROOT_HASH", description = "Root hash as hex (or use --root-hash-file).")
        String rootHashArg;
        @Mixin
        RootHashInput root;
        @Option(names = {"--output", "-o", "--out"}, required = true, paramLabel = "FILE", description = "Where to write the DER PKCS#7 signature.")
        Path out;
        @Option(names = "--systemd-json", paramLabel = "FILE", description = "Also write systemd's verity-sig JSON here.")
        Path systemdJson;
        @Option(names = "--nocerts", description = "Do not embed the signer certificate.")
        boolean nocerts;
        @Mixin
        KeyOptions keys;

        @Override
        public Integer call() throws IOException {
            String hex = java.util.HexFormat.of().formatHex(root.read(rootHashArg));
            KeyMaterial km = keys.load(spec.commandLine().getErr());
            byte[] sig = RootHashSignature.sign(hex, km, !nocerts);
            try (AtomicOutputGroup outputs = new AtomicOutputGroup()) {
                Outputs.write(outputs, out, sig);
                if (systemdJson != null) {
                    Outputs.write(outputs, systemdJson, RootHashSignature.systemdJson(hex, sig, km).getBytes(StandardCharsets.US_ASCII));
                }
                Outputs.commit(outputs);
            }
            return 0;
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            description = "Show the verity superblock of HASH (like veritysetup dump).")
    static final class Dump implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "HASH")
        Path hash;
        @Option(names = "--hash-offset", paramLabel = "BYTES", description = "Offset of the superblock (default 0).")
        long hashOffset;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            if (hashOffset < 0 || hashOffset % 512 != 0) {
                throw new IllegalArgumentException("--hash-offset must be a non-negative multiple of 512, not " + hashOffset);
            }
            VeritySuperblock sb = VeritySuperblock.read(hash, hashOffset);
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
                VerityReport.printJson(out, VerityReport.dumpJson(sb));
            } else {
                VerityReport.dumpText(out, hash.toString(), sb);
            }
            return 0;
        }
    }

    @Command(name = "table", mixinStandardHelpOptions = true,
            description = {"Print how to activate the tree: dm-verity table, veritysetup and kernel arguments.",
                    "The dm-verity table line, the veritysetup open arguments and the kernel command-line parameters",
                    "(systemd-veritysetup-generator)."})
    static final class Table implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        TreeInputs in;
        @Mixin
        VerityOptions options;
        @Option(names = "--data-device", paramLabel = "DEV", description = "Data device name for the kernel (default: DATA).")
        String dataDevice;
        @Option(names = "--hash-device", paramLabel = "DEV", description = "Hash device name for the kernel (default: HASH).")
        String hashDevice;
        @Option(names = "--name", paramLabel = "NAME", defaultValue = "root", description = "Mapping name (default: ${DEFAULT-VALUE}).")
        String name;
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            byte[] rootHash = in.rootHash();
            VerityParams p = verifyParams(options, in.hash);
            long blocks = p.dataBlocks() == -1 ? dataSize(in.data) / p.dataBlockSize() : p.dataBlocks();
            VerityResult r = VerityFormatter.describe(p, blocks, rootHash);
            String dd = dataDevice == null ? in.data.toString() : dataDevice;
            String hd = hashDevice == null ? in.hash.toString() : hashDevice;
            String fd = p.fec() == null ? null : p.fec().device().toString();
            String table = "0 " + blocks * (p.dataBlockSize() / 512) + " verity " + VerityTable.dmTable(r, dd, hd, fd);
            String open = "veritysetup " + String.join(" ", VerityTable.veritysetupOpenArgs(r, dd, name, hd, fd));
            String cmdline = VerityTable.kernelCommandLine(r, dd, hd, fd);
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("dmTable", table);
                m.put("veritysetupOpen", VerityTable.veritysetupOpenArgs(r, dd, name, hd, fd));
                m.put("kernelCommandLine", cmdline);
                VerityReport.printJson(out, m);
            } else {
                out.println("dm table:      " + table);
                out.println("veritysetup:   " + open);
                out.println("kernel cmdline: " + cmdline);
            }
            return 0;
        }
    }
}
