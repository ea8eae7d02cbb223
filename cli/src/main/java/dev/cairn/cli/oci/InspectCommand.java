package dev.cairn.cli.oci;

import dev.cairn.cli.JsonOption;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.ImageIndex;
import dev.cairn.oci.LayoutWalk;
import dev.cairn.oci.Manifest;
import dev.cairn.oci.ManifestBlob;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciJson;
import dev.cairn.oci.OciLayout;
import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import java.io.InputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cairn oci inspect}: one image or artifact, or the whole layout. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show an image, artifact or index, or a whole layout.",
                "For LAYOUT:TAG (or LAYOUT:sha256:…): config, layers with sizes and verity root hashes, artifactType, subject and the layout's manifests that refer to it. Without a tag: every entry",
                "of index.json, checked by walking all manifests (digests verified, missing blobs and unknown types reported).",
                "docker://HOST/REPOSITORY:TAG inspects a registry's manifest (referrers API, else the sha256-<hex> tag)."})
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", paramLabel = "LAYOUT[:TAG]|docker://HOST/REPO:TAG")
    String target;
    @Mixin
    JsonOption json;

    @Mixin
    RegistryOptions registry;

    /** Where manifests, configs and referrers come from: a layout or a registry. */
    private interface Source {
        ImageIndex index(Descriptor d) throws IOException;

        Manifest manifest(Descriptor d) throws IOException;

        byte[] config(Descriptor d) throws IOException;

        List<Descriptor> referrers(Descriptor d) throws IOException;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Descriptor d;
        Source src;
        String ref;
        if (target.startsWith("docker://")) {
            RegistryReference r = RegistryReference.parse(target.substring("docker://".length()));
            RegistryClient client = registry.client(r.registry(), System.in);
            ref = target;
            try {
                RegistryClient.FetchedManifest root = client.getManifest(r, r.reference());
                d = root.descriptor();
                src = new Source() {
                    byte[] bytes(Descriptor x) throws IOException {
                        return x.digest().equals(root.descriptor().digest()) ? root.bytes() : client.getManifest(r, x.digest().toString()).bytes();
                    }

                    @Override
                    public ImageIndex index(Descriptor x) throws IOException {
                        return OciJson.decode(bytes(x), ImageIndex.class, "index " + x.digest());
                    }

                    @Override
                    public Manifest manifest(Descriptor x) throws IOException {
                        return OciJson.decode(bytes(x), Manifest.class, "manifest " + x.digest());
                    }

                    @Override
                    public byte[] config(Descriptor x) throws IOException {
                        if (x.size() > OciJson.MAX_CONFIG_BYTES) {
                            throw new dev.cairn.io.FormatException("size", x.size(), "config is larger than the limit");
                        }
                        try (InputStream in = client.getBlob(r, x)) {
                            return in.readAllBytes();
                        }
                    }

                    @Override
                    public List<Descriptor> referrers(Descriptor x) throws IOException {
                        return client.referrers(r, x.digest());
                    }
                };
                return render(out, ref, d, src);
            } catch (RegistryException e) {
                throw new CairnException(ExitCode.REGISTRY, "inspect of " + target + " failed: " + e.getMessage(), e);
            }
        }
        LayoutRef lref = LayoutRef.parse(target.startsWith("oci:") ? target.substring(4) : target, false);
        OciLayout layout = OciLayout.open(lref.layout());
        if (lref.tag() == null) {
            return layoutSummary(layout, out);
        }
        d = layout.resolve(lref.tag());
        src = new Source() {
            @Override
            public ImageIndex index(Descriptor x) throws IOException {
                return layout.readIndex(x);
            }

            @Override
            public Manifest manifest(Descriptor x) throws IOException {
                return layout.readManifest(x).manifest();
            }

            @Override
            public byte[] config(Descriptor x) throws IOException {
                return layout.readBlob(x, OciJson.MAX_CONFIG_BYTES);
            }

            @Override
            public List<Descriptor> referrers(Descriptor x) throws IOException {
                return layout.referrers(x.digest());
            }
        };
        return render(out, lref.toString(), d, src);
    }

    private int render(PrintWriter out, String ref, Descriptor d, Source source) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reference", ref);
        m.put("digest", d.digest().toString());
        m.put("mediaType", d.mediaType());
        m.put("size", d.size());
        if (MediaTypes.isIndex(d.mediaType())) {
            ImageIndex idx = source.index(d);
            m.put("manifests", idx.manifests().stream().map(InspectCommand::describe).toList());
        } else {
            Manifest man = source.manifest(d);
            if (man.artifactType() != null) {
                m.put("artifactType", man.artifactType());
            }
            m.put("config", describe(man.config()));
            List<Object> layers = new ArrayList<>();
            for (Descriptor l : man.layers()) {
                Map<String, Object> lm = describe(l);
                String rh = MediaTypes.verityRootHash(l);
                if (rh != null) {
                    lm.put("verityRootHash", rh);
                }
                layers.add(lm);
            }
            m.put("layers", layers);
            if (man.subject() != null) {
                m.put("subject", describe(man.subject()));
            }
            if (!man.annotations().isEmpty()) {
                m.put("annotations", man.annotations());
            }
            if (MediaTypes.CONFIG.equals(man.config().mediaType())) {
                var cfg = OciJson.tree(source.config(man.config()), "config");
                m.put("os", cfg.path("os").asText(null));
                m.put("architecture", cfg.path("architecture").asText(null));
                List<String> ids = new ArrayList<>();
                cfg.path("rootfs").path("diff_ids").forEach(n -> ids.add(n.asText()));
                m.put("diffIds", ids);
            }
        }
        List<Object> referrers = new ArrayList<>();
        for (Descriptor e : source.referrers(d)) {
            referrers.add(describe(e));
        }
        m.put("referrers", referrers);
        if (json.enabled()) {
            JsonOption.print(out, m);
            return 0;
        }
        out.println(ref + "  " + d.digest() + "  " + d.mediaType() + "  " + d.size() + " bytes");
        if (m.containsKey("artifactType")) {
            out.println("artifactType: " + m.get("artifactType"));
        }
        if (m.containsKey("os")) {
            out.println("platform: " + m.get("os") + "/" + m.get("architecture"));
        }
        if (m.containsKey("config")) {
            out.println("config: " + line(((Map<?, ?>) m.get("config"))));
        }
        for (Object o : (List<?>) m.getOrDefault("layers", m.getOrDefault("manifests", List.of()))) {
            Map<?, ?> lm = (Map<?, ?>) o;
            out.println("  " + line(lm) + (lm.containsKey("verityRootHash") ? "\n    verity root hash " + lm.get("verityRootHash") : ""));
        }
        if (m.containsKey("subject")) {
            out.println("subject: " + line((Map<?, ?>) m.get("subject")));
        }
        for (Object o : referrers) {
            Map<?, ?> r = (Map<?, ?>) o;
            out.println("referrer: " + r.get("digest") + " " + r.get("artifactType"));
        }
        return 0;
    }

    private int layoutSummary(OciLayout layout, PrintWriter out) throws IOException {
        List<Object> entries = new ArrayList<>();
        for (Descriptor d : layout.index().manifests()) {
            entries.add(describe(d));
        }
        LayoutWalk w = layout.walk();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layout", layout.dir().toString());
        m.put("manifests", entries);
        m.put("reachableBlobs", w.reachable().size());
        m.put("missingBlobs", w.missing().stream().map(Object::toString).sorted().toList());
        m.put("unknownMediaTypes", w.unknown());
        if (json.enabled()) {
            JsonOption.print(out, m);
            return 0;
        }
        out.println(layout.dir() + ": " + entries.size() + " index entries, " + w.reachable().size() + " referenced blobs");
        for (Object o : entries) {
            out.println("  " + line((Map<?, ?>) o));
        }
        for (var d : w.missing()) {
            out.println("missing blob: " + d);
        }
        for (String u : w.unknown()) {
            out.println("not followed (unknown media type): " + u);
        }
        return 0;
    }

    static Map<String, Object> describe(Descriptor d) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (d.refName() != null) {
            m.put("tag", d.refName());
        }
        m.put("mediaType", d.mediaType());
        if (d.artifactType() != null) {
            m.put("artifactType", d.artifactType());
        }
        m.put("digest", d.digest().toString());
        m.put("size", d.size());
        Map<String, String> ann = new LinkedHashMap<>(d.annotations());
        ann.remove(MediaTypes.REF_NAME);
        if (!ann.isEmpty()) {
            m.put("annotations", ann);
        }
        return m;
    }

    private static String line(Map<?, ?> m) {
        StringBuilder sb = new StringBuilder();
        if (m.containsKey("tag")) {
            sb.append(m.get("tag")).append("  ");
        }
        sb.append(m.get("digest")).append("  ").append(m.get("mediaType")).append("  ").append(m.get("size")).append(" bytes");
        if (m.containsKey("artifactType")) {
            sb.append("  (").append(m.get("artifactType")).append(')');
        }
        return sb.toString();
    }
}
