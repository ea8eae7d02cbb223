package dev.cairn.cli.oci;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.Main;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Command;

/** {@code cairn oci}: OCI image layouts and registries. */
@Command(name = "oci", mixinStandardHelpOptions = true,
        description = {"OCI image layouts and registries.",
                "Stacker-compatible SquashFS+verity layers, deterministic tar layers, OCI 1.1 artifacts, inspect/ls/gc/tree,",
                "push, pull and copy."})
public final class OciCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("layer", LayerCommand::new);
        m.put("convert", ConvertCommand::new);
        m.put("artifact", ArtifactCommand::new);
        m.put("inspect", InspectCommand::new);
        m.put("ls", LsCommand::new);
        m.put("gc", GcCommand::new);
        m.put("push", PushCommand::new);
        m.put("pull", PullCommand::new);
        m.put("copy", CopyCommand::new);
        m.put("tree", TreeCommand::new);
        m.put("sign", SignCommand::new);
        m.put("verify", VerifyCommand::new);

        return m;
    }
}
