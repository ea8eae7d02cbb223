package dev.cairn.cli.disk;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.Main;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Command;

/** {@code cairn disk}: Discoverable Disk Images. */
@Command(name = "disk", mixinStandardHelpOptions = true,
        description = {"Discoverable Disk Images (GPT): inspect and check, assemble.",
                "cairn build writes them (outputs.disk); assemble lays out a GPT disk from ready-made partitions as",
                "systemd-repart does."})
public final class DiskCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("inspect", Main.make(InspectCommand.class));
        m.put("assemble", Main.make(AssembleCommand.class));
        return m;
    }
}
