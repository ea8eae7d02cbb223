package dev.cairn.cli.uki;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.Main;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Command;

/** {@code cairn uki}: Unified Kernel Images. */
@Command(name = "uki", mixinStandardHelpOptions = true,
        description = {"Unified Kernel Images: build (and sign; multi-profile too), add-ons, inspect, measure (PCR 11)."})
public final class UkiCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("build", UkiBuildCommand::new);
        m.put("addon", UkiAddonCommand::new);
        m.put("inspect", UkiInspectCommand::new);
        m.put("measure", UkiMeasureCommand::new);
        return m;
    }
}
