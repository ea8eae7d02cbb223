package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.oci.ImageTransfer;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci pull}. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Pull an image or artifact from a registry into a layout.",
                "REGISTRY/REPOSITORY:TAG (or @sha256:…) into LAYOUT:TAG. Every manifest and blob is checked against its",
                "digest and size before it is stored; the layout is created only once the root manifest verified, and",
                "the tag is set last. Exit 5 on registry or network errors, 3 on content that fails verification."})
final class PullCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "REGISTRY/REPOSITORY:TAG")
    String source;
    @Parameters(index = "1", paramLabel = "LAYOUT:TAG")
    String destination;
    @Mixin
    RegistryOptions registry;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        RegistryReference src = RegistryReference.parse(source);
        LayoutRef dest = LayoutRef.parse(destination, true);
        var client = registry.client(src.registry(), System.in);
        ImageTransfer.TransferResult r;
        try (TransferProgressLine progress = TransferProgressLine.start(spec.commandLine().getErr(), json.enabled())) {
            r = ImageTransfer.pull(client, src, dest.layout(), dest.tag(), progress.listener());
        } catch (RegistryException e) {
            throw new CairnException(ExitCode.REGISTRY, "pull of " + src + " failed: " + e.getMessage(), e);
        }
        PushCommand.print(spec, json, "Pulled", dest.toString(), r, client.retries());
        return 0;
    }
}
