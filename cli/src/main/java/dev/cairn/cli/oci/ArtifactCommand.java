package dev.cairn.cli.oci;

import dev.cairn.cli.CommandGroup;
import dev.cairn.cli.JsonOption;
import dev.cairn.cli.Main;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.ImageBuilder;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciLayout;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci artifact}: OCI 1.1 artifacts. */
@Command(name = "artifact", mixinStandardHelpOptions = true, description = "OCI 1.1 artifacts (UKIs, policies, SBOMs, build manifests).")
final class ArtifactCommand extends CommandGroup implements Main.LazySubcommands {
    @Override
    public Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("add", Main.make(Add.class));
        return m;
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Store FILEs as an OCI 1.1 artifact manifest tagged LAYOUT:TAG.",
                    "artifactType T, the empty config (application/vnd.oci.empty.v1+json, {}), one layer per file titled with its file name",
                    "(org.opencontainers.image.title), an optional subject. Without files the layer is the empty blob."})
    static final class Add implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Parameters(index = "0", paramLabel = "LAYOUT:TAG")
        String target;
        @Parameters(index = "1..*", paramLabel = "FILE", description = "Files to attach, in order.")
        List<Path> files = new ArrayList<>();
        @Option(names = "--artifact-type", required = true, paramLabel = "TYPE", description = "artifactType, e.g. application/vnd.cairn.uki.v1.")
        String artifactType;
        @Option(names = "--file-type", paramLabel = "TYPE", description = "Media type of the file layers (default: the artifact type).")
        String fileType;
        @Option(names = "--subject", paramLabel = "TAG|DIGEST", description = "The manifest (in the same layout) this artifact refers to.")
        String subject;
        @Option(names = "--annotation", paramLabel = "KEY=VALUE", description = "Manifest annotation (repeatable).")
        List<String> annotations = new ArrayList<>();
        @Mixin
        JsonOption json;

        @Override
        public Integer call() throws IOException {
            LayoutRef ref = LayoutRef.parse(target, true);
            Map<String, String> ann = new TreeMap<>();
            for (String a : annotations) {
                int eq = a.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--annotation must be KEY=VALUE, not '" + a + "'");
                }
                ann.put(a.substring(0, eq), a.substring(eq + 1));
            }
            for (Path f : files) {
                if (!Files.isRegularFile(f)) {
                    throw new java.nio.file.NoSuchFileException(f.toString(), null, "no such file");
                }
            }
            OciLayout layout = OciLayout.openOrCreate(ref.layout());
            Descriptor subj = subject == null ? null : layout.resolve(subject);
            if (subj != null && !MediaTypes.isManifest(subj.mediaType()) && !MediaTypes.isIndex(subj.mediaType())) {
                throw new IllegalArgumentException("--subject " + subject + " is a " + subj.mediaType() + ", not a manifest");
            }
            String type = fileType == null ? artifactType : fileType;
            List<Descriptor> layers = new ArrayList<>();
            for (Path f : files) {
                Descriptor d;
                try (InputStream in = Files.newInputStream(f)) {
                    d = layout.putBlob(in, type, null, -1);
                }
                layers.add(d.withAnnotation(MediaTypes.TITLE, f.getFileName().toString()));
            }
            Descriptor m = ImageBuilder.addArtifact(layout, ref.tag(), artifactType, layers, subj, ann);
            if (json.enabled()) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("layout", ref.layout().toString());
                o.put("tag", ref.tag());
                o.put("manifest", m.digest().toString());
                o.put("artifactType", artifactType);
                o.put("subject", subj == null ? null : subj.digest().toString());
                o.put("files", layers.stream().map(d -> d.digest().toString()).toList());
                JsonOption.print(spec.commandLine().getOut(), o);
            } else {
                spec.commandLine().getOut().println("Stored artifact " + ref + ": manifest " + m.digest() + " (" + artifactType + ", "
                        + layers.size() + (layers.size() == 1 ? " file" : " files") + (subj == null ? "" : ", subject " + subj.digest()) + ")");
            }
            return 0;
        }
    }
}
