package dev.cairn.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Build-time generator for the distribution: one troff man page per command
 * ({@code share/man/man1/cairn-verity-format.1} …) and the bash completion script (which zsh loads
 * too, through {@code bashcompinit}). Both come from the picocli command model, so they never
 * drift from the real options. Output is deterministic (no dates).
 *
 * <p>Usage: {@code DistributionDocs <man-dir> <completion-file>}.
 */
public final class DistributionDocs {
    private DistributionDocs() {
    }

    public static void main(String[] args) throws IOException {
        Path manDir = Path.of(args[0]);
        Path completion = Path.of(args[1]);
        Files.createDirectories(manDir);
        Files.createDirectories(completion.toAbsolutePath().getParent());
        StringWriter sink = new StringWriter();
        CommandLine root = Main.commandLine(new PrintWriter(sink), new PrintWriter(sink));
        writeManPages(root, manDir);
        Files.writeString(completion, AutoComplete.bash("cairn", root), StandardCharsets.UTF_8);
    }

    static void writeManPages(CommandLine cmd, Path dir) throws IOException {
        CommandSpec spec = cmd.getCommandSpec();
        String name = spec.qualifiedName("-");
        Files.writeString(dir.resolve(name + ".1"), manPage(spec), StandardCharsets.UTF_8);
        for (Map.Entry<String, CommandLine> sub : cmd.getSubcommands().entrySet()) {
            if (!sub.getKey().equals("help") && sub.getValue().getCommandSpec().name().equals(sub.getKey())) {
                writeManPages(sub.getValue(), dir);
            }
        }
    }

    static String manPage(CommandSpec spec) {
        StringBuilder m = new StringBuilder();
        String title = spec.qualifiedName("-");
        m.append(".TH \"").append(title.toUpperCase(java.util.Locale.ROOT)).append("\" \"1\" \"\" \"cairn ")
                .append(Version.get()).append("\" \"cairn manual\"\n");
        m.append(".SH NAME\n").append(esc(title)).append(" \\- ").append(esc(summary(spec))).append('\n');
        m.append(".SH SYNOPSIS\n.B ").append(esc(spec.qualifiedName())).append('\n');
        if (!spec.subcommands().isEmpty()) {
            m.append("COMMAND\n");
        }
        for (OptionSpec o : spec.options()) {
            m.append("[").append(esc(o.longestName())).append(o.typeInfo().isBoolean() ? "" : " " + esc(o.paramLabel())).append("]\n");
        }
        for (PositionalParamSpec p : spec.positionalParameters()) {
            m.append(esc(p.paramLabel())).append('\n');
        }
        m.append(".SH DESCRIPTION\n");
        for (String line : spec.usageMessage().description()) {
            m.append(esc(line)).append("\n.br\n");
        }
        if (!spec.positionalParameters().isEmpty()) {
            m.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : spec.positionalParameters()) {
                item(m, p.paramLabel(), p);
            }
        }
        if (!spec.options().isEmpty()) {
            m.append(".SH OPTIONS\n");
            for (OptionSpec o : spec.options()) {
                String names = String.join(", ", o.names()) + (o.typeInfo().isBoolean() ? "" : " " + o.paramLabel());
                item(m, names, o);
            }
        }
        if (!spec.subcommands().isEmpty()) {
            m.append(".SH COMMANDS\n");
            spec.subcommands().forEach((n, c) -> {
                if (!n.equals("help")) {
                    m.append(".TP\n.B ").append(esc(n)).append('\n')
                            .append(esc(summary(c.getCommandSpec()))).append('\n')
                            .append("See \\fB").append(esc(c.getCommandSpec().qualifiedName("-"))).append("\\fR(1).\n");
                }
            });
        }
        if (spec.parent() == null) {
            m.append(".SH EXIT STATUS\n");
            for (ExitCode c : ExitCode.values()) {
                m.append(".TP\n.B ").append(c.code()).append('\n').append(esc(c.meaning())).append('\n');
            }
            m.append(".SH FILES\nBash completion: share/bash-completion/completions/cairn; zsh users load it with\n")
                    .append(".B autoload -U bashcompinit && bashcompinit && source cairn\n");
        }
        return m.toString();
    }

    /** The command's one-line summary: the first description line, as the command lists show it. */
    static String summary(CommandSpec spec) {
        String[] d = spec.usageMessage().description();
        return d.length == 0 ? "" : d[0];
    }

    private static void item(StringBuilder m, String label, ArgSpec a) {
        m.append(".TP\n.B ").append(esc(label)).append('\n');
        List<String> d = List.of(a.description());
        m.append(esc(String.join(" ", d).replace("${DEFAULT-VALUE}", String.valueOf(a.defaultValue())))).append('\n');
    }

    /** Escapes troff control characters. */
    static String esc(String s) {
        String e = s.replace("\\", "\\e").replace("-", "\\-");
        return e.startsWith(".") || e.startsWith("'") ? "\\&" + e : e;
    }
}
