package dev.cairn.uki;

import dev.cairn.testing.boot.DebianBootFiles;
import java.nio.file.Path;

/** Debian's stub and kernel for the uki-builder oracle tests. */
final class UkiFixtures {
    private UkiFixtures() {
    }

    static Path stub() {
        return DebianBootFiles.stub();
    }

    static Path kernel() {
        return DebianBootFiles.kernel();
    }
}
