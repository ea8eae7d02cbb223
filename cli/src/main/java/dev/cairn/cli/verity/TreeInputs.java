package dev.cairn.cli.verity;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** DATA HASH [ROOT_HASH | --root-hash-file F]: the inputs of every command that checks a tree. */
public final class TreeInputs {
    @Parameters(index = "0", paramLabel = "DATA", description = "Data file or device.")
    Path data;

    @Parameters(index = "1", paramLabel = "HASH", description = "Hash file (may be DATA with --hash-offset).")
    Path hash;

    @Parameters(index = "2", arity = "0..1", paramLabel = "ROOT_HASH", description = "Root hash as hex (or use --root-hash-file).")
    String rootHashArg;

    @Mixin
    RootHashInput root;

    byte[] rootHash() throws IOException {
        return root.read(rootHashArg);
    }
}
