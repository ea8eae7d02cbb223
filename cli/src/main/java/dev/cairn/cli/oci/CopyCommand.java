package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.KeyOptions;
import dev.cairn.io.AtomicOutput;
import dev.cairn.io.FileTrees;
import dev.cairn.oci.Credentials;
import dev.cairn.oci.ImageTransfer;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import dev.cairn.oci.TransferProgress;
import dev.cairn.signing.Secret;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
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
                "--src-username with --src-password-env, --src-password-file or --src-password-stdin to SRC's",
                "(skopeo's --src-creds, without the password on the command line); a registry without",
                "explicit credentials gets those of the docker config or its credential helper."})
final class CopyCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "SRC")
    String source;
    @Parameters(index = "1", paramLabel = "DEST")
    String destination;
    @Mixin
    RegistryOptions registry;
    @Option(names = "--src-username", paramLabel = "USER",
            description = "SRC registry's user; the password from --src-password-env, --src-password-file or --src-password-stdin.")
    String srcUsername;
    @Option(names = "--src-password-env", paramLabel = "VAR", description = "Read SRC's password (or token) from environment variable VAR.")
    String srcPasswordEnv;
    @Option(names = "--src-password-file", paramLabel = "FILE", description = "Read SRC's password (or token) from the first line of FILE.")
    Path srcPasswordFile;
    @Option(names = "--src-password-stdin", description = "Read SRC's password (or token) from standard input (not with --password-stdin).")
    boolean srcPasswordStdin;
    @Mixin
    JsonOption json;

    /** SRC's explicit credentials, or null; checked before any work (usage errors). */
    private Credentials sourceCredentials(RegistryReference s) throws IOException {
        int ways = (srcPasswordEnv != null ? 1 : 0) + (srcPasswordFile != null ? 1 : 0) + (srcPasswordStdin ? 1 : 0);
        if (srcUsername == null) {
            if (ways > 0) {
                throw new IllegalArgumentException("--src-password-env/-file/-stdin need --src-username");
            }
            return null;
        }
        if (ways != 1) {
            throw new IllegalArgumentException("--src-username needs its password one way: --src-password-env, --src-password-file"
                    + " or --src-password-stdin (passwords are never taken on the command line)");
        }
        if (s == null) {
            throw new IllegalArgumentException("--src-username: SRC is a layout, not a registry");
        }
        if (srcPasswordStdin && registry.readsStdin()) {
            throw new IllegalArgumentException("--src-password-stdin and --password-stdin cannot both read standard input:"
                    + " give SRC's with --src-password-env or --src-password-file");
        }
        Secret pw = KeyOptions.secret(srcPasswordEnv, srcPasswordFile, srcPasswordStdin, "SRC password",
                "--src-password-env, --src-password-file or --src-password-stdin");
        String password = new String(pw.chars());
        if (password.isEmpty()) {
            throw new IllegalArgumentException("SRC's password is empty");
        }
        return new Credentials(srcUsername, password);
    }

    private static final String OCI = "oci:";
    private static final String DOCKER = "docker://";

    @Override
    public Integer call() throws IOException {
        RegistryReference s = isRegistry(source) ? RegistryReference.parse(source.substring(DOCKER.length())) : null;
        RegistryReference d = isRegistry(destination) ? RegistryReference.parse(destination.substring(DOCKER.length())) : null;
        Credentials srcCredentials = sourceCredentials(s);
        if (srcCredentials != null) {
            if (d == null && registry.readsStdin()) {
                throw new IllegalArgumentException("DEST is a layout: --username/--password-stdin already log in to SRC;"
                        + " give SRC's credentials once");
            }
            registry.alsoFor(s.registry(), srcCredentials);
        }
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
