package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.pipeline.disk.WrittenPartition;
import dev.cairn.pipeline.sysext.ExtensionRelease;
import dev.cairn.pipeline.sysext.OsRelease;
import dev.cairn.pipeline.sysext.SysextRequest;
import dev.cairn.pipeline.sysext.SysextResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The {@code extensions:} steps of a build: each entry becomes {@code OUT/extensions/NAME.raw}
 * through {@link dev.cairn.pipeline.sysext.SysextBuilder}, its root hash signed by the role that
 * signs the root's ({@code verity}, default the secureboot key). What the manifest, the IPE policy
 * and the disk's ESP take from the results lives here too (docs/build-spec.md "extensions").
 */
final class ExtensionStep {
    /** The extensions' directory in OUT. */
    static final String DIR = "extensions";
    /** The add-on directory systemd-stub reads next to the UKI the firmware boots (ESP path without the leading slash). */
    static final String ESP_DIR_SUFFIX = ".extra.d";
    /** Labels of the extensions' root-hash signatures in a signing request: {@code roothash:extension:NAME}. */
    static final String SIGNATURE_LABEL = "roothash:extension:";
    /** Artifact names in the manifest: {@code extension:NAME} (the image), {@code extension:NAME:verity} … (sidecars). */
    static final String ARTIFACT = "extension:";

    private ExtensionStep() {
    }

    static String stepName(BuildSpec.Extension x) {
        // a cache directory name (and registry tag part): no '+'
        return "extension-" + x.name().replace('+', '_');
    }

    static String signatureLabel(BuildSpec.Extension x) {
        return SIGNATURE_LABEL + x.name();
    }

    static boolean isSignatureLabel(String label) {
        return label != null && label.startsWith(SIGNATURE_LABEL);
    }

    static String nameOfLabel(String label) {
        return label.substring(SIGNATURE_LABEL.length());
    }

    /** The files the step writes into {@code OUT/extensions}: the image, and for a naked SquashFS its sidecars. */
    static List<String> files(BuildSpec.Extension x) {
        String n = x.name();
        return x.format() == SysextRequest.Format.DDI ? List.of(n + ExtensionRelease.SUFFIX)
                : List.of(n + ExtensionRelease.SUFFIX, n + ".verity", n + ".roothash", n + ".roothash.p7s");
    }

    /**
     * The extension-release an entry gets: its own osId/versionId/sysextLevel, the missing ones from
     * the root filesystem's os-release ({@code ID}; {@code VERSION_ID} unless a level is given).
     */
    static ExtensionRelease release(BuildSpec spec, BuildSpec.Extension x, OsRelease os) {
        String id = x.osId();
        String version = x.versionId();
        boolean needVersion = version == null && x.sysextLevel() == null;
        if (id == null || needVersion) {
            String what = id == null && needVersion ? "ID and VERSION_ID" : id == null ? "ID" : "VERSION_ID";
            if (os == null) {
                throw new PipelineException(PipelineException.Kind.BAD_INPUT, spec.file() + ": extension " + x.name() + " takes "
                        + what + " from the root filesystem's os-release, but it has neither /etc/os-release nor "
                        + "/usr/lib/os-release: give osId and versionId (or sysextLevel) in the extension's entry");
            }
            if (id == null) {
                id = os.get("ID");
                if (id == null || id.isEmpty()) {
                    throw new PipelineException(PipelineException.Kind.BAD_INPUT, spec.file() + ": extension " + x.name()
                            + " takes ID from the root filesystem's /" + os.path() + ", which has no ID=: give osId");
                }
            }
            if (needVersion) {
                version = os.get("VERSION_ID");
                if (version == null || version.isEmpty()) {
                    throw new PipelineException(PipelineException.Kind.BAD_INPUT, spec.file() + ": extension " + x.name()
                            + " takes VERSION_ID from the root filesystem's /" + os.path() + ", which has none (a rolling release?):"
                            + " give versionId or sysextLevel");
                }
            }
        }
        try {
            return new ExtensionRelease(x.kind(), x.name(), id, version, x.sysextLevel(), x.arch());
        } catch (IllegalArgumentException e) {
            throw new PipelineException(PipelineException.Kind.BAD_INPUT, spec.file() + ": extension " + x.name() + ": " + e.getMessage()
                    + (os != null ? " (from the root filesystem's /" + os.path() + ")" : ""));
        }
    }

