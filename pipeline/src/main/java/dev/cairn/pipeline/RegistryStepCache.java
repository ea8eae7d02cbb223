package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cairn.oci.Descriptor;
import dev.cairn.oci.Digest;
import dev.cairn.oci.Manifest;
import dev.cairn.oci.MediaTypes;
import dev.cairn.oci.OciJson;
import dev.cairn.oci.RegistryClient;
import dev.cairn.oci.RegistryException;
import dev.cairn.oci.RegistryReference;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Step-cache entries in OCI registries, for CI fleets whose jobs start on new machines
 * ({@code --cache-from}/{@code --cache-to REPO}). Each entry is an OCI artifact tagged
 * {@code STEP-KEY} in the cache repository: an empty config, one layer per output file (titled
 * with its name) plus the step's {@code result.json}, and annotations naming the step, the key and
 * its key material. A look-up is a HEAD of that tag; a hit is fetched by digest, every blob is
 * verified against its digest while it streams, and the result's recorded file digests must match
 * the layers, or the entry is rejected (a warning) and the step is built. An unreachable or
 * misbehaving registry is a warning, then left alone for the rest of the build; it never fails
 * one. Entries are data, not provenance: every signature of the set is made by this build or
 * verified against this build's certificates, and the finished set passes the whole-set check.
 */
final class RegistryStepCache implements AutoCloseable {
    static final String ARTIFACT_TYPE = "application/vnd.cairn.cache.v1";
    static final String FILE_TYPE = "application/vnd.cairn.cache.file.v1";
    static final String RESULT_TYPE = "application/vnd.cairn.cache.result.v1+json";
    static final String STEP_ANNOTATION = "dev.cairn.cache.step";
    static final String KEY_ANNOTATION = "dev.cairn.cache.key";
    static final String MATERIAL_ANNOTATION = "dev.cairn.cache.key-material";

    private final List<RegistryReference> from;
    private final List<RegistryReference> to;
    private final RegistryAccess access;
    private final BuildListener listener;
    private final Map<String, RegistryClient> clients = new LinkedHashMap<>();
    private final Set<RegistryReference> broken = new HashSet<>();

    private RegistryStepCache(List<RegistryReference> from, List<RegistryReference> to, RegistryAccess access, BuildListener listener) {
        this.from = from;
        this.to = to;
        this.access = access;
        this.listener = listener;
    }

    /** The registry caches of a build; null when it names none. */
    static RegistryStepCache of(List<String> from, List<String> to, RegistryAccess access, BuildListener listener) {
        if (from.isEmpty() && to.isEmpty()) {
            return null;
        }
        return new RegistryStepCache(from.stream().map(r -> repository(r, "--cache-from")).toList(),
                to.stream().map(r -> repository(r, "--cache-to")).toList(), access, listener);
    }

