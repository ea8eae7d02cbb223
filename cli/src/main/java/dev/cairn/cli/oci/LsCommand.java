package dev.cairn.cli.oci;

import dev.cairn.cli.JsonOption;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.OciLayout;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci ls}: the entries of {@code index.json}. */
@Command(name = "ls", mixinStandardHelpOptions = true,
        description = "List the layout's index.json: tag (or - when untagged), digest, media type or artifactType, size.")
final class LsCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "LAYOUT")
    Path layoutDir;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        OciLayout layout = OciLayout.open(layoutDir);
        PrintWriter out = spec.commandLine().getOut();
        List<Object> all = new ArrayList<>();
        for (Descriptor d : layout.index().manifests()) {
            if (json.enabled()) {
                all.add(InspectCommand.describe(d));
            } else {
                out.println((d.refName() == null ? "-" : d.refName()) + "\t" + d.digest() + "\t"
                        + (d.artifactType() != null ? d.artifactType() : d.mediaType()) + "\t" + d.size());
            }
        }
        if (json.enabled()) {
            JsonOption.print(out, all);
        }
        return 0;
    }
}
