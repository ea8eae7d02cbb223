package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.oci.ImageTransfer;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
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
                "through a temporary directory (each verified on the way)."})
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
        boolean srcReg = isRegistry(source);
        boolean dstReg = isRegistry(destination);
        RegistryClient client = srcReg || dstReg ? registry.client(System.in) : null;
        ImageTransfer.TransferResult r;
        try {
            if (!srcReg && !dstReg) {
                LayoutRef s = layout(source);
                LayoutRef d = layout(destination);
                r = ImageTransfer.copy(OciLayout.open(s.layout()), s.tag(), OciLayout.openOrCreate(d.layout()), d.tag());
            } else if (!srcReg) {
                LayoutRef s = layout(source);
                r = ImageTransfer.push(OciLayout.open(s.layout()), s.tag(), client, RegistryReference.parse(destination.substring(DOCKER.length())));
            } else if (!dstReg) {
                LayoutRef d = layout(destination);
                r = ImageTransfer.pull(client, RegistryReference.parse(source.substring(DOCKER.length())), d.layout(), d.tag());
            } else {
                RegistryReference s = RegistryReference.parse(source.substring(DOCKER.length()));
                RegistryReference d = RegistryReference.parse(destination.substring(DOCKER.length()));
                Path temp = Files.createTempDirectory("cairn-oci-copy-");
                try {
                    r = ImageTransfer.copy(client, s, d, temp.resolve("scratch"));
                } finally {
                    deleteTree(temp);
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

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
