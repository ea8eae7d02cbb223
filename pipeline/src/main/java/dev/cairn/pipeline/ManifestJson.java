package dev.cairn.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cairn.io.FormatException;
import java.nio.charset.StandardCharsets;

/**
 * The build manifest's JSON: keys in the order cairn inserts them, two-space indent, {@code \n}
 * line ends on every OS, one final newline — the same bytes for the same build everywhere.
 */
final class ManifestJson {
    static final String MEDIA_TYPE = "application/vnd.cairn.build-manifest.v1+json";
    static final int MAX_BYTES = 4 * 1024 * 1024;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ManifestJson() {
    }

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static byte[] encode(JsonNode n) {
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"))
                .withArrayIndenter(new DefaultIndenter("  ", "\n"));
        try {
            return (MAPPER.writer(pp).writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static ObjectNode decode(byte[] b, Object where) throws FormatException {
        if (b.length > MAX_BYTES) {
            throw new FormatException("manifest", where, "larger than " + MAX_BYTES + " bytes");
        }
        try {
            JsonNode n = MAPPER.readTree(b);
            if (!(n instanceof ObjectNode o) || !MEDIA_TYPE.equals(o.path("mediaType").asText())) {
                throw new FormatException("manifest", where, "not a cairn build manifest (mediaType " + MEDIA_TYPE + ")");
            }
            return o;
        } catch (java.io.IOException e) {
            if (e instanceof FormatException f) {
                throw f;
            }
            throw new FormatException("manifest", where, "not valid JSON: " + e.getMessage());
        }
    }
}
