package dev.cairn.pipeline.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.pipeline.PipelineException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How {@code cairn boot}'s TARGET becomes a {@link BootTarget}. */
class BootTargetTest {
    @TempDir
    Path dir;

    static byte[] gptDisk() {
        byte[] b = new byte[1024];
        System.arraycopy("EFI PART".getBytes(StandardCharsets.US_ASCII), 0, b, 512, 8);
        b[510] = 0x55;
        b[511] = (byte) 0xaa;
        return b;
    }

    Path devVars(Path set) throws IOException {
        Path vars = set.resolve(BootTarget.DEV_VARS);
        Files.createDirectories(vars.getParent());
        return Files.write(vars, new byte[16]);
    }

    @Test
    void anOutputDirectoryWithADiskImageBootsTheDiskAlone() throws IOException {
        Files.write(dir.resolve("cairn-example.efi"), "MZ".getBytes(StandardCharsets.US_ASCII));
        Files.write(dir.resolve(BootTarget.ROOTFS), new byte[4096]);
        Path disk = Files.write(dir.resolve(BootTarget.DISK_IMAGE), gptDisk());
        Path vars = devVars(dir);
        BootTarget t = BootTarget.resolve(dir);
        assertThat(t).isEqualTo(new BootTarget(BootTarget.Kind.DISK_IMAGE, disk, List.of(), vars));
        assertThat(t.describe()).isEqualTo("disk image " + disk);
    }

    @Test
    void anOutputDirectoryWithoutADiskImageBootsItsUkiWithTheRootAsVda() throws IOException {
        Path uki = Files.write(dir.resolve("cairn-example.efi"), "MZ".getBytes(StandardCharsets.US_ASCII));
        Path rootfs = Files.write(dir.resolve(BootTarget.ROOTFS), new byte[4096]);
        BootTarget t = BootTarget.resolve(dir);
        assertThat(t).isEqualTo(new BootTarget(BootTarget.Kind.UKI, uki, List.of(rootfs), null));
        assertThat(t.describe()).isEqualTo("UKI " + uki + ", " + rootfs + " as /dev/vda");
        assertThat(BootTarget.resolve(dir).devVars()).isNull();
        Path vars = devVars(dir);
        assertThat(BootTarget.resolve(dir).devVars()).isEqualTo(vars);
    }

    @Test
    void aDirectoryWithNoneOrSeveralUkisIsRefused() throws IOException {
        assertThatThrownBy(() -> BootTarget.resolve(dir)).isInstanceOfSatisfying(PipelineException.class,
                e -> assertThat(e.kind()).isEqualTo(PipelineException.Kind.BAD_INPUT)).hasMessageContaining("no *.efi UKI");
        Files.write(dir.resolve("a.efi"), new byte[2]);
        Files.write(dir.resolve("b.efi"), new byte[2]);
        assertThatThrownBy(() -> BootTarget.resolve(dir)).isInstanceOf(PipelineException.class)
                .hasMessageContaining("2 *.efi files (a.efi, b.efi)");
    }

    @Test
    void aFileIsAUkiOrADiskImageByItsFirstBytes() throws IOException {
        Path set = Files.createDirectory(dir.resolve("out"));
        Path vars = devVars(set);
        Path uki = Files.write(set.resolve("x.efi"), "MZ\0\0".getBytes(StandardCharsets.US_ASCII));
        assertThat(BootTarget.resolve(uki)).isEqualTo(new BootTarget(BootTarget.Kind.UKI, uki, List.of(), vars));
        Path disk = Files.write(set.resolve("disk.raw"), gptDisk());
        assertThat(BootTarget.resolve(disk)).isEqualTo(new BootTarget(BootTarget.Kind.DISK_IMAGE, disk, List.of(), vars));
        byte[] mbr = new byte[512];
        mbr[510] = 0x55;
        mbr[511] = (byte) 0xaa;
        assertThat(BootTarget.resolve(Files.write(dir.resolve("mbr.img"), mbr)).kind()).isEqualTo(BootTarget.Kind.DISK_IMAGE);
        byte[] gpt4k = new byte[8192];
        System.arraycopy("EFI PART".getBytes(StandardCharsets.US_ASCII), 0, gpt4k, 4096, 8);
        assertThat(BootTarget.resolve(Files.write(dir.resolve("4k.img"), gpt4k)).kind()).isEqualTo(BootTarget.Kind.DISK_IMAGE);
        Path squashfs = Files.write(dir.resolve("rootfs.img"), "hsqs".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> BootTarget.resolve(squashfs)).isInstanceOf(PipelineException.class)
                .hasMessage(squashfs + ": neither a UKI (no MZ header) nor a disk image (no GPT header, no MBR boot signature)");
        assertThatThrownBy(() -> BootTarget.resolve(dir.resolve("nope"))).isInstanceOf(PipelineException.class)
                .hasMessage(dir.resolve("nope") + ": no such file or directory");
    }

    @Test
    void aDiskImageBootsAlone() {
        assertThatThrownBy(() -> new BootTarget(BootTarget.Kind.DISK_IMAGE, dir.resolve("d"), List.of(dir.resolve("e")), null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
