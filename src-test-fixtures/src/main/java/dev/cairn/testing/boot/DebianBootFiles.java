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
    /** Debian 12's default kernel series (linux-image-amd64), which every boot test but the IPE one boots. */
    public static final String DEFAULT_SERIES = "6.1";
    /** The series Debian 12 ships in bookworm-security with IPE built in (CONFIG_SECURITY_IPE=y). */
    public static final String IPE_SERIES = "6.12";
    /** What .ci/run installs for {@link #ipeKernel()}: the newest {@code linux-image-6.12.<N>+deb12-amd64}. */
    public static final String IPE_PACKAGE = "linux-image-6.12.<N>+deb12-amd64 (newest in bookworm-security)";

    private DebianBootFiles() {
    }

    public static Path stub() {
        return ToolOracle.requireFile(STUB, "systemd-boot-efi");
    }

    /**
     * The newest {@code /boot/vmlinuz-6.1.*} (by version, not by name), from linux-image-amd64. Kept to the 6.1 series so
     * that installing the 6.12 kernel for {@link #ipeKernel()} does not silently switch the other boot tests.
     */
    public static Path kernel() {
        return newest(DEFAULT_SERIES, "linux-image-amd64");
    }

    /** The newest {@code /boot/vmlinuz-6.12.*}: Debian 12's backported kernel with IPE (see docs/signing.md "IPE"). */
    public static Path ipeKernel() {
        return newest(IPE_SERIES, IPE_PACKAGE);
    }

    private static Path newest(String series, String debianPackage) {
        Path boot = Path.of("/boot");
        List<Path> all = List.of();
        if (Files.isDirectory(boot)) {
            try (Stream<Path> s = Files.list(boot)) {
                all = s.toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return ToolOracle.requireFile(newestOfSeries(all, series).orElse(boot.resolve("vmlinuz-" + series + ".*")), debianPackage);
    }

    /** Among {@code vmlinuz-RELEASE} files, the one of the newest release in {@code series} (e.g. 6.1 matches 6.1.0-56-amd64, not 6.12.x). */
    static java.util.Optional<Path> newestOfSeries(List<Path> files, String series) {
        return files.stream().filter(p -> p.getFileName().toString().startsWith("vmlinuz-" + series + "."))
                .max(Comparator.comparing(p -> versionKey(release(p))));
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
