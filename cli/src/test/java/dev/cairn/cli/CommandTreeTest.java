package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.TestPki;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Walks the whole command tree (picocli's model, as help, man pages and completion see it) for
 * the rules every command follows: a one-line summary that is a whole sentence, and
 * {@code --output}/{@code -o} wherever an option names the one file (or directory) a command writes.
 */
class CommandTreeTest {
    @TempDir
    Path dir;

    private static CommandLine root() {
        StringWriter sink = new StringWriter();
        return Main.commandLine(new PrintWriter(sink), new PrintWriter(sink));
    }

    private static void walk(CommandLine cl, Consumer<CommandSpec> visit) {
        visit.accept(cl.getCommandSpec());
        for (CommandLine sub : cl.getSubcommands().values()) {
            walk(sub, visit);
        }
    }

    private static List<CommandSpec> allCommands() {
        List<CommandSpec> all = new ArrayList<>();
        walk(root(), all::add);
        return all;
    }

    @Test
    void theTreeIsWhole() {
        // guards the walks below against a lazily registered tree that would leave commands out
        List<String> names = allCommands().stream().map(CommandSpec::qualifiedName).toList();
        assertThat(names).contains("cairn build", "cairn verify pe", "cairn keys secureboot ovmf-vars", "cairn oci layer add",
                "cairn sign module", "cairn disk assemble", "cairn boot").hasSizeGreaterThan(50);
    }

    /**
     * Main tells picocli not to register its converters for java.time and java.sql types (start-up):
     * no option or parameter may have such a type, or it would fail to convert at run time.
     */
    @Test
    void noOptionNeedsAnExcludedConverter() {
        List<String> bad = new ArrayList<>();
        for (CommandSpec c : allCommands()) {
            for (CommandLine.Model.ArgSpec a : c.args()) {
                List<Class<?>> types = new ArrayList<>(List.of(a.type()));
                types.addAll(Arrays.asList(a.auxiliaryTypes()));
                for (Class<?> t : types) {
                    if (t.getName().matches(Main.EXCLUDED_CONVERTERS) && a.converters().length == 0) {
                        bad.add(c.qualifiedName() + " " + a.paramLabel() + ": " + t.getName());
                    }
                }
            }
        }
        assertThat(bad).isEmpty();
        assertThat("java.time.Instant").matches(Main.EXCLUDED_CONVERTERS);
        assertThat("java.sql.Timestamp").matches(Main.EXCLUDED_CONVERTERS);
        assertThat("java.nio.file.Path").doesNotMatch(Main.EXCLUDED_CONVERTERS);
    }

    /** The first description line is what command lists show: a short, whole sentence. */
    @Test
    void everySummaryIsOneWholeSentence() {
        List<String> bad = new ArrayList<>();
        for (CommandSpec c : allCommands()) {
            String[] d = c.usageMessage().description();
            String first = d.length == 0 ? "" : d[0];
            boolean balanced = first.chars().filter(ch -> ch == '(').count() == first.chars().filter(ch -> ch == ')').count();
            if (!first.endsWith(".") || !balanced || first.length() > 100) {
                bad.add(c.qualifiedName() + ": '" + first + "'");
            }
        }
        assertThat(bad).as("summaries that are cut, unbalanced or longer than 100 characters").isEmpty();
    }

    /** What a user sees: every entry of every command list ends with a full stop. */
    @Test
    void everyCommandListEntryEndsCleanly() {
        List<String> bad = new ArrayList<>();
        for (CommandSpec c : allCommands()) {
            if (c.subcommands().isEmpty()) {
                continue;
            }
            StringWriter out = new StringWriter();
            c.commandLine().usage(new PrintWriter(out));
            String list = out.toString().substring(out.toString().indexOf("Commands:"));
            list = list.lines().skip(1).takeWhile(l -> l.startsWith("  ")).reduce("", (a, l) -> a + "\n" + l);
            // an entry starts at two spaces and a name; wrapped continuation lines are indented deeper
            for (String entry : list.split("\n  (?=\\S)")) {
                String text = entry.strip().replaceAll("\\s+", " ");
                if (!text.isEmpty() && !text.endsWith(".")) {
                    bad.add(c.qualifiedName() + ": " + text);
                }
            }
        }
        assertThat(bad).isEmpty();
    }

    @Test
    void buildAndVerifyComeFirst() {
        List<String> top = new ArrayList<>(root().getSubcommands().keySet());
        assertThat(top.subList(0, 2)).containsExactly("build", "verify");
        assertThat(top).contains("verity", "squashfs", "uki", "sign", "oci", "help");
        String help = MainTest.run("--help").out();
        assertThat(help.indexOf("  build ")).isPositive().isLessThan(help.indexOf("  verify "));
        assertThat(help.indexOf("  verify ")).isLessThan(help.indexOf("  verity "));
    }

    /**
     * "Writes one file": an option of type Path, single-valued, named {@code --out} or
     * {@code --output} (the ones ending in -data/-hash name one of two outputs and are left alone).
     * Every such option is also {@code --output} and {@code -o}; {@code --out}/{@code -out} stay
     * where they mirror openssl.
     */
    @Test
    void everySingleOutputOptionOffersOutputAndO() {
        List<String> checked = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (CommandSpec c : allCommands()) {
            for (OptionSpec o : c.options()) {
                List<String> names = Arrays.asList(o.names());
                boolean output = (names.contains("--out") || names.contains("--output")) && o.type() == Path.class
                        && !o.isMultiValue();
                if (output) {
                    checked.add(c.qualifiedName());
                    if (!names.contains("--output") || !names.contains("-o")) {
                        bad.add(c.qualifiedName() + " " + names);
                    }
                }
            }
        }
        assertThat(bad).isEmpty();
        assertThat(checked).contains("cairn build", "cairn uki build", "cairn sign cms", "cairn sign module", "cairn sign pe",
                "cairn verify cms", "cairn verity sign", "cairn ipe policy", "cairn ipe sign", "cairn keys secureboot esl",
                "cairn keys secureboot auth", "cairn keys secureboot ovmf-vars");
    }

    /**
     * A positional output labelled OUT or OUTPUT (not one that mirrors another tool's order, such
     * as {@code verity format DATA HASH} or {@code squashfs create SOURCE IMAGE}) may be given as
     * {@code --output}/{@code -o} instead.
     */
    @Test
    void positionalOutputsCanBeGivenAsOutputToo() {
        List<String> checked = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (CommandSpec c : allCommands()) {
            boolean positionalOutput = c.positionalParameters().stream()
                    .anyMatch(p -> p.type() == Path.class && List.of("OUT", "OUTPUT").contains(p.paramLabel()));
            if (positionalOutput) {
                checked.add(c.qualifiedName());
                OptionSpec o = c.findOption("--output");
                if (o == null || c.findOption("-o") != o) {
                    bad.add(c.qualifiedName());
                }
            }
        }
        assertThat(bad).isEmpty();
        assertThat(checked).contains("cairn initrd create", "cairn disk assemble", "cairn sysext create");
    }

    @Test
    void aPositionalOutputAndOutputAreOneOrTheOther() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("tree"));
        Files.writeString(tree.resolve("init"), "#!/bin/sh\n");
        Path a = dir.resolve("a.cpio");
        Path b = dir.resolve("b.cpio");
        MainTest.Run positional = MainTest.run("initrd", "create", tree.toString(), a.toString(), "--compress", "none");
        assertThat(positional.code()).as(positional.err()).isZero();
        MainTest.Run option = MainTest.run("initrd", "create", tree.toString(), "-o", b.toString(), "--compress", "none");
        assertThat(option.code()).as(option.err()).isZero();
        assertThat(b).hasBinaryContent(Files.readAllBytes(a));

        MainTest.Run both = MainTest.run("initrd", "create", tree.toString(), a.toString(), "--output", dir.resolve("c").toString());
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("given twice").contains("--help");
        MainTest.Run neither = MainTest.run("initrd", "create", tree.toString());
        assertThat(neither.code()).isEqualTo(2);
        assertThat(neither.err()).contains("'OUTPUT' (or --output FILE)").contains("--help");
        assertThat(dir.resolve("c")).doesNotExist();
    }

    @Test
    void outputAndOAreAcceptedAndTheOldNamesStillWork() throws Exception {
        Path cert = TestPki.get().secureBoot().writeCertPem(dir.resolve("db.pem"));
        Path key = TestPki.get().rsaLeaf().writeKeyPem(dir.resolve("k.pem"));
        Path leaf = TestPki.get().rsaLeaf().writeCertPem(dir.resolve("c.pem"));
        byte[] esl = null;
        for (String flag : List.of("--out", "--output", "-o")) {
            Path out = dir.resolve("db" + flag + ".esl");
            MainTest.Run r = MainTest.run("keys", "secureboot", "esl", "--cert", cert.toString(), flag, out.toString());
            assertThat(r.code()).as(flag + ": " + r.err()).isZero();
            if (esl == null) {
                esl = Files.readAllBytes(out);
            }
            assertThat(out).as(flag).hasBinaryContent(esl);
        }
        Path policy = dir.resolve("p.pol");
        MainTest.Run p = MainTest.run("ipe", "policy", "--name", "n", "--version", "1.0.0", "--trust-boot-verified", "-o", policy.toString());
        assertThat(p.code()).as(p.err()).isZero();
        assertThat(policy).content().startsWith("policy_name=n policy_version=1.0.0\n");
        Path content = dir.resolve("content");
        Files.writeString(content, "signed bytes\n");
        for (String flag : List.of("-out", "--output", "-o")) {
            Path sig = dir.resolve("s" + flag + ".p7s");
            MainTest.Run s = MainTest.run("sign", "cms", "-in", content.toString(), flag, sig.toString(), "--key", key.toString(),
                    "--cert", leaf.toString());
            assertThat(s.code()).as(flag + ": " + s.err()).isZero();
            assertThat(sig).as(flag).isNotEmptyFile();
        }
        // -o is an option of its own, not a prefix of -out or -outform
        MainTest.Run both = MainTest.run("sign", "cms", "-in", content.toString(), "-o", dir.resolve("a.p7s").toString(), "-outform",
                "PEM", "--key", key.toString(), "--cert", leaf.toString());
        assertThat(both.code()).as(both.err()).isZero();
        assertThat(dir.resolve("a.p7s")).content().startsWith("-----BEGIN");
    }
}
