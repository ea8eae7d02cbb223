package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * {@link FastPath} sets up a command exactly as picocli does, or leaves the command line to picocli:
 * command lines generated from the table are parsed both ways and every field of the command and
 * of its mixins compared; command lines picocli treats specially must not be taken.
 */
class FastPathTest {
    /** The table of the build (FastPathModel writes its class in process-classes). */
    static String table() {
        String text = FastPath.table();
        assertThat(text).as("FastPathTable on the class path (mvn process-classes writes it)").isNotNull();
        return text;
    }

    /** One table entry: its path and lines. */
    record Command(String path, List<String[]> lines) {
        @Override
        public String toString() {
            return path;
        }

        List<String[]> kind(String kind) {
            return lines.stream().filter(l -> l[0].equals(kind)).toList();
        }
    }

    static Stream<Command> commands() throws IOException {
        List<Command> all = new ArrayList<>();
        Command current = null;
        for (String line : table().split("\n")) {
            String[] f = line.split("\t");
            if (f[0].equals("cmd")) {
                current = new Command(f[1], new ArrayList<>());
                all.add(current);
            } else if (current != null && !f[0].equals("end") && !line.startsWith("#")) {
                current.lines().add(f);
            }
        }
        return all.stream();
    }

    @Test
    void theTableIsTheModelsOfThisBuild() throws IOException {
        assertThat(table()).isEqualTo(FastPathModel.describe());
    }

    @Test
    void theSmallAndBatchCommandsAreInTheTable() throws IOException {
        assertThat(commands().map(Command::path)).contains("verity format", "verity verify", "uki build", "uki inspect",
                "uki measure", "sign module", "sign pe", "verify pe", "ima sign", "squashfs create", "oci push", "build", "verify cms");
        assertThat(commands().map(Command::path)).doesNotContain("tpm policy", "sysext create", "help");
    }

    /**
     * The stand-in {@code @Spec} of the fast path has a name, output streams and exception handlers,
     * no model: a command in the table must not read picocli's model or parse result (those are
     * left out by FastPathModel.EXCLUDED). Checked on the source of each command's file.
     */
    @Test
    void commandsInTheTableUseTheirSpecOnlyForOutputAndUsageErrors() throws IOException {
        for (String line : table().split("\n")) {
            String[] f = line.split("\t");
            if (!f[0].equals("cmd")) {
                continue;
            }
            String outer = f[2].replaceAll("\\$.*", "");
            Path source = Path.of("src/main/java", outer.replace('.', '/') + ".java");
            assertThat(source).as("source of %s", f[1]).exists();
            String text = Files.readString(source);
            for (String forbidden : List.of("getParseResult", "spec.options()", "spec.positionalParameters()", "spec.subcommands()",
                    "spec.findOption", "spec.mixins()", ".usage(", "spec.parent()", "spec.root()", "@ParentCommand")) {
                assertThat(text).as("%s (%s) uses %s", f[1], source, forbidden).doesNotContain(forbidden);
            }
        }
    }

    /**
     * A {@link LazySpec} command starts before its spec exists on the fast path: its source reads
     * the spec only through {@code LazySpec.of(spec)}, and it has no option setter that could
     * use it while its options are set.
     */
    @Test
    void lazySpecCommandsReadTheirSpecOnlyThroughLazySpecOf() throws Exception {
        int lazy = 0;
        for (String line : table().split("\n")) {
            String[] f = line.split("\t");
            if (!f[0].equals("cmd") || !LazySpec.class.isAssignableFrom(Class.forName(f[2]))) {
                continue;
            }
            lazy++;
            String outer = f[2].replaceAll("\\$.*", "");
            String text = Files.readString(Path.of("src/main/java", outer.replace('.', '/') + ".java"));
            String rest = text.replace("LazySpec.of(spec)", "").replaceAll("@Spec\\s+CommandLine\\.Model\\.CommandSpec spec;", "");
            assertThat(rest).as("%s reads its spec only through LazySpec.of(spec)", f[1]).doesNotContainPattern("\\bspec\\b");
            for (java.lang.reflect.Method m : Class.forName(f[2]).getDeclaredMethods()) {
                assertThat(m.isAnnotationPresent(CommandLine.Option.class) || m.isAnnotationPresent(CommandLine.Parameters.class))
                        .as("%s has the option setter %s", f[1], m.getName()).isFalse();
            }
        }
        assertThat(lazy).as("commands in the table that are LazySpec").isPositive();
    }

