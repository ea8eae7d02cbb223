package dev.cairn.cli;

import picocli.CommandLine.Option;

/** {@code --json}: machine-readable output instead of text. */
public final class JsonOption {
    @Option(names = "--json", description = "Print machine-readable JSON instead of text.")
    boolean json;

    public boolean enabled() {
        return json;
    }

    /** Prints {@code value} (maps, lists, records of plain values) as indented JSON. */
    public static void print(java.io.PrintWriter out, Object value) {
        try {
            out.println(new com.fasterxml.jackson.databind.ObjectMapper()
                    .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
