package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@link Main#run} builds only the commands its arguments name, and prints {@code --version}
 * without picocli: everything a user sees must be what the full command tree (the one the man
 * pages and completion are generated from) prints for the same arguments.
 */
class DispatchTest {
    record Out(int code, String out, String err) {
    }

    /** Through Main.run: the partial tree (or a fast path). */
    static Out lazy(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Out(code, out.toString(), err.toString());
    }

    /** Through the full tree, as picocli alone would run it. */
    static Out full(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(new PrintWriter(out), new PrintWriter(err));
        int code;
        try {
            code = cl.execute(args);
        } finally {
            dev.cairn.cli.oci.RegistryOptions.closeClients();
        }
        cl.getOut().flush();
        cl.getErr().flush();
        return new Out(code, out.toString(), err.toString());
    }

    /** Every command path of the full tree: "verity", "verity format", ... */
    static Stream<String> commandPaths() {
        List<String> paths = new ArrayList<>();
        collect(Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())), "", paths);
        return paths.stream();
    }

    private static void collect(CommandLine cl, String prefix, List<String> paths) {
        cl.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandSpec().aliases().length > 0 && !sub.getCommandName().equals(name)) {
                return; // an alias: the same command
            }
            String path = prefix.isEmpty() ? name : prefix + " " + name;
            paths.add(path);
            collect(sub, path, paths);
        });
    }

    @Test
    void theTreeHasEveryCommand() {
        List<String> paths = commandPaths().toList();
        assertThat(paths).contains("verity format", "uki inspect", "sign pe", "oci push", "build", "verify", "help");
        assertThat(paths.size()).isGreaterThan(50);
    }

    @ParameterizedTest(name = "cairn {0} --help")
    @MethodSource("commandPaths")
    void helpOfEachCommandIsTheFullTreesHelp(String path) {
        String[] args = Stream.concat(Stream.of(path.split(" ")), Stream.of("--help")).toArray(String[]::new);
        Out lazy = lazy(args);
        assertThat(lazy).isEqualTo(full(args));
        assertThat(lazy.out() + lazy.err()).contains("Usage: cairn " + path);
        assertThat(lazy.code()).isZero();
    }

    /** Every leaf of the full tree: the leaf dispatch makes the same command with the same options. */
    @ParameterizedTest(name = "cairn {0}")
    @MethodSource("commandPaths")
    void eachLeafIsDispatchedAloneAsTheTreeHasIt(String path) {
        CommandLine tree = Main.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()));
        for (String word : path.split(" ")) {
            tree = tree.getSubcommands().get(word);
        }
        String[] args = Stream.concat(Stream.of(path.split(" ")), Stream.of("x", "--y")).toArray(String[]::new);
        Main.Leaf leaf = Main.leaf(args);
        if (!tree.getSubcommands().isEmpty() || path.equals("help")) {
            assertThat(leaf).as("a group or help goes through the tree").isNull();
            return;
        }
        assertThat(leaf).as("leaf dispatch of " + path).isNotNull();
        CommandLine.Model.CommandSpec alone = leaf.commandLine().getCommandSpec();
        CommandLine.Model.CommandSpec inTree = tree.getCommandSpec();
        assertThat(alone.userObject().getClass()).isEqualTo(inTree.userObject().getClass());
        assertThat(alone.qualifiedName()).isEqualTo(inTree.qualifiedName()).isEqualTo("cairn " + path);
        assertThat(alone.optionsMap().keySet()).isEqualTo(inTree.optionsMap().keySet()).contains("--stacktrace");
        assertThat(alone.positionalParameters()).hasSameSizeAs(inTree.positionalParameters());
        assertThat(leaf.args()).containsExactly("x", "--y");
    }

    @Test
    void whatNamesNoLeafGoesThroughTheTree() {
        String[][] none = {{}, {"--stacktrace", "verity", "format", "a", "b"}, {"verity"}, {"verity", "--help"},
            {"help", "verity", "format"}, {"verit", "format"}, {"verity", "formt"}, {"verity", "-h", "format"}};
        for (String[] args : none) {
            assertThat(Main.leaf(args)).as(String.join(" ", args)).isNull();
        }
        assertThat(Main.leaf(new String[] {"verity", "format", "a", "b"})).isNotNull();
    }

    @Test
    void stacktraceAfterTheLeafWorksAsInTheTree(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        String missing = dir.resolve("missing").toString();
        String[] args = {"verity", "format", "--stacktrace", missing, dir.resolve("h").toString()};
        Out lazy = lazy(args);
        Out full = full(args);
        assertThat(lazy.code()).isEqualTo(full.code()).isEqualTo(3);
        assertThat(lazy.err().lines().findFirst()).isEqualTo(full.err().lines().findFirst());
        assertThat(lazy.err()).contains("\tat ");
        // and without it, no trace, in either
        String[] plain = {"verity", "format", missing, dir.resolve("h").toString()};
        assertThat(lazy(plain)).isEqualTo(full(plain));
        assertThat(lazy(plain).err()).doesNotContain("\tat ");
    }

    @Test
    void versionFastPathPrintsWhatPicocliPrints() {
        for (String flag : new String[] {"--version", "-V"}) {
            Out fast = lazy(flag);
            assertThat(fast).isEqualTo(full(flag));
            assertThat(fast.code()).isZero();
            assertThat(fast.err()).isEmpty();
            assertThat(fast.out()).matches("cairn \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?" + System.lineSeparator());
        }
        // with anything else on the line picocli handles it, as before
        assertThat(lazy("--stacktrace", "--version")).isEqualTo(full("--stacktrace", "--version"));
        assertThat(lazy("--version", "--no-such-flag")).isEqualTo(full("--version", "--no-such-flag"));
        assertThat(lazy("verity", "--version")).isEqualTo(full("verity", "--version"));
        // every command's --version is cairn's (picocli does not pass a version provider down)
        for (String[] args : new String[][] {{"verity", "--version"}, {"verity", "format", "--version"}, {"keys", "secureboot", "create", "-V"}}) {
            assertThat(lazy(args)).isEqualTo(lazy("--version"));
            assertThat(full(args)).isEqualTo(lazy("--version"));
        }
    }

    @Test
    void usageAndErrorsAreTheFullTrees() {
        String[][] cases = {
            {},                                          // no command: usage, exit 2
            {"--help"},
            {"help"},
            {"help", "verity"},
            {"help", "verity", "format"},
            {"verity"},                                  // a group alone: its usage, exit 2
            {"frobnicate"},                              // unknown command, with suggestions
            {"verit"},                                   // misspelt: "Did you mean"
            {"verity", "frobnicate"},
            {"verity", "formt", "a", "b"},
            {"verity", "format"},                        // missing parameters
            {"verity", "format", "--no-such-option", "a", "b"},
            {"--no-such-option"},
            {"--stacktrace", "verity", "format", "--help"},
            {"uki", "inspect", "--help"},
            {"oci", "push", "--json", "--help"},
            {"verity", "format", "--version"},           // a leaf's --version: the root's provider
            {"verity", "format", "--stacktrace", "--help"},
            {"verity", "format", "a", "b", "c"},         // too many parameters (picocli names the index)
            {"verity", "format", "a", "b", "c", "d"},
            {"verity", "format", "--salt", "zz", "a", "b"}, // a bad value
            {"sign", "module", "--threads", "x", "a.ko"},
            {"uki", "inspect"},
            {"keys", "secureboot"},
        };
        for (String[] args : cases) {
            Out lazy = lazy(args);
            assertThat(lazy).as(String.join(" ", args)).isEqualTo(full(args));
        }
        assertThat(lazy().code()).isEqualTo(2);
        assertThat(lazy("verit").err()).contains("Did you mean").contains("verity");
        assertThat(lazy("verity", "formt", "a", "b").err()).contains("Did you mean").contains("format");
    }

    @Test
    void aCommandRunsTheSameThroughEitherTree(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path data = dir.resolve("data");
        java.nio.file.Files.write(data, new byte[8192]);
        String[] common = {"--salt", "00", "--uuid", "12345678-1234-1234-1234-123456789abc", "--json"};
        String[] a = Stream.concat(Stream.of("verity", "format", data.toString(), dir.resolve("h1").toString()), Stream.of(common)).toArray(String[]::new);
        String[] b = Stream.concat(Stream.of("verity", "format", data.toString(), dir.resolve("h2").toString()), Stream.of(common)).toArray(String[]::new);
        Out lazy = lazy(a);
        Out full = full(b);
        assertThat(lazy.code()).isZero();
        assertThat(lazy.out().replace("h1", "h2")).isEqualTo(full.out());
        assertThat(java.nio.file.Files.readAllBytes(dir.resolve("h1"))).isEqualTo(java.nio.file.Files.readAllBytes(dir.resolve("h2")));
    }
}
