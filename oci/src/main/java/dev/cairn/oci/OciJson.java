package dev.cairn.oci;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.cairn.io.FormatException;
import java.io.IOException;

/**
 * The one JSON configuration of the module. Output is compact, keys in record order, map entries
 * sorted: the same value always gives the same bytes. Input is parsed with limits (nesting depth,
 * string length); unknown fields are ignored as image-spec requires; malformed JSON becomes a
 * {@link FormatException} naming what was read and where (line, column, field), never quoting the
 * input: some of it is secret (a docker config.json's {@code auth}, a credential helper's answer, a
 * token response), and Jackson's messages quote the offending token, so they are neither copied
 * into ours nor chained as the cause.
 */
public final class OciJson {
    private OciJson() {
    }

    /** Largest manifest or index cairn reads (distribution-spec asks registries to take at least 4 MB). */
    public static final int MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
    /** Largest image config cairn reads. */
    public static final int MAX_CONFIG_BYTES = 8 * 1024 * 1024;

    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64)
                            .maxStringLength(MAX_CONFIG_BYTES).maxNumberLength(32).build()).build())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .disable(SerializationFeature.INDENT_OUTPUT)
            .build();

    /** Deterministic compact encoding of a record, map or tree. */
    public static byte[] encode(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    /** Parses {@code bytes} (read from {@code what}) as {@code type}, refusing malformed or invalid values. */
    public static <T> T decode(byte[] bytes, Class<T> type, String what) throws FormatException {
        try {
            T v = MAPPER.readValue(bytes, type);
            if (v == null) {
                throw new FormatException(what, null, "is JSON null, not a " + type.getSimpleName());
            }
            return v;
        } catch (FormatException e) {
            throw e;
        } catch (IOException e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            if (root instanceof IllegalArgumentException || root instanceof FormatException) {
                // our own validation (a record's constructor): its message is ours, without Jackson's
                throw new FormatException(what + ": not a valid " + type.getSimpleName() + ": " + root.getMessage(), root);
            }
            throw new FormatException(what + ": not a valid " + type.getSimpleName() + ": " + problem(e));
        }
    }

    /** Parses bytes as a JSON tree (for configs, which are kept as opaque JSON). */
    public static JsonNode tree(byte[] bytes, String what) throws FormatException {
        try {
            JsonNode n = MAPPER.readTree(bytes);
            if (n == null || n.isMissingNode()) {
                throw new FormatException(what + ": empty JSON document");
            }
            return n;
        } catch (FormatException e) {
            throw e;
        } catch (IOException e) {
            throw new FormatException(what + ": malformed JSON: " + problem(e));
        }
    }

    /**
     * What kind of problem {@code e} is and where, without any of the input: the kind from the
     * exception's class, the place from its location and (for mapping errors) its field path.
     */
    static String problem(IOException e) {
        String kind;
        if (e instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException) {
            kind = "exceeds a parser limit (nesting depth, string or number length)";
        } else if (e instanceof com.fasterxml.jackson.core.io.JsonEOFException) {
            kind = "unexpected end of input";
        } else if (e instanceof com.fasterxml.jackson.core.JsonParseException) {
            kind = "syntax error";
        } else if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException) {
            kind = "wrong type or missing value";
        } else if (e instanceof com.fasterxml.jackson.databind.JsonMappingException) {
            kind = "invalid value";
        } else if (e instanceof JsonProcessingException) {
            kind = "invalid JSON";
        } else {
            kind = "cannot be read (" + e.getClass().getSimpleName() + ")";
        }
        StringBuilder sb = new StringBuilder(kind);
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()) {
            StringBuilder path = new StringBuilder();
            for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : m.getPath()) {
                if (r.getFieldName() != null) {
                    path.append(path.length() == 0 ? "" : ".").append(r.getFieldName());
                } else if (r.getIndex() >= 0) {
                    path.append('[').append(r.getIndex()).append(']');
                }
            }
            if (path.length() > 0) {
                sb.append(" at ").append(path);
            }
        }
        if (e instanceof JsonProcessingException p && p.getLocation() != null && p.getLocation().getLineNr() > 0) {
            sb.append(" (line ").append(p.getLocation().getLineNr()).append(", column ").append(p.getLocation().getColumnNr()).append(')');
        }
        return sb.toString();
    }
}