    /** The step's result (the manifest's {@code extensions[]} entry), with the SHA-256 of each file written. */
    static ObjectNode result(BuildSpec.Extension x, SysextResult r, Path dir) throws IOException {
        ObjectNode n = ManifestJson.object();
        n.put("name", x.name());
        n.put("path", x.path());
        n.put("kind", r.release().kind().label());
        n.put("format", r.format().name().toLowerCase(Locale.ROOT));
        n.put("compression", x.compression().name().toLowerCase(Locale.ROOT));
        n.put("extensionRelease", "/" + r.release().path());
        n.put("release", r.release().content());
        n.put("rootHash", r.rootHash());
        n.put("signed", r.signed());
        n.put("size", r.size());
        n.put("sha256", r.sha256());
        if (r.diskGuid() != null) {
            n.put("diskGuid", r.diskGuid().toString());
            ArrayNode ps = n.putArray("partitions");
            for (WrittenPartition p : r.partitions()) {
                ObjectNode e = ps.addObject();
                e.put("number", p.number());
                e.put("designator", p.designator());
                e.put("uuid", p.uuid().toString());
                e.put("offset", p.offset());
                e.put("size", p.size());
            }
        }
        ArrayNode side = n.putArray("sidecars");
        for (String f : files(x).subList(1, files(x).size())) {
            side.add(DIR + "/" + f);
        }
        return n;
    }

    /** A restored cache entry made sound: each file has the size and digest the entry records, else it throws. */
    static ObjectNode checkRestored(ObjectNode hit, Path dir) throws IOException {
        Path img = dir.resolve(Path.of(hit.path("path").asText()).getFileName().toString());
        if (Files.size(img) != hit.path("size").asLong() || !StepCache.digest(img).equals(hit.path("sha256").asText())) {
            throw new PipelineException(PipelineException.Kind.IO, img.getFileName() + " is not the image the entry records");
        }
        return hit;
    }

    /** The root hashes of {@code extensions}, ordered by extension name (UTF-8 byte order; names are ASCII). */
    static List<String> rootHashesByName(List<ObjectNode> extensions) {
        return extensions.stream().sorted(Comparator.comparing(e -> e.path("name").asText()))
                .map(e -> e.path("rootHash").asText()).toList();
    }

    /** The root hash of extension {@code name} in a manifest, or "?" . */
    static String rootHashOf(ObjectNode manifest, String name) {
        for (JsonNode e : manifest.path("extensions")) {
            if (e.path("name").asText().equals(name)) {
                return e.path("rootHash").asText();
            }
        }
        return "?";
    }

    /** The manifest's artifacts of each extension: the image (with its root hash), then its sidecars. */
    static void artifacts(ArrayNode artifacts, List<ObjectNode> extensions, Path staging) throws IOException {
        for (ObjectNode e : extensions) {
            String name = e.path("name").asText();
            List<String> paths = new ArrayList<>();
            paths.add(e.path("path").asText());
            e.path("sidecars").forEach(s -> paths.add(s.asText()));
            for (String rel : paths) {
                Path p = staging.resolve(rel);
                ObjectNode a = artifacts.addObject();
                String file = p.getFileName().toString();
                a.put("name", rel.equals(e.path("path").asText()) ? ARTIFACT + name
                        : ARTIFACT + name + ":" + file.substring(name.length() + 1));
                a.put("path", rel);
                a.put("size", Files.size(p));
                a.put("sha256", StepCache.digest(p));
                if (rel.equals(e.path("path").asText())) {
                    a.put("rootHash", e.path("rootHash").asText());
                }
            }
        }
    }

    /** An extension image placed on the ESP: its ESP path (after {@code /EFI/BOOT/BOOTX64.EFI.extra.d/}) and its file. */
    record EspFile(String name, Path file) {
    }

    /** The extension images for the ESP, by name. */
    static List<EspFile> espFiles(List<ObjectNode> extensions, Path staging) {
        return extensions.stream().sorted(Comparator.comparing(e -> e.path("name").asText()))
                .map(e -> new EspFile(e.path("name").asText() + ExtensionRelease.SUFFIX, staging.resolve(e.path("path").asText())))
                .toList();
    }
}
