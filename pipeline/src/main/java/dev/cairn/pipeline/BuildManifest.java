package dev.cairn.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A build manifest ({@code OUT/manifest.json}) as read: the image, the source date epoch, every
 * artifact with its size and SHA-256, the dm-verity root hash, and the whole document. Reading it
 * checks only its form; {@link ImageSetVerifier} checks what it says against the files and the
 * signatures.
 */
public record BuildManifest(String name, String version, long sourceDateEpoch, List<Artifact> artifacts, String rootHash,
                            JsonNode json) {
    /** The manifest's file name in an image set. */
    public static final String FILE = "manifest.json";
    /** Its detached CMS signature. */
    public static final String SIGNATURE_FILE = "manifest.json.p7s";

    public BuildManifest {
        artifacts = List.copyOf(artifacts);
        json = json.deepCopy();
    }

    /** One file of the set. */
    public record Artifact(String name, String path, long size, String sha256) {
    }

    @Override
    public JsonNode json() {
        return json.deepCopy();
    }

    /** The artifact called {@code name} ({@code rootfs}, {@code uki}, ...), if the set has one. */
    public java.util.Optional<Artifact> artifact(String name) {
        return artifacts.stream().filter(a -> a.name().equals(name)).findFirst();
    }

    /** Reads {@code OUT/manifest.json} (give the directory) or the manifest file itself. */
    public static BuildManifest read(Path dirOrFile) throws IOException {
        Path file = Files.isDirectory(dirOrFile) ? dirOrFile.resolve(FILE) : dirOrFile;
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new java.nio.file.NoSuchFileException(file.toString(), null, "no build manifest");
        }
        if (Files.size(file) > ManifestJson.MAX_BYTES) {
            throw new dev.cairn.io.FormatException("manifest", file, "larger than " + ManifestJson.MAX_BYTES + " bytes");
        }
        return of(ManifestJson.decode(Files.readAllBytes(file), file));
    }

    static BuildManifest of(ObjectNode m) {
        List<Artifact> list = new ArrayList<>();
        for (JsonNode a : m.path("artifacts")) {
            list.add(new Artifact(a.path("name").asText(), a.path("path").asText(), a.path("size").asLong(), a.path("sha256").asText()));
        }
        return new BuildManifest(m.path("image").path("name").asText(), m.path("image").path("version").asText(),
                m.path("sourceDateEpoch").asLong(), list, m.path("verity").path("rootHash").asText(), m);
    }
}
