package dev.cairn.cli.oci;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import dev.cairn.cli.JsonOption;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.Digest;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci tree}: a manifest and what refers to it (signatures, SBOMs, UKIs), recursively. */
@Command(name = "tree", mixinStandardHelpOptions = true,
        description = {"Show a manifest and its referrers, recursively.",
                "Referrers are artifacts whose subject it is, their own referrers, and so on.",
                "REF is LAYOUT:TAG (or oci:LAYOUT:TAG) or docker://HOST/REPOSITORY:TAG; registries are asked through the",
                "referrers API, falling back to the sha256-<hex> tag schema when it is missing (docker-registry 2.8)."})
final class TreeCommand implements Callable<Integer> {
    static final int MAX_DEPTH = 8;
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "REF")
    String ref;
    @Mixin
    RegistryOptions registry;
    @Mixin
    JsonOption json;

    private interface Referrers {
        List<Descriptor> of(Digest d) throws IOException;
    }

    @Override
    public Integer call() throws IOException {
        Descriptor root;
        Referrers source;
        try {
            if (ref.startsWith("docker://")) {
                RegistryReference r = RegistryReference.parse(ref.substring("docker://".length()));
                RegistryClient client = registry.client(r.registry(), System.in);
                root = client.getManifest(r, r.reference()).descriptor();
                source = d -> client.referrers(r, d);
            } else {
                LayoutRef l = LayoutRef.parse(ref.startsWith("oci:") ? ref.substring(4) : ref, true);
                OciLayout layout = OciLayout.open(l.layout());
                root = layout.resolve(l.tag());
                source = layout::referrers;
            }
            Map<String, Object> tree = node(root, source, 0, new HashSet<>());
            PrintWriter out = spec.commandLine().getOut();
            if (json.enabled()) {
                JsonOption.print(out, tree);
            } else {
                out.println(ref + "  " + root.digest() + "  " + root.mediaType());
                print(out, tree, "");
            }
        } catch (RegistryException e) {
            throw new CairnException(ExitCode.REGISTRY, "tree of " + ref + " failed: " + e.getMessage(), e);
        }
        return 0;
    }

    private Map<String, Object> node(Descriptor d, Referrers source, int depth, Set<Digest> seen) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("digest", d.digest().toString());
        m.put("mediaType", d.mediaType());
        if (d.artifactType() != null) {
            m.put("artifactType", d.artifactType());
        }
        m.put("size", d.size());
        List<Object> children = new ArrayList<>();
        if (seen.add(d.digest()) && depth < MAX_DEPTH) {
            for (Descriptor r : source.of(d.digest())) {
                children.add(node(r, source, depth + 1, seen));
            }
        }
        m.put("referrers", children);
        return m;
    }

    private static void print(PrintWriter out, Map<String, Object> node, String indent) {
        List<?> kids = (List<?>) node.get("referrers");
        for (int i = 0; i < kids.size(); i++) {
            Map<?, ?> k = (Map<?, ?>) kids.get(i);
            boolean last = i == kids.size() - 1;
            out.println(indent + (last ? "└── " : "├── ") + k.get("digest") + "  "
                    + (k.containsKey("artifactType") ? k.get("artifactType") : k.get("mediaType")));
            @SuppressWarnings("unchecked")
            Map<String, Object> child = (Map<String, Object>) k;
            print(out, child, indent + (last ? "    " : "│   "));
        }
    }
}
