package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

class MainTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpAndVersion() {
        Run help = run("--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("verity", "squashfs", "uki", "sign", "keys", "ipe", "oci", "build", "boot", "sysext", "Exit codes:");
        Run v = run("--version");
        assertThat(v.code()).isZero();
        assertThat(v.out().trim()).matches("cairn \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }

    @Test
    void usageErrorsExitTwo() {
        Run r = run("verity", "format", "--no-such-option", "a", "b");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--no-such-option").contains("--help");
        assertThat(run("verity").code()).isEqualTo(2);
        assertThat(run("squashfs").code()).isEqualTo(2);
        assertThat(run().code()).isEqualTo(2);
    }

    @Test
    void missingInputIsOneLineExitThreeWithoutStackTrace() {
        Run r = run("verity", "format", dir.resolve("nope.img").toString(), dir.resolve("h").toString());
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.err()).isEqualTo("cairn: " + dir.resolve("nope.img") + ": no such file" + System.lineSeparator());
        Run traced = run("--stacktrace", "verity", "format", dir.resolve("nope.img").toString(), dir.resolve("h").toString());
        assertThat(traced.code()).isEqualTo(3);
        assertThat(traced.err()).contains("NoSuchFileException").contains("\tat ");
    }

    @Command(name = "sde")
    static final class SdeCommand implements java.util.concurrent.Callable<Integer> {
        @Mixin
        SourceDateEpochOption sde;
        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().print(sde.instant(spec.commandLine()).map(i -> Long.toString(i.getEpochSecond())).orElse("none"));
            return 0;
        }
    }

    static String sde(Map<String, String> env, String... args) {
        Map<String, String> old = Environment.swap(env);
        try {
            StringWriter out = new StringWriter();
            CommandLine cl = new CommandLine(new SdeCommand());
            cl.setOut(new PrintWriter(out));
            cl.setErr(new PrintWriter(new StringWriter()));
            int code = cl.execute(args);
            return code + ":" + out;
        } finally {
            Environment.swap(old);
        }
    }

    @Test
    void sourceDateEpochOptionFallsBackToEnvironment() {
        assertThat(sde(Map.of())).isEqualTo("0:none");
        assertThat(sde(Map.of("SOURCE_DATE_EPOCH", "1700000000"))).isEqualTo("0:1700000000");
        assertThat(sde(Map.of("SOURCE_DATE_EPOCH", "1700000000"), "--source-date-epoch", "5")).isEqualTo("0:5");
        assertThat(sde(Map.of("SOURCE_DATE_EPOCH", "yesterday"))).startsWith("2:");
        assertThat(sde(Map.of(), "--source-date-epoch", "-1")).startsWith("2:");
    }

    @Test
    void everyExitCodeIsDocumented() {
        String help = run("--help").out();
        for (ExitCode c : ExitCode.values()) {
            assertThat(help).contains("  " + c.code() + "  " + c.meaning());
        }
    }

    @Test
    void manPagesAndCompletionAreGeneratedFromTheModel() throws Exception {
        Path man = dir.resolve("man");
        Path comp = dir.resolve("completion/cairn");
        DistributionDocs.main(new String[] {man.toString(), comp.toString()});
        assertThat(man.resolve("cairn.1")).content().contains(".SH EXIT STATUS");
        assertThat(man.resolve("cairn-verity-format.1")).content().contains("\\-\\-fec\\-roots").contains("\\-\\-seed");
        assertThat(comp).content().contains("complete -F").contains("--hash-block-size");
        try (Stream<Path> s = Files.list(man)) {
            assertThat(s.count()).isGreaterThanOrEqualTo(14);
        }
    }
}
