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

    /**
     * A subcommand made by its no-argument constructor through reflection, which picocli has set
     * up by then anyway: unlike a constructor reference, no call site for a fresh JVM to link
     * (some 0.6 ms each, and a group listed all of its subcommands to run one).
     */
    public static Supplier<Object> make(Class<?> type) {
        return new Made(type);
    }

    private static final class Made implements Supplier<Object> {
        private final Class<?> type;

        Made(Class<?> type) {
            this.type = type;
        }

        @Override
        public Object get() {
            try {
                java.lang.reflect.Constructor<?> c = type.getDeclaredConstructor();
                c.setAccessible(true);
                return c.newInstance();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot make the command " + type.getName() + ": " + e, e);
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
        CommandLine cl = new CommandLine(new Main());
        addSubcommands(cl, Subcommands.ALL, args, 0);
        return configure(cl, out, err, 0);
    }

    /**
     * A leaf command that {@code args} name by its path from the top ({@code verity format ...},
     * no option before the last word of the path), made alone: no picocli model of {@code cairn}
     * or of the groups above it, only the leaf's own (a third of a small command's start-up, see
     * bench/startup.sh). Its name is the whole path, so that its usage and error messages read as
     * the full tree's, and it gets what it would inherit there: {@code --stacktrace} and the
     * version provider. Null when {@code args} name no leaf (a group, {@code help}, an unknown or
     * misspelt command, an option first): then the tree handles them. DispatchTest checks that
     * each command prints and does the same either way.
     */
    static Leaf leaf(String[] args) {
        Map<String, Supplier<Object>> subs = Subcommands.ALL;
        String name = "cairn";
        for (int i = 0; i < args.length; i++) {
            String word = args[i];
            Supplier<Object> factory = word.equals("help") ? null : subs.get(word);
            if (factory == null) {
                return null;
            }
            Object command = factory.get();
            name = name.concat(" ").concat(word);
            if (command instanceof LazySubcommands group) {
                subs = group.subcommands();
                continue;
            }
            if (command instanceof CommandLine.HelpCommand) {
                return null;
            }
            CommandLine cl = new CommandLine(command);
            CommandLine.Model.CommandSpec spec = cl.getCommandSpec();
            spec.name(name);
            if (spec.optionsMap().get("--stacktrace") != null) {
                return null; // a leaf with its own: the tree's rules decide
            }
            spec.addOption(stacktraceOption());
            return new Leaf(cl, java.util.Arrays.copyOfRange(args, i + 1, args.length));
        }
        return null;
    }

    /**
     * Gives every command without a version of its own cairn's: picocli does not pass it down, and
     * {@code cairn verity format --version} printed an empty line.
     */
    private static void versionEverywhere(CommandLine cl, Version version) {
        CommandLine.Model.CommandSpec spec = cl.getCommandSpec();
        if (spec.versionProvider() == null && spec.version().length == 0) {
            spec.versionProvider(version);
        }
        for (CommandLine sub : cl.getSubcommands().values()) {
            versionEverywhere(sub, version);
        }
    }

    /** A leaf command line and the arguments it parses (those after its path). */
    record Leaf(CommandLine commandLine, String[] args) {
    }

    /**
     * The option {@code --stacktrace} as the leaf would inherit it from {@code cairn} in the full
     * tree (what the annotated {@link #stacktrace} method declares; DispatchTest compares the help).
     */
    private static CommandLine.Model.OptionSpec stacktraceOption() {
        return CommandLine.Model.OptionSpec.builder("--stacktrace")
                .description("Print the full stack trace of an error (for bug reports).")
                .type(boolean.class)
                .arity("0")
                .scopeType(CommandLine.ScopeType.INHERIT)
                .inherited(true)
                .setter(new CommandLine.Model.ISetter() {
                    @Override
                    public <T> T set(T value) {
                        STACKTRACE.get()[0] = Boolean.TRUE.equals(value);
                        return null;
                    }
                })
                .build();
    }

    private static CommandLine configure(CommandLine cl, PrintWriter out, PrintWriter err, int argumentOffset) {
        configure(cl, out, err, exceptionMapper(argumentOffset));
        return cl;
    }

    /**
     * The exception handler of a command run on this thread ({@code --stacktrace} off until
     * {@link #requestStacktrace}), for {@link #configure(CommandLine, PrintWriter, PrintWriter, ExceptionMapper)}.
     */
    static ExceptionMapper exceptionMapper(int argumentOffset) {
        boolean[] trace = STACKTRACE.get();
        trace[0] = false;
        return new ExceptionMapper(trace, argumentOffset);
    }

    /** Sets up a command line (picocli's, or the stand-in of {@link FastPath}), on any thread, with {@code mapper}. */
    static void configure(CommandLine cl, PrintWriter out, PrintWriter err, ExceptionMapper mapper) {
        versionEverywhere(cl, new Version());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(mapper);
        cl.setParameterExceptionHandler(mapper);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setUsageHelpAutoWidth(false);
        // "@FILE" is a value (ukify's --cmdline @file), never a picocli argument file.
        cl.setExpandAtFiles(false);
    }

    /** What {@code --stacktrace} does on the fast path. */
    static void requestStacktrace() {
        STACKTRACE.get()[0] = true;
    }

    /** Types picocli registers no built-in converter for (a regular expression over class names). */
    static final String EXCLUDED_CONVERTERS = "java\\.(time|sql)\\..*";

    /** Runs cairn and returns its exit code; never exits the JVM. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        // picocli's default factory looks for Groovy's groovy.lang.Closure (annotations may hold
        // closures) when it first loads, unless told not to: a class that is not there, so the
        // class loader opens every jar of lib/ in turn, Bouncy Castle's large central directories
        // included, to learn that (26 jars: 15-40 ms of each small command, bench/startup.sh).
        if (System.getProperty("picocli.disable.closures") == null) {
            System.setProperty("picocli.disable.closures", "true");
        }
        // Nor does it register its converters for java.time and java.sql types, which no cairn
        // option has (CommandTreeTest): each of those loads and initialises its class by
        // reflection (LocalDate, Duration, Timestamp, ... with their formatters), on every run.
        if (System.getProperty("picocli.converters.excludes") == null) {
            System.setProperty("picocli.converters.excludes", EXCLUDED_CONVERTERS);
        }
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
            Integer fast = FastPath.run(out, err, args);
            if (fast != null) {
                return fast;
            }
            Leaf leaf = leaf(args);
            if (leaf != null) {
                return configure(leaf.commandLine(), out, err, args.length - leaf.args().length).execute(leaf.args());
            }
            return commandLine(out, err, args).execute(args);
        } finally {
            dev.cairn.cli.oci.RegistryOptions.closeClients();
            out.flush();
            err.flush();
        }
    }

    /**
     * The JDK looks up {@code System.getLogger("jdk.event.security")} the first time it parses a
     * certificate (sun.security.util.EventHelper), and finding the LoggerFinder service opens every
     * jar of lib/ (about 20 ms). A command given a key or certificate file starts that lookup on a
     * second thread while picocli builds its model, instead of paying it later on the main thread.
     */
    static void prewarmSecurityLogger(String[] args) {
        for (String a : args) {
            if (a.startsWith("--key") || a.startsWith("--cert") || a.startsWith("--ca") || a.startsWith("--secureboot-")
                    || a.startsWith("--pcr-private-key") || a.startsWith("--pkcs")) {
                Thread t = new Thread(() -> System.getLogger("jdk.event.security"), "cairn-prewarm");
                t.setDaemon(true);
                t.start();
                return;
            }
        }
    }

    public static void main(String[] args) {
        prewarmSecurityLogger(args);
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = run(out, err, args);
        if (Boolean.getBoolean("cairn.cds.training")) {
            CdsTraining.run();
        }
        System.exit(code);
    }
}
