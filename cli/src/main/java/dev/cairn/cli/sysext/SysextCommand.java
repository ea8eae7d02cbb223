package dev.cairn.cli.sysext;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.Main;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Command;

/** {@code cairn sysext}: systemd system and configuration extension images. */
@Command(name = "sysext", mixinStandardHelpOptions = true,
        description = {"systemd extension images (sysext, confext), signed and verity-protected."})
public final class SysextCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("create", Main.make(CreateCommand.class));
        return m;
    }
}
