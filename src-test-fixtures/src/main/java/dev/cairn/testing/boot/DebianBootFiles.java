package dev.cairn.testing.boot;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Debian's systemd stub and kernel, required like oracle tools: a skip on a laptop without them,
 * a failure under {@code CI=true} naming the package to install.
 */
public final class DebianBootFiles {
    /** Debian 12's stub (systemd-boot-efi 252). */
    public static final Path STUB = Path.of("/usr/lib/systemd/boot/efi/linuxx64.efi.stub");

    private DebianBootFiles() {
    }

    public static Path stub() {
        return ToolOracle.requireFile(STUB, "systemd-boot-efi");
    }

    /** The newest {@code /boot/vmlinuz-*} (by version, not by name), from linux-image-amd64. */
    public static Path kernel() {
        Path boot = Path.of("/boot");
        if (Files.isDirectory(boot)) {
            try (Stream<Path> s = Files.list(boot)) {
                List<Path> k = s.filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
                        .sorted(Comparator.comparing(p -> versionKey(release(p)))).toList();
                if (!k.isEmpty()) {
                    return ToolOracle.requireFile(k.get(k.size() - 1), "linux-image-amd64");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return ToolOracle.requireFile(boot.resolve("vmlinuz"), "linux-image-amd64");
    }

    /** {@code uname -r} of a /boot/vmlinuz-RELEASE file. */
    public static String release(Path kernel) {
        return kernel.getFileName().toString().replaceFirst("^vmlinuz-", "");
    }

    /** Numbers zero-padded so that 6.1.0-10 sorts after 6.1.0-9. */
    static String versionKey(String release) {
        StringBuilder sb = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+|\\D+").matcher(release);
        while (m.find()) {
            String t = m.group();
            sb.append(Character.isDigit(t.charAt(0)) ? String.format("%012d", Long.parseLong(t.length() > 12 ? t.substring(0, 12) : t)) : t);
        }
        return sb.toString();
    }
}
