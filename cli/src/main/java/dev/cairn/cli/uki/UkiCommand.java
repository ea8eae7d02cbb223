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
        m.put("build", Main.make(UkiBuildCommand.class));
        m.put("addon", Main.make(UkiAddonCommand.class));
        m.put("inspect", Main.make(UkiInspectCommand.class));
        m.put("measure", Main.make(UkiMeasureCommand.class));
        return m;
    }
}
