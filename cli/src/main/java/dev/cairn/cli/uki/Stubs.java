package dev.cairn.cli.uki;

import dev.cairn.cli.CairnException;
import dev.cairn.cli.ExitCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Where distributions install the systemd EFI stub. */
final class Stubs {
    private Stubs() {
    }

    static Path defaultStub() {
        return find("linux");
    }

    /** systemd's add-on stub (addon&lt;arch&gt;.efi.stub, systemd 254 and later; Debian 12's 252 has none). */
    static Path defaultAddonStub() {
        return find("addon");
    }

    private static Path find(String kind) {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String efiArch = switch (arch) {
            case "amd64", "x86_64" -> "x64";
            case "aarch64", "arm64" -> "aa64";
            case "riscv64" -> "riscv64";
            case "loongarch64" -> "loongarch64";
            default -> throw new CairnException(ExitCode.BAD_INPUT, "no default systemd stub for architecture " + arch + "; use --stub");
        };
        for (String dir : new String[] {"/usr/lib/systemd/boot/efi", "/usr/local/lib/systemd/boot/efi"}) {
            Path p = Path.of(dir, kind + efiArch + ".efi.stub");
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new CairnException(ExitCode.BAD_INPUT, "no systemd EFI stub at /usr/lib/systemd/boot/efi/" + kind + efiArch
                + ".efi.stub: install it (Debian/Ubuntu: apt-get install systemd-boot-efi; Fedora: systemd-boot-unsigned"
                + (kind.equals("addon") ? "; the add-on stub needs systemd 254 or later" : "") + ") or pass --stub");
    }
}
