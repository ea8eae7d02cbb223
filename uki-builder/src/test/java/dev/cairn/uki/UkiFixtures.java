package dev.cairn.uki;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Debian's stub and kernel, required like oracle tools (skip locally, fail in CI when missing). */
final class UkiFixtures {
    static final Path STUB = Path.of("/usr/lib/systemd/boot/efi/linuxx64.efi.stub");

    private UkiFixtures() {
    }

    static Path stub() {
        return ToolOracle.requireFile(STUB, "systemd-boot-efi");
    }

    /** The newest /boot/vmlinuz-* (Debian's signed EFI-stub kernel). */
    static Path kernel() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/boot"))) {
            List<Path> k = s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).sorted().toList();
            if (k.isEmpty()) {
                return ToolOracle.requireFile(Path.of("/boot/vmlinuz"), "linux-image-amd64");
            }
            return k.get(k.size() - 1);
        }
    }
}
