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
        m.put("layer", Main.make(LayerCommand.class));
        m.put("convert", Main.make(ConvertCommand.class));
        m.put("artifact", Main.make(ArtifactCommand.class));
        m.put("inspect", Main.make(InspectCommand.class));
        m.put("ls", Main.make(LsCommand.class));
        m.put("gc", Main.make(GcCommand.class));
        m.put("push", Main.make(PushCommand.class));
        m.put("pull", Main.make(PullCommand.class));
        m.put("copy", Main.make(CopyCommand.class));
        m.put("tree", Main.make(TreeCommand.class));
        m.put("sign", Main.make(SignCommand.class));
        m.put("verify", Main.make(VerifyCommand.class));

        return m;
    }
}