    /** {@code HOST[:PORT]/REPO} as a reference (tags are the cache's own). */
    static RegistryReference repository(String s, String option) {
        int slash = s.indexOf('/');
        if (slash < 0 || s.indexOf('@') >= 0 || s.lastIndexOf(':') > slash) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, option + " " + s
                    + ": give a registry repository HOST[:PORT]/REPOSITORY, without tag or digest (entries are tagged by step key)");
        }
        try {
            return RegistryReference.parse(s + ":cache");
        } catch (IllegalArgumentException e) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, option + " " + s + ": " + e.getMessage(), e);
        }
    }

    static String tag(String step, String key) {
        return step + "-" + key;
    }

    private static String name(RegistryReference r) {
        return r.registry() + "/" + r.repository();
    }

    /**
     * Looks {@code step}/{@code key} up in each {@code --cache-from} repository in turn; the first
     * sound entry is installed as the local entry. Returns the repository it came from.
     */
    Optional<String> fetch(String step, StepCache.Key key, List<String> files, StepCache local) {
        String tag = tag(step, key.hex());
        for (RegistryReference repo : from) {
            if (broken.contains(repo)) {
                continue;
            }
            RegistryReference ref = repo.withReference(tag);
            Path tmp = null;
            try {
                RegistryClient client = client(repo.registry());
                Optional<Digest> found = client.headManifest(ref, tag);
                if (found.isEmpty()) {
                    continue;
                }
                byte[] bytes = client.getManifest(ref, found.get().toString()).bytes();
                Manifest m = OciJson.decode(bytes, Manifest.class, "cache entry " + name(repo) + ":" + tag);
                Map<String, Descriptor> layers = check(m, step, key.hex(), files);
                tmp = local.newEntryDir(step);
                for (Map.Entry<String, Descriptor> e : layers.entrySet()) {
                    // the stream fails at its end unless size and digest match the descriptor
                    try (InputStream in = client.getBlob(ref, e.getValue())) {
                        Files.copy(in, tmp.resolve(e.getKey()));
                    }
                }
                JsonNode result = OciJson.tree(Files.readAllBytes(tmp.resolve(StepCache.RESULT)), "result.json of " + tag);
                for (String f : files) {
                    String recorded = result.path("files").path(f).asText("");
                    if (!("sha256:" + recorded).equals(layers.get(f).digest().toString())) {
                        throw new dev.cairn.io.FormatException("files." + f, recorded, "result.json records another digest than the "
                                + "entry's layer " + layers.get(f).digest());
                    }
                }
                local.install(tmp.getParent(), tmp, key.hex());
                tmp = null;
                return Optional.of(name(repo));
            } catch (IOException | RuntimeException e) {
                trouble(repo, e, "entry " + tag + " not used (" + step + " is built instead)");
            } finally {
                if (tmp != null) {
                    try {
                        StepCache.discard(tmp);
                    } catch (IOException ignored) {
                        // the next build sweeps .new-* entries (StepCache.sweep)
                    }
                }
            }
        }
        return Optional.empty();
    }

    /** The entry's layers by title, checked against what the step writes; throws when it is not a cairn cache entry for this key. */
    private static Map<String, Descriptor> check(Manifest m, String step, String key, List<String> files) throws IOException {
        if (!ARTIFACT_TYPE.equals(m.artifactType()) || !key.equals(m.annotations().get(KEY_ANNOTATION))
                || !step.equals(m.annotations().get(STEP_ANNOTATION))) {
            throw new dev.cairn.io.FormatException("manifest", m.artifactType(), "not the cairn cache entry of " + step + " " + key);
        }
        Set<String> expected = new HashSet<>(files);
        expected.add(StepCache.RESULT);
        Map<String, Descriptor> layers = new TreeMap<>();
        for (Descriptor d : m.layers()) {
            String title = d.annotations() == null ? null : d.annotations().get(MediaTypes.TITLE);
            if (title == null || !expected.contains(title) || layers.put(title, d) != null) {
                throw new dev.cairn.io.FormatException("layers", title, "unexpected layer in the cache entry of " + step);
            }
        }
        if (!layers.keySet().equals(expected)) {
            throw new dev.cairn.io.FormatException("layers", layers.keySet(), "the cache entry of " + step + " lacks files of " + expected);
        }
        if (layers.get(StepCache.RESULT).size() > ManifestJson.MAX_BYTES) {
            throw new dev.cairn.io.FormatException("result.json", layers.get(StepCache.RESULT).size(), "too large");
        }
        return layers;
    }

    /** Pushes the local entry {@code entry} (files and result.json) to each {@code --cache-to} repository. */
    void store(String step, StepCache.Key key, Path entry, List<String> files) {
        String tag = tag(step, key.hex());
        for (RegistryReference repo : to) {
            if (broken.contains(repo)) {
                continue;
            }
            RegistryReference ref = repo.withReference(tag);
            try {
                RegistryClient client = client(repo.registry());
                Descriptor config = Descriptor.empty();
                client.pushBlob(ref, config, offset -> new java.io.ByteArrayInputStream(MediaTypes.EMPTY_JSON, Math.toIntExact(offset),
                        MediaTypes.EMPTY_JSON.length - Math.toIntExact(offset)));
                List<Descriptor> layers = new ArrayList<>();
                List<String> names = new ArrayList<>(files);
                names.add(StepCache.RESULT);
                for (String f : names) {
                    Path p = entry.resolve(f);
                    Descriptor d = Descriptor.of(f.equals(StepCache.RESULT) ? RESULT_TYPE : FILE_TYPE,
                            Digest.of("sha256:" + StepCache.digest(p)), Files.size(p)).withAnnotation(MediaTypes.TITLE, f);
                    client.pushBlob(ref, d, fileSource(p));
                    layers.add(d);
                }
                Map<String, String> ann = new TreeMap<>();
                ann.put(STEP_ANNOTATION, step);
                ann.put(KEY_ANNOTATION, key.hex());
                ann.put(MATERIAL_ANNOTATION, new String(OciJson.encode(key.material()), java.nio.charset.StandardCharsets.UTF_8));
                byte[] manifest = OciJson.encode(Manifest.of(ARTIFACT_TYPE, config, layers, null, ann));
                client.putManifest(ref, tag, manifest, MediaTypes.MANIFEST);
            } catch (IOException | RuntimeException e) {
                trouble(repo, e, "cannot store " + tag);
            }
        }
    }

    private static RegistryClient.BlobSource fileSource(Path p) {
        return new RegistryClient.BlobSource() {
            @Override
            public InputStream open(long offset) throws IOException {
                InputStream in = Files.newInputStream(p);
                in.skipNBytes(offset);
                return in;
            }

            @Override
            public Path file() {
                return p;
            }
        };
    }

    /** A warning; a registry that cannot be reached (or refuses us) is not asked again in this build. */
    private void trouble(RegistryReference repo, Exception e, String what) {
        String why = e instanceof IOException io ? PipelineException.describe(io) : e.getMessage();
        boolean unreachable = e instanceof RegistryException re && (re.status() == -1 || re.status() == -2 || re.status() == 401
                || re.status() == 403 || re.status() >= 500);
        if (unreachable) {
            broken.add(repo);
        }
        listener.warning("step cache " + name(repo) + ": " + what + ": " + why + (unreachable ? " (not asked again in this build)" : ""));
    }

    private RegistryClient client(String registry) throws IOException {
        RegistryClient c = clients.get(registry);
        if (c == null) {
            c = access.open(registry);
            clients.put(registry, c);
        }
        return c;
    }

    @Override
    public void close() {
        for (RegistryClient c : clients.values()) {
            c.close();
        }
        clients.clear();
    }
}
