package dev.cairn.cli.verity;

import dev.cairn.io.FormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The root hash, as the ROOT_HASH argument or from {@code --root-hash-file} (exactly one). */
public final class RootHashInput {
    @Option(names = "--root-hash-file", paramLabel = "FILE", description = "Read the root hash (hex) from FILE.")
    Path rootHashFile;

    byte[] read(String rootHash) throws IOException {
        if ((rootHash == null) == (rootHashFile == null)) {
            throw new IllegalArgumentException("give the root hash either as an argument or with --root-hash-file");
        }
        String hex = rootHash;
        String what = "root hash";
        if (rootHashFile != null) {
            if (Files.size(rootHashFile) > 1024) {
                throw new FormatException("--root-hash-file", rootHashFile, "root hash file is too large");
            }
            hex = Files.readString(rootHashFile, StandardCharsets.US_ASCII).strip();
            what = rootHashFile.toString();
        }
        return VerityOptions.parseHex(what, hex);
    }
}