    /** A LazySpec command run by the fast path: it prints through the stand-in it asked for, and its errors are reported as picocli's would be. */
    @Test
    void aLazySpecCommandPrintsAndFailsThroughItsLateCommandLine(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        java.io.StringWriter out = new java.io.StringWriter();
        java.io.StringWriter err = new java.io.StringWriter();
        Path missing = dir.resolve("missing.efi");
        Integer code = FastPath.run(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true),
                new String[] {"uki", "inspect", missing.toString()});
        assertThat(code).isNotNull().isNotZero();
        assertThat(err.toString()).contains("missing.efi");
        assertThat(LazySpec.PENDING.get()).isNull();
        Path pe = Files.write(dir.resolve("stub.efi"), dev.cairn.testing.TinyPe.stub(UkiCommandTest.SBAT, "257.1"));
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        code = FastPath.run(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true),
                new String[] {"uki", "inspect", "--json", pe.toString()});
        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString()).contains("\"sections\"");
        assertThat(LazySpec.PENDING.get()).isNull();
        assertThatThrownBy(() -> LazySpec.of(null)).isInstanceOf(IllegalStateException.class);
    }

    /** A value picocli and the fast path both convert, different for each use. */
    private static String sample(String type, int n) {
        return switch (type) {
            case "String" -> "v" + n;
            case "Path", "File" -> "dir" + n + "/file";
            case "int", "Integer", "long", "Long" -> String.valueOf(7 + n);
            default -> {
                assertThat(type).startsWith("enum:");
                try {
                    Object[] constants = Class.forName(type.substring(5)).getEnumConstants();
                    yield ((Enum<?>) constants[n % constants.length]).name();
                } catch (ClassNotFoundException e) {
                    throw new AssertionError(e);
                }
            }
        };
    }

    /** Positional parameters and required options, and {@code extra} after them. */
    private static List<String> minimal(Command c, List<String> extra) {
        List<String> args = new ArrayList<>(Arrays.asList(c.path().split(" ")));
        int n = 0;
        for (String[] o : c.kind("opt")) {
            if (o[5].equals("required")) {
                args.add(o[1].split(",")[0]);
                args.add(sample(o[3], n++));
            }
        }
        args.addAll(extra);
        for (String[] p : c.kind("pos")) {
            if (p[2].equals("*")) {
                args.add(sample(p[4], n++));
                args.add(sample(p[4], n++));
            } else {
                args.add(sample(p[4], n++));
            }
        }
        return args;
    }

    /** Every option of the table given once (lists twice), by each of its names in turn. */
    private static List<List<String>> commandLines(Command c) {
        List<List<String>> lines = new ArrayList<>();
        lines.add(minimal(c, List.of()));
        for (int variant = 0; variant < 3; variant++) {
            List<String> extra = new ArrayList<>();
            int n = 10 * variant;
            for (String[] o : c.kind("opt")) {
                if (o[5].equals("required") || o[4].equals("x")) {
                    continue;
                }
                String[] names = o[1].split(",");
                String name = names[variant % names.length];
                switch (o[4]) {
                    case "flag" -> {
                        if (variant != 1) {
                            extra.add(name);
                        }
                    }
                    case "one" -> {
                        if (variant == 2 && name.startsWith("--")) {
                            extra.add(name + "=" + sample(o[3], n++));
                        } else {
                            extra.add(name);
                            extra.add(sample(o[3], n++));
                        }
                    }
                    case "list" -> {
                        extra.add(name);
                        extra.add(sample(o[3], n++));
                        extra.add(name);
                        extra.add(sample(o[3], n++));
                    }
                    case "split:," -> {
                        extra.add(name);
                        extra.add(sample(o[3], n++) + "," + sample(o[3], n++));
                    }
                    default -> throw new AssertionError(o[4]);
                }
            }
            if (variant == 1) {
                extra.add("--stacktrace");
            }
            lines.add(minimal(c, extra));
        }
        // each optional positional left out in turn, from the last
        List<String[]> positionals = c.kind("pos");
        for (int drop = positionals.size() - 1; drop >= 0 && positionals.get(drop)[6].equals("optional"); drop--) {
            List<String> args = minimal(c, List.of());
            lines.add(args.subList(0, args.size() - (positionals.size() - drop)));
        }
        return lines;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void setsEveryFieldAsPicocliDoes(Command c) throws Exception {
        List<List<String>> lines = commandLines(c);
        assertThat(FastPath.prepare(lines.get(0).toArray(String[]::new))).as("fast path takes: %s", lines.get(0)).isNotNull();
        for (List<String> line : lines) {
            String[] args = line.toArray(String[]::new);
            FastPath.Prepared fast = FastPath.prepare(args);
            if (fast == null) {
                // only what picocli refuses too (initrd create: OUTPUT and --output both given)
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> picocli(args)).as("picocli refuses: %s", line)
                        .isInstanceOf(CommandLine.ParameterException.class);
                continue;
            }
            Object viaPicocli = picocli(args);
            assertThat(fast.command.getClass()).isEqualTo(viaPicocli.getClass());
            compare(fast.command, viaPicocli, "", new IdentityHashMap<>(), String.join(" ", line));
            assertThat(fast.stacktrace).isEqualTo(line.contains("--stacktrace"));
            if (fast.command instanceof LazySpec) {
                assertThat(fast.commandLine).as("a LazySpec command gets its command line when it asks").isNull();
                assertThat(fast.name).isEqualTo("cairn " + c.path());
            } else {
                assertThat(fast.commandLine.getCommandSpec().qualifiedName()).isEqualTo("cairn " + c.path());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("commands")
    void leavesToPicocliWhatItTreatsSpecially(Command c) {
        List<String> base = minimal(c, List.of());
        List<List<String>> special = new ArrayList<>();
        special.add(with(base, c, "--help"));
        special.add(with(base, c, "-h"));
        special.add(with(base, c, "--version"));
        special.add(with(base, c, "--no-such-option"));
        special.add(with(base, c, "--"));
        special.add(with(base, c, "-"));
        special.add(with(base, c, "-Z"));
        if (c.kind("pos").stream().noneMatch(p -> p[2].equals("*"))) {
            special.add(with(base, c, "surplus-parameter"));
        }
        List<String> optionFirst = new ArrayList<>(List.of("--stacktrace")); // an option before the command's path
        optionFirst.addAll(base);
        special.add(optionFirst);
        for (String[] o : c.kind("opt")) {
            String name = o[1].split(",")[0];
            switch (o[4]) {
                case "one" -> {
                    special.add(with(base, c, name, sample(o[3], 1), name, sample(o[3], 2))); // twice
                    special.add(with(base, c, name, "-x")); // a value like an option
                    special.add(with(base, c, name + "=")); // empty
                    if (!o[3].equals("String") && !o[3].equals("Path") && !o[3].equals("File")) {
                        special.add(with(base, c, name, "not-a-" + o[3].replace(':', '-'))); // does not convert
                    }
                }
                case "flag" -> {
                    special.add(with(base, c, name, name));
                    special.add(with(base, c, name + "=true"));
                }
                case "x" -> special.add(with(base, c, name, "value"));
                default -> {
                }
            }
        }
        List<String[]> positionals = c.kind("pos");
        if (!positionals.isEmpty() && positionals.get(0)[6].equals("required")) {
            special.add(Arrays.asList(c.path().split(" "))); // a required parameter missing
        }
        for (List<String> line : special) {
            assertThat(FastPath.prepare(line.toArray(String[]::new))).as("left to picocli: %s", line).isNull();
        }
    }

    @Test
    void aTableWithoutTheCommandOrWithoutAPathIsLeftToPicocli() {
        assertThat(FastPath.prepare(new String[0])).isNull();
        assertThat(FastPath.prepare(new String[] {"verity"})).isNull();
        assertThat(FastPath.prepare(new String[] {"verity", "no-such-command", "x"})).isNull();
        assertThat(FastPath.prepare(new String[] {"help", "verity"})).isNull();
        assertThat(FastPath.prepare(new String[] {"tpm", "policy", "--auth-value"})).isNull();
        assertThat(FastPath.prepare(new String[] {"--version"})).isNull();
        assertThat(FastPath.prepare(new String[] {"verity format", "a", "b"})).isNull();
        assertThat(FastPath.prepare(new String[] {"verity", "format", "a", "b"})).isNotNull();
        assertThat(FastPath.prepare(new String[] {"verity", "format", "a", "b", "--stacktrace", "--stacktrace"})).isNull();
    }

    /** A run through the fast path prints and returns what picocli's leaf prints and returns. */
    @Test
    void runsAndReportsLikePicocli(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path data = Files.write(dir.resolve("data"), new byte[8192]);
        String[] ok = {"verity", "format", data.toString(), dir.resolve("hash").toString(), "--salt", "-", "--uuid",
            "00000000-0000-0000-0000-000000000001"};
        // --salt - goes to picocli (a value starting with '-'), the rest the same way with a salt
        String[] fast = {"verity", "format", data.toString(), dir.resolve("hash2").toString(), "--salt", "00", "--uuid",
            "00000000-0000-0000-0000-000000000001", "--json"};
        assertThat(FastPath.prepare(ok)).isNull();
        assertThat(FastPath.prepare(fast)).isNotNull();
        DispatchTest.Out viaFast = DispatchTest.lazy(fast);
        fast[3] = dir.resolve("hash3").toString();
        DispatchTest.Out viaTree = DispatchTest.full(fast);
        assertThat(viaFast.code()).isZero();
        assertThat(viaFast.out()).isEqualTo(viaTree.out());
        assertThat(Files.readAllBytes(dir.resolve("hash2"))).isEqualTo(Files.readAllBytes(dir.resolve("hash3")));
        // an error found by the command itself: same message and exit code
        String[] missing = {"verity", "format", dir.resolve("missing").toString(), dir.resolve("hash4").toString()};
        assertThat(FastPath.prepare(missing)).isNotNull();
        assertThat(DispatchTest.lazy(missing)).isEqualTo(DispatchTest.full(missing));
        String[] repair = {"verity", "repair", data.toString(), dir.resolve("hash2").toString(), "--output-data",
            dir.resolve("out").toString()};
        assertThat(FastPath.prepare(repair)).isNotNull();
        DispatchTest.Out usage = DispatchTest.lazy(repair);
        assertThat(usage).isEqualTo(DispatchTest.full(repair));
        assertThat(usage.code()).isEqualTo(2);
        assertThat(usage.err()).contains("repair needs --fec-device", "Try 'cairn verity repair --help'");
    }

    private static boolean overridesEquals(Class<?> c) {
        try {
            return c.getMethod("equals", Object.class).getDeclaringClass() != Object.class;
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> with(List<String> base, Command c, String... extra) {
        int pathWords = c.path().split(" ").length;
        List<String> line = new ArrayList<>(base.subList(0, pathWords));
        line.addAll(Arrays.asList(extra));
        line.addAll(base.subList(pathWords, base.size()));
        return line;
    }

    /** The command object picocli makes for {@code args} (the leaf as Main dispatches it). */
    private static Object picocli(String[] args) {
        Main.Leaf leaf = Main.leaf(args);
        assertThat(leaf).as("a leaf: %s", Arrays.toString(args)).isNotNull();
        StringWriter sink = new StringWriter();
        CommandLine cl = leaf.commandLine();
        cl.setOut(new PrintWriter(sink));
        cl.setErr(new PrintWriter(sink));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExpandAtFiles(false);
        cl.parseArgs(leaf.args());
        return cl.getCommand();
    }

    /** Every field of the two objects, and of the cairn objects they hold (mixins), is equal. */
    private static void compare(Object fast, Object picocli, String where, Map<Object, Object> seen, String line) throws IllegalAccessException {
        if (seen.put(fast, picocli) != null) {
            return;
        }
        for (Class<?> k = fast.getClass(); k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.isAnnotationPresent(CommandLine.Spec.class)) {
                    continue;
                }
                f.setAccessible(true);
                Object a = f.get(fast);
                Object b = f.get(picocli);
                String name = where + f.getName();
                if (a != null && b != null && a.getClass() == b.getClass() && a.getClass().getName().startsWith("dev.cairn.")
                        && !a.getClass().isEnum() && !a.getClass().isRecord()) {
                    compare(a, b, name + ".", seen, line);
                } else if (a != null && b != null && a.getClass() == b.getClass() && !overridesEquals(a.getClass())) {
                    assertThat(String.valueOf(a)).as("%s after: %s", name, line).isEqualTo(String.valueOf(b)); // AtomicLong
                } else {
                    assertThat(a).as("%s after: %s", name, line).isEqualTo(b);
                    if (a != null && b != null) {
                        assertThat(a.getClass()).as("%s's class after: %s", name, line).isEqualTo(b.getClass());
                    }
                }
            }
        }
    }
}
