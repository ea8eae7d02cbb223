package dev.cairn.cli;

import dev.cairn.cli.verity.VerityCommand;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code cairn} command. */
@Command(name = "cairn", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Build and verify verified-boot images: dm-verity, SquashFS, UKI, signatures, OCI.",
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success", "  1  verification failed", "  2  usage error",
                "  3  bad input (missing, unreadable or malformed file or value)", "  4  key or signing error",
                "  5  registry or network error", "  6  I/O error writing outputs"})
public final class Main extends CommandGroup {
    @Option(names = "--stacktrace", scope = CommandLine.ScopeType.INHERIT,
            description = "Print the full stack trace of an error (for bug reports).")
    void stacktrace(boolean on) {
        STACKTRACE.get()[0] = on;
    }

    // (An anonymous class, not a lambda: the fast paths in run() link no call site at all, and
    // the first lambda of a JVM costs milliseconds of method-handle set-up.)
    private static final ThreadLocal<boolean[]> STACKTRACE = new ThreadLocal<>() {
        @Override
        protected boolean[] initialValue() {
            return new boolean[1];
        }
    };

    /** Whether --stacktrace was given (for errors reported without ending the command: batches). */
    static boolean stacktraceRequested() {
        return STACKTRACE.get()[0];
    }

    /** Top-level subcommands, in help order (a holder: made when a command line is built). */
    static final class Subcommands {
        static final Map<String, Supplier<Object>> ALL = subcommands();

        private Subcommands() {
        }
    }

    /** Help order: the whole-set commands first (build, then verify), then the format groups. */
    private static final String[] NAMES = {"build", "verify", "verity", "squashfs", "uki", "initrd", "sign", "keys", "ipe", "ima",
        "pcr", "tpm", "oci", "disk", "sysext", "boot", "help"};

    private static Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        for (String name : NAMES) {
            m.put(name, new Factory(name));
        }
        return m;
    }

    /**
     * Makes one top-level command. A class and a switch rather than fifteen constructor
     * references: each method reference is a call site that a fresh JVM links through method
     * handles before its first use, about half a millisecond each, on every run of cairn.
     */
    private static final class Factory implements Supplier<Object> {
        private final String name;

        Factory(String name) {
            this.name = name;
        }

        @Override
        public Object get() {
            switch (name) {
                case "verity": return new VerityCommand();
                case "squashfs": return new dev.cairn.cli.squashfs.SquashfsCommand();
                case "uki": return new dev.cairn.cli.uki.UkiCommand();
                case "initrd": return new dev.cairn.cli.initrd.InitrdCommand();
                case "sign": return new dev.cairn.cli.sign.SignCommand();
                case "verify": return new dev.cairn.cli.sign.VerifyCommand();
                case "keys": return new dev.cairn.cli.keys.KeysCommand();
                case "ipe": return new dev.cairn.cli.ipe.IpeCommand();
                case "ima": return new dev.cairn.cli.ima.ImaCommand();
                case "pcr": return new dev.cairn.cli.pcr.PcrCommand();
                case "tpm": return new dev.cairn.cli.tpm.TpmCommand();
                case "oci": return new dev.cairn.cli.oci.OciCommand();
                case "build": return new dev.cairn.cli.build.BuildCommand();
                case "disk": return new dev.cairn.cli.disk.DiskCommand();
                case "sysext": return new dev.cairn.cli.sysext.SysextCommand();
                case "boot": return new dev.cairn.cli.boot.BootCommand();
                case "help": return new CommandLine.HelpCommand();
                default: throw new IllegalArgumentException(name);
            }
        }
    }

    /**
     * Adds to {@code parent} only the subcommand that {@code args} names at {@code depth} (and,
     * recursively, its own), or all of them when none is named (help, suggestions, completion).
     * Building picocli's model for every command costs more than a small run of cairn itself.
     */
    public static void addSubcommands(CommandLine parent, Map<String, Supplier<Object>> subs, String[] args, int depth) {
        String named = null;
        int seen = 0;
        for (String a : args) {
            if (a.startsWith("-")) {
                continue;
            }
            if (seen++ == depth) {
                named = a;
                break;
            }
        }
        boolean all = named == null || !subs.containsKey(named) || named.equals("help");
        for (Map.Entry<String, Supplier<Object>> e : subs.entrySet()) {
            if (all || e.getKey().equals(named)) {
                Object command = e.getValue().get();
                CommandLine sub = new CommandLine(command);
                if (command instanceof LazySubcommands lazy) {
                    addSubcommands(sub, lazy.subcommands(), all ? new String[0] : args, depth + 1);
                }
                parent.addSubcommand(e.getKey(), sub);
            }
        }
    }

    /** A command group whose subcommands are registered lazily by {@link #addSubcommands}. */
    public interface LazySubcommands {
        Map<String, Supplier<Object>> subcommands();
    }

    /** The full command line (used by tests and the man page/completion generators). */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        return commandLine(out, err, new String[0]);
    }

    /** The command line with just the commands {@code args} need (all when they name none). */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err, String[] args) {
        boolean[] trace = STACKTRACE.get();
        trace[0] = false;
        ExceptionMapper mapper = new ExceptionMapper(trace);
        CommandLine cl = new CommandLine(new Main());
        addSubcommands(cl, Subcommands.ALL, args, 0);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(mapper);
        cl.setParameterExceptionHandler(mapper);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpAutoWidth(false);
        // "@FILE" is a value (ukify's --cmdline @file), never a picocli argument file.
        cl.setExpandAtFiles(false);
        return cl;
    }

    /** Runs cairn and returns its exit code; never exits the JVM. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        try {
            if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
                // What picocli prints for the standard --version option, without building the
                // command tree for it (half a second of start-up, measured: bench/startup.sh).
                // MainTest checks that both print the same.
                for (String line : new Version().getVersion()) {
                    out.println(line);
                }
                return 0;
            }
            return commandLine(out, err, args).execute(args);
        } finally {
            dev.cairn.cli.oci.RegistryOptions.closeClients();
            out.flush();
            err.flush();
        }
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = run(out, err, args);
        if (Boolean.getBoolean("cairn.cds.training")) {
            CdsTraining.run();
        }
        System.exit(code);
    }
}
