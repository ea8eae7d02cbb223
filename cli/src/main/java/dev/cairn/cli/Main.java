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

    private static final ThreadLocal<boolean[]> STACKTRACE = ThreadLocal.withInitial(() -> new boolean[1]);

    /** Whether --stacktrace was given (for errors reported without ending the command: batches). */
    static boolean stacktraceRequested() {
        return STACKTRACE.get()[0];
    }

    /** Top-level subcommands, in help order. */
    static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

    private static Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("build", dev.cairn.cli.build.BuildCommand::new);
        m.put("verify", dev.cairn.cli.sign.VerifyCommand::new);
        m.put("verity", VerityCommand::new);
        m.put("squashfs", dev.cairn.cli.squashfs.SquashfsCommand::new);
        m.put("uki", dev.cairn.cli.uki.UkiCommand::new);
        m.put("initrd", dev.cairn.cli.initrd.InitrdCommand::new);
        m.put("sign", dev.cairn.cli.sign.SignCommand::new);
        m.put("keys", dev.cairn.cli.keys.KeysCommand::new);
        m.put("ipe", dev.cairn.cli.ipe.IpeCommand::new);
        m.put("ima", dev.cairn.cli.ima.ImaCommand::new);
        m.put("oci", dev.cairn.cli.oci.OciCommand::new);
        m.put("disk", dev.cairn.cli.disk.DiskCommand::new);
        m.put("sysext", dev.cairn.cli.sysext.SysextCommand::new);
        m.put("boot", dev.cairn.cli.boot.BootCommand::new);
        m.put("help", CommandLine.HelpCommand::new);
        return m;
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
        addSubcommands(cl, SUBCOMMANDS, args, 0);
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
