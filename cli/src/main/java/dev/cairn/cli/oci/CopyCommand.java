package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.io.AtomicOutput;
import dev.cairn.io.FileTrees;
import dev.cairn.oci.ImageTransfer;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import dev.cairn.oci.TransferProgress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci copy}: layout↔layout, layout↔registry, registry↔registry. */
@Command(name = "copy", mixinStandardHelpOptions = true,
        description = {"Copy an image, index or artifact between layouts and registries.",
                "Digests are unchanged.",
                "SRC and DEST are oci:DIR:TAG or docker://HOST/REPOSITORY:TAG (as skopeo writes them).",
                "Registry to registry: blobs of the same registry are mounted across repositories, others pass",
                "through a temporary directory (each verified on the way).",
                "--username/--password-stdin log in to DEST's registry (to SRC's when DEST is a layout);",
                "the other registry's credentials come from the docker config or its credential helper."})
final class CopyCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "SRC")
    String source;
    @Parameters(index = "1", paramLabel = "DEST")
    String destination;
    @Mixin
    RegistryOptions registry;
    @Mixin
    JsonOption json;

    private static final String OCI = "oci:";
    private static final String DOCKER = "docker://";

    @Override
    public Integer call() throws IOException {
        RegistryReference s = isRegistry(source) ? RegistryReference.parse(source.substring(DOCKER.length())) : null;
        RegistryReference d = isRegistry(destination) ? RegistryReference.parse(destination.substring(DOCKER.length())) : null;
        // --username/--password-stdin are for DEST (skopeo's --dest-creds), or SRC when only it is a registry
        RegistryClient client = s != null || d != null ? registry.client((d != null ? d : s).registry(), System.in) : null;
        ImageTransfer.TransferResult r;
        try (TransferProgressLine line = TransferProgressLine.start(spec.commandLine().getErr(), json.enabled())) {
            TransferProgress progress = line.listener();
            if (s == null && d == null) {
                LayoutRef sl = layout(source);
                LayoutRef dl = layout(destination);
                r = ImageTransfer.copy(OciLayout.open(sl.layout()), sl.tag(), OciLayout.openOrCreate(dl.layout()), dl.tag(), progress);
            } else if (s == null) {
                LayoutRef sl = layout(source);
                r = ImageTransfer.push(OciLayout.open(sl.layout()), sl.tag(), client, d, progress);
            } else if (d == null) {
                LayoutRef dl = layout(destination);
                r = ImageTransfer.pull(client, s, dl.layout(), dl.tag(), progress);
            } else {
                // scratch space for blobs on their way: removed afterwards, and by a Ctrl-C (JVM shutdown) too
                Path temp = AtomicOutput.createTempDirectory(null, "cairn-oci-copy-");
                try {
                    r = ImageTransfer.copy(client, s, d, temp.resolve("scratch"), progress);
                } finally {
                    try {
                        FileTrees.delete(temp);
                    } finally {
                        AtomicOutput.settled(temp);
                    }
                }
            }
        } catch (RegistryException e) {
            throw new CairnException(ExitCode.REGISTRY, "copy failed: " + e.getMessage(), e);
        }
        PushCommand.print(spec, json, "Copied", destination, r, client == null ? 0 : client.retries());
        return 0;
    }

    private static boolean isRegistry(String s) {
        if (s.startsWith(DOCKER)) {
            return true;
        }
        if (s.startsWith(OCI)) {
            return false;
        }
        throw new IllegalArgumentException("'" + s + "': say oci:DIR:TAG or docker://HOST/REPOSITORY:TAG");
    }

    private static LayoutRef layout(String s) {
        return LayoutRef.parse(s.substring(OCI.length()), true);
    }
}
