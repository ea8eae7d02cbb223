package dev.cairn.cli.oci;

import dev.cairn.cli.JsonOption;
import dev.cairn.oci.GcResult;
import dev.cairn.oci.OciLayout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci gc}: delete unreferenced blobs. */
@Command(name = "gc", mixinStandardHelpOptions = true,
        description = {"Delete blobs that nothing reachable from index.json references.",
                "The layout is read (and every manifest verified) first; a layout that cannot be read completely is left untouched."})
final class GcCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "LAYOUT")
    Path layoutDir;
    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws IOException {
        GcResult r = OciLayout.open(layoutDir).gc();
        if (json.enabled()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("removed", r.removed().stream().map(Object::toString).toList());
            m.put("bytesFreed", r.bytesFreed());
            m.put("kept", r.kept());
            JsonOption.print(spec.commandLine().getOut(), m);
        } else {
            spec.commandLine().getOut().println("Removed " + r.removed().size() + " unreferenced blobs (" + r.bytesFreed()
                    + " bytes), kept " + r.kept());
        }
        return 0;
    }
}
