package dev.cairn.cli.initrd;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.Main;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Command;

/** {@code cairn initrd}: initramfs archives. */
@Command(name = "initrd", mixinStandardHelpOptions = true,
        description = {"Initramfs archives: a deterministic newc cpio from a directory.",
                "Compressed with zstd, gzip or xz, or uncompressed."})
public final class InitrdCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("create", Main.make(CreateCommand.class));
        return m;
    }
}
