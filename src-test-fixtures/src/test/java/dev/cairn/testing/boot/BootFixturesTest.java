package dev.cairn.testing.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.testing.ToolOracle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The boot fixtures' pure parts: kernel series, section layout, the /init script (console classification is the product's: SecureBootMachineTest). */
class BootFixturesTest {
    @TempDir
    Path dir;

    @Test
    void kernelSeriesAreKeptApart() {
        List<Path> boot = List.of(Path.of("/boot/vmlinuz-6.1.0-9-amd64"), Path.of("/boot/vmlinuz-6.1.0-10-amd64"),
                Path.of("/boot/vmlinuz-6.12.117+deb12-amd64"), Path.of("/boot/vmlinuz-6.12.99+deb12-amd64"),
                Path.of("/boot/config-6.1.0-56-amd64"), Path.of("/boot/vmlinuz-6.10.1-amd64"));
        assertThat(DebianBootFiles.newestOfSeries(boot, "6.1")).contains(Path.of("/boot/vmlinuz-6.1.0-10-amd64"));
        assertThat(DebianBootFiles.newestOfSeries(boot, "6.12")).contains(Path.of("/boot/vmlinuz-6.12.117+deb12-amd64"));
        assertThat(DebianBootFiles.newestOfSeries(boot, "6.13")).isEmpty();
    }

    @Test
    void sectionsAreLaidOutAlignedAndDisjoint() throws IOException {
        Path a = Files.write(dir.resolve("a"), new byte[0x1001]);
        Path b = Files.write(dir.resolve("b"), new byte[5]);
        List<ObjcopyUki.Placement> p = ObjcopyUki.layout(0x19134, List.of(new ObjcopyUki.Section(".osrel", a), new ObjcopyUki.Section(".linux", b)));
        assertThat(p).containsExactly(new ObjcopyUki.Placement(".osrel", 0x1a000, 0x1001), new ObjcopyUki.Placement(".linux", 0x1c000, 5));
    }

    @Test
    void debianStubEndsWhereTheReferenceSays() {
        Path stub = ToolOracle.requireFile(ObjcopyUki.DEBIAN_STUB, "systemd-boot-efi");
        // .sdmagic at 0x19100, VirtualSize 0x34 (reference §2.7).
        assertThat(ObjcopyUki.firstFreeAddress(stub)).isEqualTo(0x19134L);
    }

    @Test
    void initScriptIsValidShellAndPrintsTheMarkers() throws IOException {
        String init = BusyboxInitramfs.initScript();
        assertThat(init).startsWith("#!/bin/sh\n").contains("echo " + BusyboxInitramfs.MARKER).contains("poweroff -f")
                .contains("/sys/class/tpm/tpm0/pcr-sha256/11");
        Path f = Files.writeString(dir.resolve("init"), init);
        ToolOracle.require("sh", "dash").runOk("-n", f.toString());
    }

    @Test
    void recognisesDynamicExecutables() {
        Path sh = ToolOracle.requireFile(Path.of("/bin/ls"), "coreutils");
        assertThat(BusyboxInitramfs.interpreter(sh)).hasValueSatisfying(i -> assertThat(i).contains("ld-linux"));
    }
}
